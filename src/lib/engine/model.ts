/**
 * A Llama-family transformer on WebGPU: its weights (uploaded as they are in the file), KV cache and activation
 * buffers, and two graphs over them — the prefill graph (prefill-graph.ts: T tokens a step, unfused ops and
 * matrix-matrix kernels) and the decode graph (decode-graph.ts: one token a step, fused kernels). Every dispatch's
 * bind group and static parameters are made once at load; a step only writes the token ids and (pos0, T), encodes a
 * graph's ops into one compute pass and submits once. Prefills are cut into chunks of at most MAX_CHUNK tokens, one
 * submission each, so no single submission runs long enough to trip a driver watchdog.
 */
import { RbeeError } from '../errors.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import type { ModelDescriptor } from '../formats/descriptor.ts';
import type { Architecture } from './architectures/architecture.ts';
import type { GpuContext } from './device.ts';
import { buildDecodeGraph, type DecodeVariants } from './decode-graph.ts';
import { type Activations, GraphContext, type ModelWeights, type Op, ParamArena } from './graph.ts';
import { ActivationKernels, SoftCapKernel } from './kernels/activation.ts';
import { AttentionKernel, MAX_HEAD_DIM } from './kernels/attention.ts';
import { PrefillAttentionKernel } from './kernels/prefill-attention.ts';
import { HeadNormKernel } from './kernels/head-norm.ts';
import { MatmulKernels } from './kernels/matmul.ts';
import { RmsNormKernel } from './kernels/rmsnorm.ts';
import { RopeKernel, ropeTable } from './kernels/rope.ts';
import { DecodeAttentionKernel } from './kernels/decode-attention.ts';
import { DecodeMatvecKernels, type DecodeMatvecShape } from './kernels/decode-matvec.ts';
import { STEP } from './kernels/kernel.ts';
import { activationBytes, DEFAULT_CONTEXT_LENGTH, type GpuMemory, kvLayerBytes, MAX_CHUNK, rowBytes } from './memory-plan.ts';
import { uploadModelWeights } from './model-weights.ts';
import { QkRopeKernel } from './kernels/qk-rope.ts';
import { MAX_EXCLUDED, MAX_TOP_K, SELECT_TOKEN_PARAMS, SelectTokenKernel } from './kernels/select-token.ts';
import { buildPrefillGraph } from './prefill-graph.ts';
import { type DecodeProfile, opKind } from './decode-profile.ts';
import { type UploadCounter, WeightUploader } from './weights.ts';

/** Most tokens one submission processes (prefill chunks): memory-plan.ts declares it with the buffers it sizes. */
export { MAX_CHUNK };
/**
 * Greedy decode steps kept submitted beyond the one being read (run). A step's result reaches the host a round trip
 * after its submit (on SwiftShader about 2.5 ms, more than the step's GPU work for small models): with one step in
 * flight the GPU idles for part of each round trip, with three it rarely does. Each costs a small readback buffer;
 * a step in flight when generation stops is wasted GPU work, never a wrong result.
 */
const STEPS_AHEAD = 3;
/**
 * Most bytes of logits one all-positions step reads back (scoring): 64 MiB, so a 128k vocabulary still gets 128
 * positions per submission and no buffer nears a mobile GPU's binding limit.
 */
const ALL_POSITIONS_LOGITS_BYTES = 64 * 1024 * 1024;
/**
 * A step's token selection on the GPU (kernels/select-token.ts): the `k` largest logits (default 1, at most
 * MAX_TOP_K) among the ids not in `exclude`, and the raw logits of `exclude` (distinct ids, at most MAX_EXCLUDED).
 */
export interface TokenSelection {
  exclude: readonly number[];
  k?: number;
}

/** What a selecting step reads back. The arrays are the model's own, valid until its next step. */
export interface SelectedToken {
  /** The k best ids outside `exclude`, value descending then id ascending; −1 where there was none (all NaN). */
  ids: Int32Array;
  logits: Float32Array;
  /** The raw logits of `exclude`, in its order. */
  excluded: Float32Array;
}

/** What a step reads back: nothing, the last token's logits, a token selected on the GPU, or every position's logits. */
type StepOutput = 'none' | 'logits' | 'select' | 'all-positions';

/** A graph's ops: the layers (every step) and the head (the logits, when a step asks for them). */
export interface Graph {
  layers: Op[];
  head: Op[];
}

/** The kernels of one device, compiled once and shared by every model loaded on it. */
export class KernelSet {
  readonly matmul: MatmulKernels;
  readonly rmsnorm: RmsNormKernel;
  readonly rope: RopeKernel;
  readonly attention: AttentionKernel;
  readonly prefillAttention: PrefillAttentionKernel;
  readonly activation: ActivationKernels;
  readonly headNorm: HeadNormKernel;
  readonly softCap: SoftCapKernel;
  readonly select: SelectTokenKernel;
  /** The fused decode matvecs in the adapter's shape, and others on demand (decodeMatvecFor). */
  private readonly decodeMatvecs = new Map<DecodeMatvecShape, DecodeMatvecKernels>();
  /** The decode matvec shape for this adapter. */
  readonly decodeMatvecShape: DecodeMatvecShape;
  readonly qkRope: QkRopeKernel;
  /** Barrier-free one-query attention; undefined without subgroups (the decode graph then uses `attention`). */
  readonly decodeAttention: DecodeAttentionKernel | undefined;
  constructor(ctx: GpuContext) {
    // A software adapter (SwiftShader: a 4-lane subgroup is a coroutine at every barrier, every storage load a
    // gather) gets barrier-free prefill shapes; GPUs get shared-memory tiles and workgroup reductions.
    const software = ctx.caps.architecture === 'swiftshader';
    this.matmul = new MatmulKernels(ctx.device, ctx.caps);
    this.rmsnorm = new RmsNormKernel(ctx.device, software);
    this.rope = new RopeKernel(ctx.device);
    this.attention = new AttentionKernel(ctx.device);
    this.prefillAttention = new PrefillAttentionKernel(ctx.device, software ? 'direct' : 'tiled');
    this.activation = new ActivationKernels(ctx.device);
    this.headNorm = new HeadNormKernel(ctx.device);
    this.softCap = new SoftCapKernel(ctx.device);
    this.select = new SelectTokenKernel(ctx.device);
    this.decodeMatvecShape = DecodeMatvecKernels.shapeFor(ctx.caps, software);
    this.qkRope = new QkRopeKernel(ctx.device);
    this.decodeAttention = ctx.caps.subgroups && ctx.caps.subgroupMinSize > 0 ? new DecodeAttentionKernel(ctx.device, ctx.caps.subgroupMinSize) : undefined;
    this.ctx = ctx;
  }
  private readonly ctx: GpuContext;

  /** The fused decode matvecs of one shape (tests run each). */
  decodeMatvecFor(shape: DecodeMatvecShape): DecodeMatvecKernels {
    let k = this.decodeMatvecs.get(shape);
    if (!k) {
      k = new DecodeMatvecKernels(this.ctx.device, this.ctx.caps, shape);
      this.decodeMatvecs.set(shape, k);
    }
    return k;
  }
}

export class TransformerModel {
  readonly contextLength: number;
  private readonly buffers: GPUBuffer[] = [];
  private readonly stepBuffer: GPUBuffer;
  private readonly idsBuffer: GPUBuffer;
  private readonly logitsBuffer: GPUBuffer;
  private readonly readback: GPUBuffer;
  /** Token selection: excluded ids in, id + value + excluded logits out, and its readback. */
  private readonly excludedBuffer: GPUBuffer;
  private readonly selectedBuffer: GPUBuffer;
  private readonly selectParams: GPUBuffer;
  /** One per step in flight: the steps submitted ahead (run) copy into theirs while the host reads another. */
  private readonly selectReadbacks: GPUBuffer[];
  /**
   * Greedy decode steps submitted before they were asked for (run), oldest first: position, readback, and token
   * (−2: not yet known; each step's token is the pick of the step before).
   */
  private ahead: { pos: number; token: number; readback: GPUBuffer }[] = [];
  private readonly selectGroup: GPUBindGroup;
  private readonly excludedScratch = new Uint32Array(MAX_EXCLUDED);
  private readonly selectParamsScratch = new ArrayBuffer(SELECT_TOKEN_PARAMS.byteLength);
  private readonly selectedIds = new Int32Array(MAX_TOP_K);
  private readonly selectedValues = new Float32Array(MAX_TOP_K);
  private readonly selectedExcluded = new Float32Array(MAX_EXCLUDED);
  private readonly selected: SelectedToken = { ids: this.selectedIds.subarray(0, 1), logits: this.selectedValues.subarray(0, 1), excluded: this.selectedExcluded.subarray(0, 0) };
  /** Host-side timings of decode steps, summed while profiling. */
  private timing: { encode: number; wait: number; read: number; steps: number; ahead: number } | undefined;
  private prefillGraph: Graph = { layers: [], head: [] };
  private decodeGraph: Graph = { layers: [], head: [] };
  private readonly idsScratch = new Uint32Array(MAX_CHUNK);
  private readonly stepScratch = new ArrayBuffer(STEP.byteLength);
  private weightBuffers: GPUBuffer[] = [];
  /** What the graphs were built from: the all-positions head (scoring) is made from it on first use. */
  private graphContext: GraphContext | undefined;
  private allPositionsHead: { ops: Op[]; logits: GPUBuffer; readback: GPUBuffer; maxTokens: number } | undefined;
  /** Bytes of weights a decode step reads (for the roofline figure). */
  weightBytesPerToken = 0;
  /** The GPU memory the load allocated, by kind (buffers made later for scoring are not counted). */
  memory: GpuMemory = { weightsBytes: 0, kvCacheBytes: 0, scratchBytes: 0, totalBytes: 0 };

  private constructor(
    private readonly ctx: GpuContext,
    private readonly kernels: KernelSet,
    readonly arch: Architecture,
    contextLength: number,
  ) {
    const device = ctx.device;
    this.contextLength = contextLength;
    this.stepBuffer = this.create(STEP.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'step');
    const rows = rowBytes(arch.hyper);
    this.idsBuffer = this.create(rows.tokenIds, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, 'token ids');
    this.logitsBuffer = this.create(rows.logits, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'logits');
    this.readback = device.createBuffer({ label: 'logits readback', size: rows.logitsReadback, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.buffers.push(this.readback);
    const selectBytes = (2 * MAX_TOP_K + MAX_EXCLUDED) * 4;
    this.excludedBuffer = this.create(MAX_EXCLUDED * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, 'excluded ids');
    this.selectedBuffer = this.create(selectBytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'selected token');
    this.selectParams = this.create(SELECT_TOKEN_PARAMS.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'select params');
    const selectReadback = () => device.createBuffer({ label: 'selected readback', size: selectBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.selectReadbacks = Array.from({ length: STEPS_AHEAD + 1 }, selectReadback);
    this.buffers.push(...this.selectReadbacks);
    this.selectGroup = kernels.select.bind([
      { buffer: this.logitsBuffer },
      { buffer: this.excludedBuffer },
      { buffer: this.selectedBuffer },
      { buffer: this.selectParams },
    ]);
  }

  private create(size: number, usage: number, label: string): GPUBuffer {
    const b = this.ctx.device.createBuffer({ label, size: Math.ceil(size / 16) * 16, usage });
    this.buffers.push(b);
    return b;
  }

  /** Activations, the KV cache, RoPE tables: storage the kernels read and write (copied in and out by tests). */
  private createStorage(size: number, label: string): GPUBuffer {
    return this.create(size, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC, label);
  }

  static async load(
    ctx: GpuContext,
    kernels: KernelSet,
    arch: Architecture,
    descriptor: ModelDescriptor,
    sources: ByteSource[],
    counter: UploadCounter,
    contextLength?: number,
    decodeVariants: DecodeVariants = {},
  ): Promise<TransformerModel> {
    const h = arch.hyper;
    if (h.headDim > MAX_HEAD_DIM || h.headDim % 4 !== 0 || h.nHead % h.nHeadKv !== 0 || h.nHead / h.nHeadKv > 64) {
      throw new RbeeError('unsupported-architecture', `Head dimension ${h.headDim} with ${h.nHead}/${h.nHeadKv} heads is not supported.`);
    }
    const ctxLen = Math.max(1, Math.min(contextLength ?? Math.min(h.contextLength, DEFAULT_CONTEXT_LENGTH), h.contextLength || Infinity));
    const model = new TransformerModel(ctx, kernels, arch, ctxLen);
    try {
      await model.build(descriptor, sources, counter, decodeVariants);
    } catch (e) {
      model.destroy();
      throw e;
    }
    return model;
  }

  /** Loads the model by job: weights up, activations and KV cache allocated, the graphs built over them. */
  private async build(descriptor: ModelDescriptor, sources: ByteSource[], counter: UploadCounter, decodeVariants: DecodeVariants): Promise<void> {
    const { device, caps } = this.ctx;
    const uploader = new WeightUploader(device, sources, Math.min(caps.limits.maxStorageBufferBindingSize, caps.limits.maxBufferSize), counter);
    this.weightBuffers = uploader.buffers;
    const { weights, bytesPerToken, freqFactors } = await uploadModelWeights(device, this.arch, descriptor, uploader, this.contextLength);
    this.weightBytesPerToken = bytesPerToken;
    const act = this.allocateActivations();
    this.buildGraphs(weights, act, this.ropeTables(freqFactors), decodeVariants);
    this.memory = this.allocatedMemory(act);
  }

  /** Activation buffers (f32, sized for the largest chunk) and every layer's K and V cache for the whole context. */
  private allocateActivations(): Activations {
    const h = this.arch.hyper;
    // Sizes from the memory plan, which the compatibility check's estimate sums too.
    const shape = { nEmbd: h.nEmbd, qDim: h.nHead * h.headDim, nFf: h.nFf, kvDim: h.nHeadKv * h.headDim };
    const bytes = activationBytes(shape);
    const kvBytes = kvLayerBytes(shape, this.contextLength);
    return {
      x: this.createStorage(bytes.x, 'x'),
      xb: this.createStorage(bytes.xb, 'xb'),
      q: this.createStorage(bytes.q, 'q'),
      att: this.createStorage(bytes.attentionOut, 'attention out'),
      g: this.createStorage(bytes.ffnGate, 'ffn gate'),
      u: this.createStorage(bytes.ffnUp, 'ffn up'),
      xLast: this.createStorage(bytes.xLast, 'x last'),
      kv: Array.from({ length: h.nLayer }, (_, i) => ({
        k: this.createStorage(kvBytes, `k cache ${i}`),
        v: this.createStorage(kvBytes, `v cache ${i}`),
      })),
      ids: this.idsBuffer,
      logits: this.logitsBuffer,
    };
  }

  /** A layer's RoPE cos/sin table for the context: one per distinct rope, made on first use (Gemma 3's local and global layers differ). */
  private ropeTables(freqFactors: Float32Array | undefined): (layer: number) => GPUBuffer {
    const { arch } = this;
    const tables = new Map<string, GPUBuffer>();
    return (layer) => {
      const config = arch.layerRope?.(layer) ?? arch.hyper.rope;
      const key = JSON.stringify(config);
      let buf = tables.get(key);
      if (!buf) {
        const table = ropeTable(config, this.contextLength, freqFactors);
        buf = this.createStorage(table.byteLength, 'rope cos/sin');
        this.ctx.device.queue.writeBuffer(buf, 0, table);
        tables.set(key, buf);
      }
      return buf;
    };
  }

  /** The prefill and decode graphs over the weights and activations, their bind groups and static parameters. */
  private buildGraphs(weights: ModelWeights, act: Activations, ropeTable: (layer: number) => GPUBuffer, decodeVariants: DecodeVariants): void {
    const { device } = this.ctx;
    const own = (b: GPUBuffer) => this.buffers.push(b);
    const params = new ParamArena(device, own);
    const dummy = this.createStorage(16, 'unused binding');
    const graph = new GraphContext(device, this.kernels, this.arch, weights, act, params, this.stepBuffer, ropeTable, dummy, own);
    this.graphContext = graph;
    this.prefillGraph = buildPrefillGraph(graph);
    this.decodeGraph = buildDecodeGraph(graph, decodeVariants);
  }

  /** What this load allocated, by kind (memory-plan.ts plans the same buffers for the verdict's estimate). */
  private allocatedMemory(act: Activations): GpuMemory {
    const sum = (buffers: GPUBuffer[]) => buffers.reduce((a, b) => a + b.size, 0);
    const weightsBytes = sum(this.weightBuffers);
    const kvCacheBytes = sum(act.kv.flatMap((l) => [l.k, l.v]));
    const scratchBytes = sum(this.buffers) - kvCacheBytes;
    return { weightsBytes, kvCacheBytes, scratchBytes, totalBytes: weightsBytes + kvCacheBytes + scratchBytes };
  }

  /** Checks a step's tokens and writes them and (pos0, T) for the GPU. */
  private prepare(tokens: number[], pos0: number): void {
    const T = tokens.length;
    if (T < 1 || T > MAX_CHUNK) throw new RbeeError('internal', `A step takes 1…${MAX_CHUNK} tokens, not ${T}.`);
    if (pos0 + T > this.contextLength) {
      throw new RbeeError('limit-exceeded', `The context is full (${this.contextLength} tokens).`, {
        hint: 'Start a new conversation, or load the model with a longer context.',
      });
    }
    for (const t of tokens) {
      if (!Number.isInteger(t) || t < 0 || t >= this.arch.hyper.nVocab) {
        throw new RbeeError('bad-value', `Token id ${t} is outside the vocabulary (0…${this.arch.hyper.nVocab - 1}).`);
      }
    }
    const queue = this.ctx.device.queue;
    for (let i = 0; i < T; i++) this.idsScratch[i] = tokens[i]!;
    queue.writeBuffer(this.idsBuffer, 0, this.idsScratch, 0, T);
    this.writeStep(pos0, T);
  }

  /** The step every kernel reads (S): the first position and the token count of the next submission. */
  private writeStep(pos0: number, T: number): void {
    this.ctx.device.queue.writeBuffer(this.stepBuffer, 0, STEP.pack({ pos0, T }, this.stepScratch));
  }

  /**
   * Runs `tokens` (at most MAX_CHUNK) at positions pos0…; when `logits` is set, returns the last token's logits.
   * One token runs the decode graph, more the prefill graph.
   */
  async step(tokens: number[], pos0: number, logits: boolean): Promise<Float32Array | undefined> {
    if (!logits) {
      await this.run(tokens, pos0, 'none');
      return undefined;
    }
    await this.run(tokens, pos0, 'logits');
    return new Float32Array(this.logitsOut!);
  }

  /**
   * Runs `tokens` like step() and selects on the GPU (reads back 8 bytes per candidate + 4 per excluded id).
   * k + excluded must leave room in the vocabulary (k + excluded.length ≤ nVocab).
   */
  async stepSelect(tokens: number[], pos0: number, selection: TokenSelection): Promise<SelectedToken> {
    const n = selection.exclude.length;
    const k = selection.k ?? 1;
    if (n > MAX_EXCLUDED) throw new RbeeError('internal', `At most ${MAX_EXCLUDED} excluded ids, not ${n}.`);
    if (!Number.isInteger(k) || k < 1 || k > MAX_TOP_K || k + n > this.arch.hyper.nVocab) {
      throw new RbeeError('internal', `Cannot select ${k} of ${this.arch.hyper.nVocab} tokens with ${n} excluded.`);
    }
    for (let i = 0; i < n; i++) {
      const id = selection.exclude[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= this.arch.hyper.nVocab) throw new RbeeError('internal', `Excluded id ${id} is outside the vocabulary.`);
      this.excludedScratch[i] = id;
    }
    const queue = this.ctx.device.queue;
    if (n > 0) queue.writeBuffer(this.excludedBuffer, 0, this.excludedScratch, 0, n);
    queue.writeBuffer(this.selectParams, 0, SELECT_TOKEN_PARAMS.pack({ n: this.arch.hyper.nVocab, nExcluded: n, k }, this.selectParamsScratch));
    await this.run(tokens, pos0, 'select', n, k);
    return this.selected;
  }

  /** Most tokens one stepAllPositions call takes: its logits ([T][nVocab] f32) stay within ALL_POSITIONS_LOGITS_BYTES. */
  get allPositionsChunk(): number {
    return Math.max(1, Math.min(MAX_CHUNK, Math.floor(ALL_POSITIONS_LOGITS_BYTES / (this.arch.hyper.nVocab * 4))));
  }

  /**
   * Runs `tokens` (at most allPositionsChunk) at positions pos0… through the prefill graph and returns the logits of
   * every one of them, [T][nVocab] row-major — what teacher-forced scoring (perplexity) needs. The head (the final
   * norm of all T rows, the output product as a matrix-matrix product, the soft cap) and its buffers are made on
   * first use, with their own parameter block, so generation never pays for them.
   */
  async stepAllPositions(tokens: number[], pos0: number): Promise<Float32Array> {
    const head = this.allPositionsHeadOps();
    if (tokens.length > head.maxTokens) throw new RbeeError('internal', `stepAllPositions takes at most ${head.maxTokens} tokens, not ${tokens.length}.`);
    await this.run(tokens, pos0, 'all-positions');
    return new Float32Array(this.logitsOut!);
  }

  private allPositionsHeadOps(): NonNullable<TransformerModel['allPositionsHead']> {
    if (this.allPositionsHead) return this.allPositionsHead;
    const g = this.graphContext;
    if (!g) throw new RbeeError('internal', 'The model is not built.');
    const { kernels, h, weights, act } = g;
    const maxTokens = this.allPositionsChunk;
    const params = new ParamArena(this.ctx.device, g.own);
    const c = new GraphContext(this.ctx.device, kernels, g.arch, weights, act, params, this.stepBuffer, g.ropeTable, g.dummy, g.own);
    const logits = this.create(maxTokens * h.nVocab * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'logits, all positions');
    const readback = this.ctx.device.createBuffer({ label: 'logits readback, all positions', size: maxTokens * h.nVocab * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.buffers.push(readback);
    // xb is free once the last layer has run: every position's normalised row goes there.
    const ops: Op[] = [
      c.norm('output norm, all positions', act.x, weights.outputNorm, act.xb),
      c.product('output, all positions', weights.output, act.xb, logits, { yStride: h.nVocab }),
    ];
    if (g.arch.finalSoftCap) ops.push(c.softCap('soft cap, all positions', logits, maxTokens * h.nVocab));
    this.allPositionsHead = { ops, logits, readback, maxTokens };
    return this.allPositionsHead;
  }

  /** The last run's logits, as read back (run(…, 'logits') or run(…, 'all-positions')). */
  private logitsOut: ArrayBuffer | undefined;

  /**
   * Runs a step and reads back what `out` asks for. A greedy selection without excluded ids (what greedy generation
   * asks every step) also keeps STEPS_AHEAD decode steps submitted beyond it, before this one is read: each one's
   * input token is the pick of the step before, copied on the GPU (selected → ids), so the GPU works on them while
   * the host waits for this result to map, runs the generation loop and comes back. If the next call is the oldest
   * of them (position and token match), it only reads its result; any other call drops them all (their K/V rows are
   * past the cached positions, so they are overwritten before they are read, and their readbacks were never mapped).
   */
  private async run(tokens: number[], pos0: number, out: StepOutput, nExcluded = 0, k = 1): Promise<void> {
    const t0 = performance.now();
    const T = tokens.length;
    const greedy = out === 'select' && k === 1 && nExcluded === 0;
    const oldest = this.ahead[0];
    let readback: GPUBuffer;
    if (greedy && oldest && T === 1 && oldest.pos === pos0 && oldest.token === tokens[0]) {
      this.ahead.shift();
      readback = oldest.readback;
      if (this.timing) this.timing.ahead++;
    } else {
      this.ahead.length = 0;
      this.prepare(tokens, pos0);
      readback = out === 'select' ? this.selectReadbacks[0]! : out === 'all-positions' ? this.allPositionsHead!.readback : this.readback;
      this.submit(T, out, k, nExcluded, readback, false);
    }
    if (greedy) {
      // Top up the steps in flight; each takes a readback no other step in flight holds.
      let pos = this.ahead.at(-1)?.pos ?? pos0 + T - 1;
      while (this.ahead.length < STEPS_AHEAD && ++pos < this.contextLength) {
        const next = this.selectReadbacks.find((b) => b !== readback && !this.ahead.some((a) => a.readback === b))!;
        this.writeStep(pos, 1);
        this.submit(1, 'select', 1, 0, next, true);
        this.ahead.push({ pos, token: -2, readback: next });
      }
    }
    if (out === 'none') return;
    const bytes = out === 'select' ? (2 * k + nExcluded) * 4 : this.arch.hyper.nVocab * 4 * (out === 'all-positions' ? T : 1);
    const t1 = performance.now();
    await readback.mapAsync(GPUMapMode.READ, 0, bytes);
    const t2 = performance.now();
    const mapped = readback.getMappedRange(0, bytes);
    if (out === 'logits' || out === 'all-positions') {
      this.logitsOut = mapped.slice(0);
    } else {
      const ids = new Int32Array(mapped); // 0xffffffff (none) reads as −1
      const f = new Float32Array(mapped);
      this.selectedIds.set(ids.subarray(0, k));
      this.selectedValues.set(f.subarray(k, 2 * k));
      this.selectedExcluded.set(f.subarray(2 * k, 2 * k + nExcluded));
      this.selected.ids = this.selectedIds.subarray(0, k);
      this.selected.logits = this.selectedValues.subarray(0, k);
      this.selected.excluded = this.selectedExcluded.subarray(0, nExcluded);
    }
    readback.unmap();
    // The oldest step in flight runs this step's pick.
    if (this.ahead[0]) this.ahead[0].token = this.selected.ids[0]!;
    if (this.timing) {
      const t3 = performance.now();
      this.timing.encode += t1 - t0;
      this.timing.wait += t2 - t1;
      this.timing.read += t3 - t2;
      this.timing.steps++;
    }
  }

  /** Encodes and submits one step; `chained`: its token id is the last selection's pick (copied on the GPU). */
  private submit(T: number, out: StepOutput, k: number, nExcluded: number, readback: GPUBuffer, chained: boolean): void {
    const device = this.ctx.device;
    // All positions' logits come from the prefill graph whatever T (the decode graph computes only its token's).
    const allPositions = out === 'all-positions' ? this.allPositionsHead! : undefined;
    const graph = T === 1 && !allPositions ? this.decodeGraph : this.prefillGraph;
    const encoder = device.createCommandEncoder();
    if (chained) encoder.copyBufferToBuffer(this.selectedBuffer, 0, this.idsBuffer, 0, 4);
    const pass = encoder.beginComputePass();
    for (const op of graph.layers) op.encode(pass, T);
    if (out !== 'none') for (const op of allPositions?.ops ?? graph.head) op.encode(pass, T);
    if (out === 'select') this.kernels.select.encode(pass, this.selectGroup, k);
    pass.end();
    const bytes = out === 'select' ? (2 * k + nExcluded) * 4 : this.arch.hyper.nVocab * 4 * (allPositions ? T : 1);
    if (out === 'logits') encoder.copyBufferToBuffer(this.logitsBuffer, 0, readback, 0, bytes);
    if (allPositions) encoder.copyBufferToBuffer(allPositions.logits, 0, readback, 0, bytes);
    if (out === 'select') encoder.copyBufferToBuffer(this.selectedBuffer, 0, readback, 0, bytes);
    device.queue.submit([encoder.finish()]);
  }

  /**
   * The decode profile (decode-profile.ts): `steps` greedy decode steps of `token` at positions pos0…, timed on the
   * host, then the same steps with each op in its own timestamped pass. Writes K/V rows from pos0 on (the caller's
   * cache bookkeeping stays as it was: rows past the cached length are overwritten before they are read).
   */
  async profileDecode(token: number, pos0: number, steps: number): Promise<DecodeProfile> {
    const device = this.ctx.device;
    steps = Math.max(1, Math.min(steps, this.contextLength - pos0 - 1));
    const graph = this.decodeGraph;
    const ops = [...graph.layers, ...graph.head];
    const dispatches = ops.reduce((a, o) => a + o.dispatches, 0) + 1;
    // As greedy generation runs: each step's pick is the next step's token (so the step submitted ahead is used).
    const greedy = { exclude: [] };
    let next = (await this.stepSelect([token], pos0, greedy)).ids[0]!; // warm-up (pipelines, first map)
    const timing = { encode: 0, wait: 0, read: 0, steps: 0, ahead: 0 };
    this.timing = timing;
    const start = performance.now();
    try {
      for (let i = 0; i < steps; i++) next = Math.max(0, (await this.stepSelect([next >= 0 ? next : 0], pos0 + 1 + i, greedy)).ids[0]!);
    } finally {
      this.timing = undefined;
    }
    const wall = performance.now() - start;
    const kinds = new Map<string, { name: string; dispatches: number; gpuMs?: number }>();
    for (const op of ops) {
      const k = kinds.get(opKind(op.name)) ?? { name: opKind(op.name), dispatches: 0 };
      k.dispatches += op.dispatches;
      kinds.set(k.name, k);
    }
    kinds.set('select token', { name: 'select token', dispatches: 1 });
    let gpuMs: number | undefined;
    this.ahead.length = 0;
    if (this.ctx.caps.timestampQuery) {
      const all = [...ops, { name: 'select token', dispatches: 1, encode: (pass: GPUComputePassEncoder) => this.kernels.select.encode(pass, this.selectGroup) }];
      const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * all.length });
      const resolve = device.createBuffer({ size: 16 * all.length, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      const read = device.createBuffer({ size: 16 * all.length, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const sums = new Float64Array(all.length);
      try {
        for (let s = 0; s < steps; s++) {
          this.prepare([token], pos0 + s);
          const encoder = device.createCommandEncoder();
          all.forEach((op, i) => {
            const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
            op.encode(pass, 1);
            pass.end();
          });
          encoder.resolveQuerySet(querySet, 0, 2 * all.length, resolve, 0);
          encoder.copyBufferToBuffer(resolve, 0, read, 0, 16 * all.length);
          device.queue.submit([encoder.finish()]);
          await read.mapAsync(GPUMapMode.READ);
          const t = new BigInt64Array(read.getMappedRange());
          for (let i = 0; i < all.length; i++) sums[i]! += Number(t[2 * i + 1]! - t[2 * i]!) / 1e6;
          read.unmap();
        }
      } finally {
        querySet.destroy();
        resolve.destroy();
        read.destroy();
      }
      gpuMs = 0;
      all.forEach((op, i) => {
        const k = kinds.get(opKind(op.name))!;
        const ms = sums[i]! / steps;
        k.gpuMs = (k.gpuMs ?? 0) + ms;
        gpuMs! += ms;
      });
    }
    return {
      steps,
      dispatches,
      submits: 1,
      readbackBytes: 8,
      submittedAhead: timing.ahead,
      stepMs: wall / steps,
      encodeMs: timing.encode / steps,
      waitMs: timing.wait / steps,
      readMs: timing.read / steps,
      timestamps: gpuMs !== undefined,
      ...(gpuMs !== undefined ? { gpuMs } : {}),
      kernels: [...kinds.values()],
    };
  }

  destroy(): void {
    this.ahead.length = 0;
    for (const b of this.buffers) b.destroy();
    for (const b of this.weightBuffers) b.destroy();
    this.buffers.length = 0;
    this.weightBuffers = [];
  }
}
