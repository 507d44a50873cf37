/**
 * Browser side of bench/matvec.ts: builds a decode step's matrix-vector products (every matrix of a Llama shaped
 * like bench/decode.ts's generated models, each layer its own weight buffer so nothing stays in a CPU cache that a
 * real model would not) and runs them on the adapter by class (q, k, v, o, gate, up, down, output), or the whole set in
 * one pass as the engine encodes it, when bench/matvec.ts asks.
 */
import { GpuContext } from '../src/lib/engine/device.ts';
import { DECODE_MATVEC_FLAGS, DecodeMatvecKernels, type DecodeMatvecShape, packDecodeMatvecParams } from '../src/lib/engine/kernels/decode-matvec.ts';
import { rowBytes, weightFormat } from '../src/lib/engine/kernels/weight-formats.ts';
import { randomWeights } from '../tests/support/dequant-reference.ts';
import { seeded } from '../tests/support/seeded-random.ts';

export interface MatvecBenchConfig {
  type: number;
  dim: number;
  kvDim: number;
  ffn: number;
  vocab: number;
  layers: number;
  /** The decode matvec's shape (decode-matvec.ts); default the one the engine picks for this adapter. */
  shape?: DecodeMatvecShape;
  /**
   * Instead of a decode step's classes: one rows × k matrix, in `copies` buffers (so the set does not fit in a CPU
   * cache when the matrix alone would), as one class 'matrix' (the per-type microbenchmark).
   */
  square?: { rows: number; k: number; copies: number };
}

export interface MatvecBenchSetup {
  adapter: string;
  shape: DecodeMatvecShape;
  timestampQuery: boolean;
  packedDot: boolean;
  classes: string[];
  weightBytes: number;
}

declare global {
  interface Window {
    matvecSetup(c: MatvecBenchConfig): Promise<MatvecBenchSetup>;
    /** Runs one class's dispatches (or 'all') once in one pass; resolves with the wall milliseconds. */
    matvecRun(name: string): Promise<number>;
    matvecClose(): void;
  }
}

let classes: Map<string, ((pass: GPUComputePassEncoder) => void)[]>;
let ctx: GpuContext;

window.matvecSetup = async (c) => {
  ctx = await GpuContext.open();
  const device = ctx.device;
  // The decode graph's fused matvec in its plain mode (o and down use it so), in the adapter's shape.
  const shape = c.shape ?? DecodeMatvecKernels.shapeFor(ctx.caps, ctx.caps.architecture === 'swiftshader');
  const kernels = new DecodeMatvecKernels(device, ctx.caps, shape);
  const format = weightFormat(c.type);
  const shapes: [string, number, number, number][] = c.square ? [['matrix', c.square.rows, c.square.k, c.square.copies]] : [
    ['q', c.dim, c.dim, c.layers],
    ['k', c.kvDim, c.dim, c.layers],
    ['v', c.kvDim, c.dim, c.layers],
    ['o', c.dim, c.dim, c.layers],
    ['gate', c.ffn, c.dim, c.layers],
    ['up', c.ffn, c.dim, c.layers],
    ['down', c.dim, c.ffn, c.layers],
    ['output', c.vocab, c.dim, 1],
  ];
  const rand = seeded(11);
  const maxK = Math.max(...shapes.map(([, , k]) => k));
  const maxRows = Math.max(...shapes.map(([, rows]) => rows));
  const x = device.createBuffer({ size: maxK * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(x, 0, Float32Array.from({ length: maxK }, () => rand() * 2 - 1));
  const y = device.createBuffer({ size: maxRows * 4, usage: GPUBufferUsage.STORAGE });
  const step = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(step, 0, new Uint32Array([0, 1, 0, 0]));
  let weightBytes = 0;
  classes = new Map();
  for (const [name, rows, k, count] of shapes) {
    const rb = rowBytes(format, k);
    // One random matrix per class, copied into a buffer per layer.
    const bytes = randomWeights(c.type, k, rows, rand);
    const units = k / format.unitElems;
    const params = device.createBuffer({ size: 64, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(params, 0, packDecodeMatvecParams({ rows, units, rowBytes: rb, k, flags: DECODE_MATVEC_FLAGS.ACCUMULATE }));
    const encode: ((pass: GPUComputePassEncoder) => void)[] = [];
    for (let l = 0; l < count; l++) {
      const w = device.createBuffer({ size: Math.ceil((bytes.byteLength + 4) / 16) * 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(w, 0, bytes);
      weightBytes += bytes.byteLength;
      // No norm folded in: the norm-weight binding is any buffer.
      const group = kernels.bind('plain', [{ buffer: w }, { buffer: x }, { buffer: x }, { buffer: y }, { buffer: params }, { buffer: step }]);
      encode.push((pass) => kernels.encode(pass, format, 'plain', false, group, rows, units));
    }
    classes.set(name, encode);
    await device.queue.onSubmittedWorkDone();
  }
  if (!c.square) classes.set('all', [...classes.values()].flat());
  // Compile every pipeline before anything is timed.
  await window.matvecRun(c.square ? 'matrix' : 'all');
  const adapter = await navigator.gpu.requestAdapter();
  return {
    adapter: `${ctx.caps.vendor} ${ctx.caps.architecture}`,
    shape,
    timestampQuery: adapter?.features.has('timestamp-query') ?? false,
    packedDot: navigator.gpu.wgslLanguageFeatures?.has('packed_4x8_integer_dot_product') ?? false,
    classes: [...classes.keys()],
    weightBytes,
  };
};

window.matvecRun = async (name) => {
  const device = ctx.device;
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  for (const e of classes.get(name)!) e(pass);
  pass.end();
  const t0 = performance.now();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
};

window.matvecClose = () => ctx.destroy();
