/**
 * Weights on the GPU exactly as the GGUF file stores them — quantized blocks stay quantized and are decoded inside
 * the kernels. Each tensor is streamed from its ByteSource in chunks (queue.writeBuffer per chunk), so neither the
 * file nor a whole tensor is ever held in JS memory. A matrix larger than the device's storage-binding limit is cut
 * by rows into parts, each its own buffer and bound on its own.
 */
import { RbeeError, toRbeeError } from '../errors.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import type { TensorInfo } from '../formats/descriptor.ts';
import { rowBytes, type WeightFormat, weightFormat } from './kernels/weight-formats.ts';

/** Bytes read from the source and written to the GPU per step: large enough to amortise requests, small in memory. */
export const UPLOAD_CHUNK_BYTES = 8 << 20;
/**
 * Reads of one tensor in flight ahead of the one being written to the GPU: the source's latency (an HTTP Range
 * request, an IndexedDB read) overlaps the upload, several requests stay in flight for a URL, and memory stays bounded
 * (this many × UPLOAD_CHUNK_BYTES).
 */
const READS_AHEAD = 3;
/** Wait for the GPU to take what was written after this many bytes, so queued uploads never pile up in memory. */
const UPLOAD_FLUSH_BYTES = 128 << 20;

export interface WeightPart {
  buffer: GPUBuffer;
  firstRow: number;
  rows: number;
  /** Byte offset of the part in its buffer (non-zero for a matrix stacked with others, see stack()). */
  offset?: number;
}

/** Binding offsets of storage buffers must be multiples of this (the WebGPU default and most adapters' value). */
export const STACK_ALIGN = 256;

export interface WeightMatrix {
  name: string;
  format: WeightFormat;
  /** Row length (ne[0]) and row count (product of the other dims). */
  k: number;
  n: number;
  rowBytes: number;
  parts: WeightPart[];
}

export interface UploadCounter {
  bytes: number;
  tensors: number;
  report(): void;
  signal?: AbortSignal;
}

export class WeightUploader {
  private sinceFlush = 0;
  readonly buffers: GPUBuffer[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly sources: ByteSource[],
    private readonly maxBinding: number,
    private readonly counter: UploadCounter,
  ) {}

  /** A weight matrix (rows of ne[0] weights), split by rows when above the binding limit. */
  async matrix(t: TensorInfo): Promise<WeightMatrix> {
    const format = weightFormat(t.type, t.name);
    const k = t.dims[0]!;
    const n = t.dims.slice(1).reduce((a, b) => a * b, 1);
    if (k % format.blockElems !== 0 || k % 4 !== 0) {
      throw new RbeeError('bad-value', `${t.name} has rows of ${k} weights, not a whole number of ${format.name} blocks.`);
    }
    const rb = rowBytes(format, k);
    // Kernels may read one word past a part's last row (joined unaligned reads): keep 4 spare bytes.
    const rowsPerPart = Math.max(1, Math.floor((this.maxBinding - 16) / rb));
    const parts: WeightPart[] = [];
    for (let first = 0; first < n; first += rowsPerPart) {
      const rows = Math.min(rowsPerPart, n - first);
      const buffer = this.createBuffer(rows * rb, t.name);
      await this.stream(t, first * rb, rows * rb, buffer);
      parts.push({ buffer, firstRow: first, rows });
    }
    this.counter.tensors++;
    this.counter.report();
    return { name: t.name, format, k, n, rowBytes: rb, parts };
  }

  /**
   * Several matrices of one format and row length (q, k and v; gate and up) uploaded into one buffer, each at a
   * STACK_ALIGN-aligned offset: every matrix can still be bound on its own (prefill), and a fused decode kernel
   * binds the buffer once and reads all of them (stackedWith() tells whether two matrices share a buffer).
   * Matrices that differ in format or row length, or do not fit one binding together, are uploaded one by one.
   */
  async stack(tensors: TensorInfo[]): Promise<WeightMatrix[]> {
    const formats = tensors.map((t) => weightFormat(t.type, t.name));
    const k = tensors[0]!.dims[0]!;
    const sameShape = tensors.every((t, i) => t.dims[0] === k && formats[i]!.id === formats[0]!.id);
    const sizes = tensors.map((t, i) => rowBytes(formats[i]!, t.dims[0]!) * t.dims.slice(1).reduce((a, b) => a * b, 1));
    const offsets: number[] = [];
    let total = 0;
    for (const size of sizes) {
      offsets.push(total);
      total = Math.ceil((total + size) / STACK_ALIGN) * STACK_ALIGN;
    }
    if (!sameShape || tensors.length < 2 || total + 16 > this.maxBinding) {
      const out: WeightMatrix[] = [];
      for (const t of tensors) out.push(await this.matrix(t));
      return out;
    }
    const buffer = this.createBuffer(total, tensors.map((t) => t.name).join('+'));
    const out: WeightMatrix[] = [];
    for (const [i, t] of tensors.entries()) {
      const format = formats[i]!;
      if (k % format.blockElems !== 0 || k % 4 !== 0) {
        throw new RbeeError('bad-value', `${t.name} has rows of ${k} weights, not a whole number of ${format.name} blocks.`);
      }
      const n = t.dims.slice(1).reduce((a, b) => a * b, 1);
      await this.stream(t, 0, sizes[i]!, buffer, offsets[i]!);
      this.counter.tensors++;
      this.counter.report();
      out.push({ name: t.name, format, k, n, rowBytes: rowBytes(format, k), parts: [{ buffer, firstRow: 0, rows: n, offset: offsets[i]! }] });
    }
    return out;
  }

  /** A small tensor (norm weights, biases, rope factors) decoded to f32 on the CPU: F32, F16 or BF16. */
  async vector(t: TensorInfo): Promise<{ buffer: GPUBuffer; values: Float32Array }> {
    const n = t.dims.reduce((a, b) => a * b, 1);
    const bytes = await this.read(t, 0, t.size ?? n * 4);
    const values = new Float32Array(n);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) {
      if (t.type === 0) values[i] = view.getFloat32(i * 4, true);
      else if (t.type === 1) values[i] = halfToFloat(view.getUint16(i * 2, true));
      else if (t.type === 30) values[i] = bf16ToFloat(view.getUint16(i * 2, true));
      else {
        throw new RbeeError('unsupported-weight-type', `${t.name} is ${t.typeName}; the engine expects F32, F16 or BF16 there.`);
      }
    }
    const buffer = this.createBuffer(n * 4, t.name);
    this.device.queue.writeBuffer(buffer, 0, values);
    this.counter.bytes += bytes.byteLength;
    this.counter.tensors++;
    this.counter.report();
    return { buffer, values };
  }

  private createBuffer(size: number, label: string): GPUBuffer {
    const buffer = this.device.createBuffer({
      label,
      size: Math.ceil((size + 4) / 16) * 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    this.buffers.push(buffer);
    return buffer;
  }

  private async read(t: TensorInfo, offset: number, length: number): Promise<Uint8Array> {
    const source = this.sources[t.file];
    if (!source) throw new RbeeError('split-missing', `${t.name} lives in file ${t.file + 1}, which was not given.`);
    if (this.counter.signal?.aborted) throw new RbeeError('aborted', 'Loading was cancelled.');
    let bytes: Uint8Array;
    try {
      bytes = await source.read(t.offset + offset, length, this.counter.signal);
    } catch (e) {
      throw toRbeeError(e);
    }
    if (bytes.byteLength < length) {
      throw new RbeeError('truncated', `The file ends inside tensor ${t.name}.`, { hint: 'Download the file again.' });
    }
    return bytes;
  }

  /** Copies tensor bytes [from, from + length) to `buffer` at byte `at`, a chunk at a time. */
  private async stream(t: TensorInfo, from: number, length: number, buffer: GPUBuffer, at = 0): Promise<void> {
    const reads: Promise<Uint8Array>[] = [];
    let requested = 0;
    const requestMore = (): void => {
      while (reads.length < READS_AHEAD && requested < length) {
        const read = this.read(t, from + requested, Math.min(UPLOAD_CHUNK_BYTES, length - requested));
        // A read ahead that fails is reported when its turn comes (or not at all, if an earlier one failed first).
        read.catch(() => undefined);
        reads.push(read);
        requested += UPLOAD_CHUNK_BYTES;
      }
    };
    for (let done = 0; done < length; done += UPLOAD_CHUNK_BYTES) {
      const n = Math.min(UPLOAD_CHUNK_BYTES, length - done);
      requestMore();
      let chunk = await reads.shift()!;
      if (n % 4 !== 0) {
        const padded = new Uint8Array(Math.ceil(n / 4) * 4);
        padded.set(chunk);
        chunk = padded;
      }
      this.device.queue.writeBuffer(buffer, at + done, chunk as Uint8Array<ArrayBuffer>, 0, chunk.byteLength);
      this.counter.bytes += n;
      this.counter.report();
      this.sinceFlush += n;
      if (this.sinceFlush >= UPLOAD_FLUSH_BYTES) {
        this.sinceFlush = 0;
        await this.device.queue.onSubmittedWorkDone();
      }
    }
  }
}

/** Whether matrices `a` and `b` live in one buffer (one part each), so one binding reads both. */
export function stackedWith(a: WeightMatrix, b: WeightMatrix): boolean {
  return a.parts.length === 1 && b.parts.length === 1 && a.parts[0]!.buffer === b.parts[0]!.buffer && a.format.id === b.format.id && a.k === b.k;
}

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export function bf16ToFloat(b: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, b << 16);
  return v.getFloat32(0);
}
