/**
 * writeGguf: builds a valid GGUF file in memory, for tests, fuzzing, benchmarks and random-weight model fixtures.
 *
 *   const bytes = writeGguf({
 *     version: 3,              // 1 | 2 | 3 (default 3). v1 writes 32-bit counts, string/array lengths and dims.
 *     bigEndian: false,        // default false: every number (version included) in big-endian byte order
 *     alignment: 32,           // default 32; also written as general.alignment (u32) when not 32 unless you set it
 *     metadata: [
 *       ['general.architecture', { type: 'string', value: 'llama' }],
 *       ['llama.block_count', { type: 'u32', value: 2 }],
 *       ['llama.rope.freq_base', { type: 'f32', value: 10000 }],
 *       ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: ['<s>', 'a'] }],
 *       ['nested', { type: 'array', itemType: 'array', value: [{ type: 'array', itemType: 'u8', value: [1] }] }],
 *     ],
 *     tensors: [{ name: 'token_embd.weight', dims: [8, 2], type: 0, data: new Uint8Array(64) }],
 *   });
 *
 * Metadata entries are written in the order given (duplicates allowed, for error tests). Value types:
 *   'u8' 'i8' 'u16' 'i16' 'u32' 'i32' 'f32' 'bool' 'string' 'array' 'u64' 'i64' 'f64'
 * with `value` a number (u64/i64: number | bigint), boolean, string, or for 'array' an `itemType` and a list of
 * plain values — or, when itemType is 'array', a list of nested `{ type: 'array', itemType, value }` objects.
 *
 * Tensors: `dims` in ggml order (ne[0] first); `type` a ggml type id; `data` the tensor's bytes. Data offsets are
 * assigned in order, each padded to the alignment; the data section starts at the padded end of the tensor infos.
 * Pass `offset` on a tensor to force its (relative) offset, and `dataSize` instead of `data` for zero-filled data.
 * `omitData: true` writes the header (and padding) only — a header-only file whose tensor offsets point past its end.
 */

export type GgufScalarType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'bool' | 'string' | 'u64' | 'i64' | 'f64';
export type GgufItemType = GgufScalarType | 'array';

export type GgufTyped =
  | { type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64'; value: number }
  | { type: 'u64' | 'i64'; value: number | bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | GgufTypedArray;

export interface GgufTypedArray {
  type: 'array';
  itemType: GgufItemType;
  value: (number | bigint | boolean | string | GgufTypedArray)[];
}

export interface GgufWriterTensor {
  name: string;
  dims: number[];
  type: number;
  data?: Uint8Array;
  /** Bytes of data when `data` is not given (zero-filled). */
  dataSize?: number;
  /** Force this relative data offset (for error tests). */
  offset?: number;
}

export interface GgufWriterOptions {
  version?: 1 | 2 | 3;
  bigEndian?: boolean;
  alignment?: number;
  metadata: [string, GgufTyped][];
  tensors: GgufWriterTensor[];
  /** Write the header only, no tensor data. */
  omitData?: boolean;
  /** Magic bytes (default 'GGUF'), for error tests. */
  magic?: string;
}

export const GGUF_TYPE_IDS: Record<GgufItemType, number> = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
};

/** Growable byte buffer with typed little/big-endian writes. */
class ByteWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;
  constructor(
    private readonly le: boolean,
    private readonly wide: boolean,
  ) {}

  private ensure(n: number): void {
    if (this.length + n <= this.buf.byteLength) return;
    let cap = this.buf.byteLength * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.ensure(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  i8(v: number): void {
    this.ensure(1);
    this.view.setInt8(this.length, v);
    this.length += 1;
  }
  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.length, v, this.le);
    this.length += 2;
  }
  i16(v: number): void {
    this.ensure(2);
    this.view.setInt16(this.length, v, this.le);
    this.length += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, v, this.le);
    this.length += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.length, v, this.le);
    this.length += 4;
  }
  f32(v: number): void {
    this.ensure(4);
    this.view.setFloat32(this.length, v, this.le);
    this.length += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, v, this.le);
    this.length += 8;
  }
  u64(v: number | bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.length, BigInt(v), this.le);
    this.length += 8;
  }
  i64(v: number | bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.length, BigInt(v), this.le);
    this.length += 8;
  }
  /** A count or length: u32 in GGUF v1, u64 from v2 on. */
  size(v: number | bigint): void {
    if (this.wide) this.u64(v);
    else this.u32(Number(v));
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.byteLength);
    this.buf.set(b, this.length);
    this.length += b.byteLength;
  }
  string(s: string): void {
    const b = encoder.encode(s);
    this.size(b.byteLength);
    this.bytes(b);
  }
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.ensure(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }
  zeros(n: number): void {
    this.ensure(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const encoder = new TextEncoder();

function writeValue(w: ByteWriter, type: GgufItemType, value: unknown): void {
  switch (type) {
    case 'u8':
      return w.u8(value as number);
    case 'i8':
      return w.i8(value as number);
    case 'u16':
      return w.u16(value as number);
    case 'i16':
      return w.i16(value as number);
    case 'u32':
      return w.u32(value as number);
    case 'i32':
      return w.i32(value as number);
    case 'f32':
      return w.f32(value as number);
    case 'f64':
      return w.f64(value as number);
    case 'u64':
      return w.u64(value as number | bigint);
    case 'i64':
      return w.i64(value as number | bigint);
    case 'bool':
      return w.u8(value ? 1 : 0);
    case 'string':
      return w.string(value as string);
    case 'array': {
      const arr = value as GgufTypedArray;
      w.u32(GGUF_TYPE_IDS[arr.itemType]);
      w.size(arr.value.length);
      for (const item of arr.value) writeValue(w, arr.itemType, item);
      return;
    }
  }
}

export function writeGguf(options: GgufWriterOptions): Uint8Array {
  const version = options.version ?? 3;
  const le = !options.bigEndian;
  const alignment = options.alignment ?? 32;
  const w = new ByteWriter(le, version >= 2);
  w.bytes(encoder.encode(options.magic ?? 'GGUF'));
  w.u32(version);
  w.size(options.tensors.length);

  const metadata = [...options.metadata];
  if (alignment !== 32 && !metadata.some(([k]) => k === 'general.alignment')) {
    metadata.unshift(['general.alignment', { type: 'u32', value: alignment }]);
  }
  w.size(metadata.length);
  for (const [key, typed] of metadata) {
    w.string(key);
    w.u32(GGUF_TYPE_IDS[typed.type]);
    writeValue(w, typed.type, typed.type === 'array' ? typed : typed.value);
  }

  const sizes = options.tensors.map((t) => t.data?.byteLength ?? t.dataSize ?? 0);
  const offsets: number[] = [];
  let next = 0;
  for (const [i, t] of options.tensors.entries()) {
    w.string(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.size(d);
    w.u32(t.type);
    const offset = t.offset ?? next;
    offsets.push(offset);
    w.u64(offset);
    next = offset + sizes[i]!;
    next += (alignment - (next % alignment)) % alignment;
  }
  w.padTo(alignment);
  if (options.omitData) return w.result();

  const dataStart = w.length;
  let dataEnd = 0;
  for (const [i, offset] of offsets.entries()) dataEnd = Math.max(dataEnd, offset + sizes[i]!);
  w.zeros(dataEnd);
  const out = w.result();
  for (const [i, t] of options.tensors.entries()) if (t.data) out.set(t.data, dataStart + offsets[i]!);
  return out;
}
