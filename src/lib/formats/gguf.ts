/**
 * GGUF header parser: reads a GGUF file's metadata and tensor infos through a ByteSource — only the header, fetched
 * in growing windows, never the weights — and turns them into a ModelDescriptor (gguf-descriptor.ts).
 *
 * Format (ggml docs/gguf.md): magic "GGUF", u32 version, tensor count, metadata KV count, the KVs (key string, u32
 * value type, value), the tensor infos (name, u32 n_dims, dims, u32 ggml type, u64 offset relative to the data
 * section), then padding to `general.alignment` (default 32) and the tensor data. Version 1 wrote counts, string
 * and array lengths and dims as u32; versions 2 and 3 as u64 (v3 only added big-endian files). A big-endian file
 * is recognised the way llama.cpp explains its own error for it: the version read little-endian has its low 16
 * bits zero.
 *
 * Untrusted input: every count and length is checked against the limits below and against the bytes the file still
 * has before anything is allocated or fetched for it, so a damaged or hostile header ends in an RbeeError within
 * bounded time and memory.
 */
import { RbeeError } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';
import type { GgufValue, ModelDescriptor, TensorInfo } from './descriptor.ts';
import { ggmlType, ggmlTensorBytes } from './ggml-types.ts';
import { GgufReader } from './gguf-reader.ts';
import { ggufDescriptor } from './gguf-descriptor.ts';

// ---- Safety limits (each far above anything a real model has, far below what would hurt a browser tab) ----------
/** Metadata KVs: real models have 20–60; a quantized model with per-layer arrays a few hundred. */
export const MAX_KV_COUNT = 1 << 16;
/** Tensors per file: the largest MoE models have a few thousand per split part. */
export const MAX_TENSOR_COUNT = 1 << 20;
/** Bytes of one string: the longest real strings are chat templates (tens of KB). */
export const MAX_STRING_BYTES = 16 << 20;
/** Items of one array: vocabularies reach 262,144 tokens (Gemma 3), merge lists ~450k (Llama 4). */
export const MAX_ARRAY_LENGTH = 1 << 22;
/** Items of all arrays together (each becomes a JS value): a big vocabulary's arrays total ~1.5M. */
export const MAX_METADATA_ITEMS = 1 << 23;
/** Items of an array of arrays: real files use them for short per-layer lists. */
export const MAX_NESTED_ARRAY_LENGTH = 1 << 16;
/** Arrays of arrays: real files nest at most one level; a bound keeps recursion shallow. */
export const MAX_ARRAY_NESTING = 8;
/** Tensor dimensions: ggml's GGML_MAX_DIMS; llama.cpp rejects more. */
export const MAX_TENSOR_DIMS = 4;
/** Bytes of one tensor name: ggml allows 63; a generous bound still catches garbage. */
export const MAX_TENSOR_NAME_BYTES = 1024;
/** Elements of one tensor: counts must stay exact in a JS number. */
export const MAX_TENSOR_ELEMENTS = Number.MAX_SAFE_INTEGER;
/** Whole header (metadata + tensor infos): the largest real headers are ~10 MB (big vocabularies with merges). */
export const MAX_HEADER_BYTES = 64 << 20;
/** general.alignment: a power of two up to 1 GiB (llama.cpp writes 32; some tools 64 or 4096). */
export const MAX_ALIGNMENT = 1 << 30;
/** Parts of a split model (the name format allows 99999; real ones have tens). */
export const MAX_SPLIT_COUNT = 4096;

export const GGUF_DEFAULT_ALIGNMENT = 32;

/** GGUF metadata value type ids (gguf.h enum gguf_type). */
export const GGUF_VALUE_TYPES = [
  'u8',
  'i8',
  'u16',
  'i16',
  'u32',
  'i32',
  'f32',
  'bool',
  'string',
  'array',
  'u64',
  'i64',
  'f64',
] as const;
export type GgufValueTypeName = (typeof GGUF_VALUE_TYPES)[number];
const FIXED_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const T_STRING = 8;
const T_ARRAY = 9;

export interface GgufHeader {
  version: number;
  littleEndian: boolean;
  alignment: number;
  tensorCount: number;
  metadata: Record<string, GgufValue>;
  /** The GGUF type of each metadata value ('u32', 'string', 'array<string>', 'array<array<u8>>'). */
  metadataTypes: Record<string, string>;
  tensors: TensorInfo[];
  /** Absolute offset of the tensor data section. */
  dataOffset: number;
  /** Bytes of header: magic through the last tensor info (before alignment padding). */
  headerBytes: number;
  fileSize: number;
  warnings: string[];
  /**
   * Damage that leaves the header readable but the file unloadable: llama.cpp's gguf_init refuses a file with a
   * metadata key written twice ("duplicate key"), so we read on, keep the first value, and say why it does not run.
   */
  defects: string[];
  /** What reading the header cost: bytes fetched and reads (requests) made. */
  fetched: { bytes: number; requests: number };
}

export interface ReadGgufOptions {
  /** Opens another part of a split model by file name (`name-00002-of-00003.gguf`); undefined when absent. */
  openSplit?: (fileName: string) => Promise<ByteSource | undefined> | ByteSource | undefined;
  signal?: AbortSignal;
  /** First window to fetch (default 1 MiB). */
  initialRead?: number;
}

/** What the first bytes of a file say: a GGUF, a legacy GGML-family file, or neither. Needs 4 bytes. */
export function sniffGgufMagic(bytes: Uint8Array): 'gguf' | 'legacy-ggml' | undefined {
  if (bytes.byteLength < 4) return undefined;
  const magic = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!);
  if (magic === 'GGUF') return 'gguf';
  // ggml.h's old magics (ggml, ggmf, ggjt, ggla, ggsn) as u32, so little-endian files start with them reversed.
  if (/^(lmgg|fmgg|tjgg|algg|nsgg|ggml|ggmf|ggjt|ggla|ggsn)$/.test(magic)) return 'legacy-ggml';
  return undefined;
}

/** Reads a GGUF model — all parts of a split one — into a ModelDescriptor. */
export async function readGguf(source: ByteSource, opts: ReadGgufOptions = {}): Promise<ModelDescriptor> {
  const first = await parseGgufHeader(source, opts);
  const parts = await readSplitParts(source, first, opts);
  return ggufDescriptor(parts);
}

export const SPLIT_NAME = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;

export function splitPartName(prefix: string, index: number, count: number): string {
  return `${prefix}-${String(index + 1).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.gguf`;
}

async function readSplitParts(
  source: ByteSource,
  header: GgufHeader,
  opts: ReadGgufOptions,
): Promise<{ source: ByteSource; header: GgufHeader }[]> {
  const countValue = header.metadata['split.count'];
  const nameMatch = SPLIT_NAME.exec(source.name);
  const count = typeof countValue === 'number' ? countValue : nameMatch && Number(nameMatch[3]) > 1 ? Number(nameMatch[3]) : 1;
  if (count <= 1) return [{ source, header }];
  if (!Number.isInteger(count) || count > MAX_SPLIT_COUNT) {
    throw new RbeeError('bad-value', `split.count is ${String(countValue)}, not a plausible number of parts.`);
  }
  const noValue = header.metadata['split.no'];
  const thisNo = typeof noValue === 'number' ? noValue : nameMatch ? Number(nameMatch[2]) - 1 : 0;
  const prefix = nameMatch?.[1];
  if (prefix === undefined) {
    throw new RbeeError('split-missing', `${source.name} is part ${thisNo + 1} of a ${count}-part model, but its name does not say what the other parts are called.`, {
      hint: 'Keep the llama.cpp split names (model-00001-of-00003.gguf) and open all parts together.',
    });
  }
  const parts: { source: ByteSource; header: GgufHeader }[] = [];
  for (let i = 0; i < count; i++) {
    if (i === thisNo) {
      parts.push({ source, header });
      continue;
    }
    const name = splitPartName(prefix, i, count);
    let part: ByteSource | undefined;
    try {
      part = await opts.openSplit?.(name);
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'not-found') throw e;
    }
    if (!part) {
      throw new RbeeError('split-missing', `${source.name} is one of ${count} parts; part ${i + 1} (${name}) is missing.`, {
        hint: `Open all ${count} parts together (select them all, or give the first part's URL with the others beside it).`,
      });
    }
    const partHeader = await parseGgufHeader(part, opts);
    const no = partHeader.metadata['split.no'];
    if (partHeader.metadata['split.count'] !== count || (no !== undefined && no !== i)) {
      throw new RbeeError('bad-value', `${name} is not part ${i + 1} of ${count} of this model (it says split ${String(no)} of ${String(partHeader.metadata['split.count'])}).`, {
        hint: 'The parts come from different models or different splits; download matching parts.',
      });
    }
    parts.push({ source: part, header: partHeader });
  }
  return parts;
}

// ---- The header ------------------------------------------------------------------------------------------------

function err(code: 'truncated' | 'limit-exceeded' | 'bad-value' | 'bad-offset', message: string): RbeeError {
  const hints: Record<string, string> = {
    truncated: 'The file is incomplete or damaged: download it again.',
    'limit-exceeded': 'No real model has this; the file is probably damaged.',
    'bad-value': 'The file is damaged or was written by a broken tool; download or convert it again.',
    'bad-offset': 'The file is damaged or was written by a broken tool; download or convert it again.',
  };
  return new RbeeError(code, message, { hint: hints[code] });
}

/** Parses one GGUF file's header (no split handling). */
export async function parseGgufHeader(source: ByteSource, opts: ReadGgufOptions = {}): Promise<GgufHeader> {
  // Parse progress, for the reader's estimate of how much header is still to come.
  const progress = {
    kvLeft: 0,
    tensorsLeft: 0,
    tensorInfoStart: -1,
    tensorsDone: 0,
    array: undefined as { count: number; done: number; start: number; minItem: number; key: string } | undefined,
    seen: new Set<string>(),
    vocab: 0,
    tokenBytes: 0,
    tokenizerModel: '',
  };
  let lenSize = 8; // 4 in GGUF v1; set once the version is known
  const r: GgufReader = new GgufReader(source, {
    initialRead: opts.initialRead,
    signal: opts.signal,
    maxHeaderBytes: MAX_HEADER_BYTES,
    estimateRemaining: () => estimateRemaining(r, progress, lenSize),
  });
  await r.open();
  if (r.size < 4) throw err('truncated', `${source.name} is ${r.size} bytes long: too short to be a model.`);
  await r.ensure(4, 'the magic');
  const kind = sniffGgufMagic(r.bytes(4));
  if (kind === 'legacy-ggml') {
    throw new RbeeError('legacy-ggml', `${source.name} is in the old GGML/GGJT format, which was replaced by GGUF in 2023 and is not supported.`, {
      hint: "Convert it to GGUF with llama.cpp's convert_llama_ggml_to_gguf.py, or download a GGUF version of the model.",
    });
  }
  if (kind !== 'gguf') {
    throw new RbeeError('bad-magic', `${source.name} is not a GGUF file (it does not start with "GGUF").`, {
      hint: 'Open a .gguf or .safetensors model file.',
    });
  }
  await r.ensure(4, 'the version');
  const rawVersion = r.u32();
  r.littleEndian = (rawVersion & 0xffff) !== 0;
  const version = r.littleEndian ? rawVersion : ((rawVersion >>> 24) | ((rawVersion >>> 8) & 0xff00)) >>> 0;
  if (version < 1 || version > 3) {
    throw new RbeeError('unsupported-version', `${source.name} is GGUF version ${version}; versions 1 to 3 are supported.`, {
      hint: 'Use a GGUF file written by a current llama.cpp.',
    });
  }
  lenSize = version === 1 ? 4 : 8;
  // `what` is a function so the hot loops build no message string unless there is an error to report.
  const readLen = (what: () => string): number => {
    const v = lenSize === 4 ? r.u32() : r.u64();
    if (typeof v === 'bigint') throw err('limit-exceeded', `${what()} is ${v}, past any real size.`);
    return v;
  };

  await r.ensure(2 * lenSize, 'the header counts');
  const tensorCount = readLen(() => 'The tensor count');
  const kvCount = readLen(() => 'The metadata count');
  if (tensorCount > MAX_TENSOR_COUNT) throw err('limit-exceeded', `The file declares ${tensorCount} tensors (limit ${MAX_TENSOR_COUNT}).`);
  if (kvCount > MAX_KV_COUNT) throw err('limit-exceeded', `The file declares ${kvCount} metadata entries (limit ${MAX_KV_COUNT}).`);
  // Smallest possible KV: empty key (length only), u32 type, 1-byte value. Smallest tensor info: empty name, 0 dims,
  // type, offset.
  const minKv = lenSize + 4 + 1;
  const minTensor = lenSize + 4 + 4 + 8;
  if (kvCount * minKv + tensorCount * minTensor > r.remaining) {
    throw err('truncated', `The file declares ${kvCount} metadata entries and ${tensorCount} tensors, more than its ${r.size} bytes can hold.`);
  }
  progress.kvLeft = kvCount;
  progress.tensorsLeft = tensorCount;

  const readString = async (what: string, atLeast = 0, maxBytes = MAX_STRING_BYTES): Promise<string> => {
    if (r.available < lenSize) await r.ensure(lenSize, what, lenSize + atLeast);
    const len = readLen(() => `The length of ${what}`);
    if (len > maxBytes) throw err('limit-exceeded', `${what} is ${len} bytes long (limit ${maxBytes}).`);
    if (r.available < len) await r.ensure(len, what, len + atLeast);
    return r.string(len);
  };

  let items = 0; // array items read so far, against MAX_METADATA_ITEMS
  const typeName = (type: number): string => GGUF_VALUE_TYPES[type] ?? `unknown(${type})`;

  const readValue = async (type: number, what: string, depth: number): Promise<{ value: GgufValue; type: string }> => {
    const fixed = FIXED_SIZE[type];
    if (fixed !== undefined) {
      if (r.available < fixed) await r.ensure(fixed, what);
      return { value: readScalar(r, type), type: typeName(type) };
    }
    if (type === T_STRING) return { value: await readString(what), type: 'string' };
    if (type !== T_ARRAY) throw err('bad-value', `${what} has value type ${type}, which GGUF does not define.`);
    if (depth >= MAX_ARRAY_NESTING) throw err('limit-exceeded', `${what} nests arrays more than ${MAX_ARRAY_NESTING} deep.`);
    if (r.available < 4 + lenSize) await r.ensure(4 + lenSize, what);
    const itemType = r.u32();
    const count = readLen(() => `The length of ${what}`);
    const itemFixed = FIXED_SIZE[itemType];
    const minItem = itemFixed ?? (itemType === T_STRING ? lenSize : itemType === T_ARRAY ? 4 + lenSize : 0);
    if (minItem === 0) throw err('bad-value', `${what} is an array of value type ${itemType}, which GGUF does not define.`);
    const limit = itemType === T_ARRAY ? MAX_NESTED_ARRAY_LENGTH : MAX_ARRAY_LENGTH;
    if (count > limit) throw err('limit-exceeded', `${what} has ${count} items (limit ${limit}).`);
    items += count;
    if (items > MAX_METADATA_ITEMS) throw err('limit-exceeded', `The metadata arrays hold more than ${MAX_METADATA_ITEMS} items in all.`);
    if (count * minItem > r.remaining) {
      throw err('truncated', `${what} declares ${count} items, more than the rest of the file (${r.remaining} bytes) can hold.`);
    }
    const out: GgufValue[] = [];
    const itemWhat = (): string => `The length of an item of ${what}`;
    let innerType = typeName(itemType);
    const outer = depth === 0 ? (progress.array = { count, done: 0, start: r.pos, minItem, key: what }) : undefined;
    if (itemFixed !== undefined) {
      await r.ensure(count * itemFixed, what);
      for (let i = 0; i < count; i++) out.push(readScalar(r, itemType));
    } else if (itemType === T_STRING) {
      for (let i = 0; i < count; i++) {
        if (r.available < lenSize) {
          if (outer) outer.done = i;
          await r.ensure(lenSize, what, (count - i) * lenSize);
        }
        const len = readLen(itemWhat);
        if (len > MAX_STRING_BYTES) throw err('limit-exceeded', `An item of ${what} is ${len} bytes long (limit ${MAX_STRING_BYTES}).`);
        if (r.available < len) {
          if (outer) outer.done = i;
          await r.ensure(len, what, len + (count - i - 1) * lenSize);
        }
        out.push(r.string(len));
      }
    } else {
      for (let i = 0; i < count; i++) {
        if (outer) outer.done = i;
        const item = await readValue(T_ARRAY, `an item of ${what}`, depth + 1);
        out.push(item.value);
        innerType = item.type;
      }
    }
    if (outer) progress.array = undefined;
    return { value: out, type: `array<${innerType}>` };
  };

  const metadata: Record<string, GgufValue> = Object.create(null) as Record<string, GgufValue>;
  const metadataTypes: Record<string, string> = Object.create(null) as Record<string, string>;
  const warnings: string[] = [];
  const defects: string[] = [];
  for (let i = 0; i < kvCount; i++) {
    progress.kvLeft = kvCount - i;
    const key = await readString(`metadata key ${i + 1}`, 5);
    if (r.available < 4) await r.ensure(4, `the type of ${key}`);
    const type = r.u32();
    const tokensStart = r.pos;
    const { value, type: vt } = await readValue(type, `metadata "${key}"`, 0);
    if (key in metadata) {
      // Still readable (the value is skipped; the first one stays), but llama.cpp will not load it.
      const defect = `The metadata key "${key}" is written twice; llama.cpp refuses to load a file with a duplicate key.`;
      if (!defects.includes(defect)) {
        defects.push(defect);
        warnings.push(`${defect} The first value is shown; re-convert or re-download the model.`);
      }
      continue;
    }
    metadata[key] = value;
    metadataTypes[key] = vt;
    progress.seen.add(key);
    if (key === 'tokenizer.ggml.model' && typeof value === 'string') progress.tokenizerModel = value;
    if (key === 'tokenizer.ggml.tokens' && Array.isArray(value)) {
      progress.vocab = value.length;
      progress.tokenBytes = r.pos - tokensStart;
    }
  }
  progress.kvLeft = 0;

  const alignment = readAlignment(metadata['general.alignment']);

  // Tensor infos.
  progress.tensorInfoStart = r.pos;
  const raw: { name: string; dims: number[]; type: number; rel: number }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    progress.tensorsDone = i;
    const what = `tensor info ${i + 1}`;
    const name = await readString(`the name of ${what}`, 4 + 4 + 8 + (tensorCount - i - 1) * minTensor, MAX_TENSOR_NAME_BYTES);
    if (r.available < 4) await r.ensure(4, what);
    const nDims = r.u32();
    if (nDims > MAX_TENSOR_DIMS) throw err('limit-exceeded', `Tensor "${name}" has ${nDims} dimensions (ggml allows ${MAX_TENSOR_DIMS}).`);
    const need = nDims * lenSize + 4 + 8;
    if (r.available < need) await r.ensure(need, what);
    const dims: number[] = [];
    let elements = 1;
    for (let d = 0; d < nDims; d++) {
      const n = readLen(() => `Dimension ${d} of tensor "${name}"`);
      dims.push(n);
      elements *= n;
    }
    if (elements > MAX_TENSOR_ELEMENTS) throw err('limit-exceeded', `Tensor "${name}" has ${elements} elements, too many to count exactly.`);
    const type = r.u32();
    const rel = r.u64();
    if (typeof rel === 'bigint') throw err('bad-offset', `Tensor "${name}" has data offset ${rel}, outside the file.`);
    raw.push({ name, dims, type, rel });
  }
  const headerBytes = r.pos;
  const dataOffset = Math.ceil(headerBytes / alignment) * alignment;

  const names = new Set<string>();
  const tensors: TensorInfo[] = [];
  const unknownTypes = new Set<number>();
  for (const t of raw) {
    if (names.has(t.name)) {
      throw new RbeeError('duplicate-tensor', `The tensor "${t.name}" appears twice.`, {
        hint: 'The file is damaged or was written by a broken tool; download or convert it again.',
      });
    }
    names.add(t.name);
    const info = ggmlType(t.type);
    const elements = t.dims.reduce((a, b) => a * b, 1);
    if (info && !info.removed && elements % info.blockSize !== 0) {
      throw err('bad-value', `Tensor "${t.name}" has ${elements} elements, not a whole number of ${info.name} blocks of ${info.blockSize}.`);
    }
    const size = ggmlTensorBytes(t.type, elements);
    if (!info || info.removed) unknownTypes.add(t.type);
    if (t.rel % alignment !== 0) {
      throw err('bad-offset', `Tensor "${t.name}" starts at data offset ${t.rel}, not a multiple of the alignment ${alignment}.`);
    }
    const offset = dataOffset + t.rel;
    if (offset + (size ?? 0) > r.size) {
      throw err('bad-offset', `Tensor "${t.name}" (bytes ${offset}–${offset + (size ?? 0)}) lies outside the file (${r.size} bytes).`);
    }
    tensors.push({ name: t.name, dims: t.dims, type: t.type, typeName: info?.name ?? `unknown(${t.type})`, offset, size, file: 0 });
  }
  for (const id of unknownTypes) {
    const info = ggmlType(id);
    warnings.push(
      info?.removed
        ? `Some tensors use ${info.name} (type ${id}), a layout llama.cpp no longer supports: re-convert the model from its original weights.`
        : `Some tensors use ggml type ${id}, which is unknown here; their sizes cannot be computed.`,
    );
  }
  const byOffset = tensors.filter((t) => t.size !== undefined).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1]!;
    const cur = byOffset[i]!;
    if (prev.offset + prev.size! > cur.offset) {
      throw new RbeeError('overlapping-tensors', `Tensors "${prev.name}" and "${cur.name}" overlap in the file.`, {
        hint: 'The file is damaged or was written by a broken tool; download or convert it again.',
      });
    }
  }

  return {
    version,
    littleEndian: r.littleEndian,
    alignment,
    tensorCount,
    metadata,
    metadataTypes,
    tensors,
    dataOffset,
    headerBytes,
    fileSize: r.size,
    warnings,
    defects,
    fetched: { bytes: r.fetched, requests: r.requests },
  };
}

function readScalar(r: GgufReader, type: number): number | bigint | boolean {
  switch (type) {
    case 0:
      return r.u8();
    case 1:
      return r.i8();
    case 2:
      return r.u16();
    case 3:
      return r.i16();
    case 4:
      return r.u32();
    case 5:
      return r.i32();
    case 6:
      return r.f32();
    case 7:
      return r.u8() !== 0;
    case 10:
      return r.u64();
    case 11:
      return r.i64();
    default:
      return r.f64();
  }
}

function readAlignment(value: GgufValue | undefined): number {
  if (value === undefined) return GGUF_DEFAULT_ALIGNMENT;
  const n = typeof value === 'bigint' ? Number.POSITIVE_INFINITY : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0 || n > MAX_ALIGNMENT || (n & (n - 1)) !== 0) {
    throw err('bad-value', `general.alignment is ${String(value)}; it must be a power of two between 1 and ${MAX_ALIGNMENT}.`);
  }
  return n;
}

/**
 * How many header bytes are still to come, estimated from what the parse has seen — used only to size the next
 * fetch (a low guess costs one more request, a high one some bytes past the header; never correctness). It models
 * how llama.cpp lays out a header: the vocabulary arrays (tokens, then scores / token types / merges of the same
 * length) dominate, then a few small KVs (the chat template is the largest), then ~80 bytes per tensor info.
 */
function estimateRemaining(
  r: GgufReader,
  p: {
    kvLeft: number;
    tensorsLeft: number;
    tensorInfoStart: number;
    tensorsDone: number;
    array: { count: number; done: number; start: number; minItem: number; key: string } | undefined;
    seen: Set<string>;
    vocab: number;
    tokenBytes: number;
    tokenizerModel: string;
  },
  lenSize: number,
): number {
  const TENSOR_INFO_GUESS = 80;
  if (p.tensorInfoStart >= 0) {
    const done = p.tensorsDone;
    const per = done > 0 ? (r.pos - p.tensorInfoStart) / done : TENSOR_INFO_GUESS;
    return Math.ceil((p.tensorsLeft - done) * per * 1.05);
  }
  let est = 0;
  let vocab = p.vocab;
  let perToken = vocab > 0 ? p.tokenBytes / vocab : 0;
  let kvLeft = p.kvLeft;
  const a = p.array;
  if (a) {
    const per = a.done > 0 ? (r.pos - a.start) / a.done : a.minItem + 8;
    est += (a.count - a.done) * per;
    kvLeft--;
    if (a.key === 'metadata "tokenizer.ggml.tokens"') {
      vocab = a.count;
      perToken = per;
    }
  }
  if (vocab > 0) {
    const pending = (key: string): boolean => !p.seen.has(key) && a?.key !== `metadata "${key}"`;
    const arrayHead = 4 + lenSize + lenSize + 24;
    // SentencePiece vocabularies carry scores; BPE ones merges (a merge spells a token with a space between parts).
    if (pending('tokenizer.ggml.scores') && p.tokenizerModel !== 'gpt2') {
      est += 4 * vocab + arrayHead;
      kvLeft--;
    }
    if (pending('tokenizer.ggml.token_type')) {
      est += 4 * vocab + arrayHead;
      kvLeft--;
    }
    if (pending('tokenizer.ggml.merges') && p.tokenizerModel === 'gpt2') {
      est += vocab * (perToken + 1) + arrayHead;
      kvLeft--;
    }
  }
  est += Math.max(0, kvLeft) * 64 + 32 * 1024; // small KVs, and room for a chat template
  est += p.tensorsLeft * TENSOR_INFO_GUESS;
  return Math.ceil(est * 1.1);
}
