/**
 * The decode graph: one token a step, fused so a Llama-family layer is 5 dispatches (the prefill graph takes 13+):
 *
 *   embedding                                                     1
 *   per layer:
 *     qkv      = [Wq|Wk|Wv] · rmsnorm(x)·attn_norm → q, K[pos], V[pos]   decode-matvec 'qkv' (norm folded in,
 *                rope of q and K[pos] in the epilogue for interleaved pairs without biases or head norms)
 *    (qk-rope  : biases, per-head q/k norms, rope of q and K[pos]        qk-rope, one invocation per head,
 *                where rope cannot go in the epilogue: NeoX pairs, Qwen2's biases, Qwen3/Gemma 3 head norms)
 *     attention: one query over the cache                               decode-attention (subgroups, no barrier)
 *     o        : x += Wo · att                                          decode-matvec 'plain', ACCUMULATE
 *     gate-up  : g = act(Wgate·xn) ⊙ Wup·xn, xn = rmsnorm(x)·ffn_norm   decode-matvec 'gated' (norm folded in)
 *     down     : x += Wdown · g                                         decode-matvec 'plain', ACCUMULATE
 *   output     : logits = Wout · rmsnorm(x)·output_norm (soft-capped)  decode-matvec 'plain' (norm folded in)
 *   select     : the next token on the GPU (model.ts, kernels/select-token.ts)
 *
 * So 5 per layer + 3 for Llama-family GGUF files (6 where qk-rope is needed). On a software adapter (SwiftShader)
 * the layers' norms stay separate dispatches before products of more than 2^20 weights (foldNorm): 7 per layer + 3
 * there for a 1B-class model, where the products take hundreds of times longer than a dispatch. Gemma 2/3's
 * post-norms add 2 per layer (o and down write xb, then a norm adds it into x). The fused matvecs take the adapter's
 * shape (decode-matvec.ts: subgroup lanes or shared-memory groups across K on GPUs, whole rows per invocation on a
 * software adapter).
 * Where a fusion's precondition fails the graph falls back to the prefill graph's separate ops for that step, with
 * the same results: q/k/v or gate/up of different weight types or too big to share a binding (weights.ts stack),
 * an output matrix split by rows, an adapter without subgroups for attention (the general attention kernel).
 */
import type { Graph } from './model.ts';
import { type GraphContext, type LayerWeights, type Op, weightBinding } from './graph.ts';
import { DECODE_MATVEC_FLAGS, type DecodeMatvecMode, type DecodeMatvecShape, packDecodeMatvecParams } from './kernels/decode-matvec.ts';
import { MATMUL_FLAGS } from './kernels/matmul.ts';
import { packQkRopeParams, QK_ROPE_FLAGS } from './kernels/qk-rope.ts';
import { stackedWith, type WeightMatrix } from './weights.ts';

/** On a software adapter, fold norms only into products of at most this many weights (see foldNorm). */
const FOLD_NORM_MAX_WEIGHTS_SOFTWARE = 1 << 20;

/** Kernel variants of the decode graph; by default chosen for the adapter. */
export interface DecodeVariants {
  /** Fold RMSNorms into the following products: 'auto' (foldNorm's rule), 'always' or 'never'. */
  foldNorms?: 'auto' | 'always' | 'never';
  /** The fused matvecs' shape (decode-matvec.ts); default the adapter's (KernelSet.decodeMatvecShape). */
  matvec?: DecodeMatvecShape;
  /** The barrier-free subgroup attention where the adapter has subgroups (default true); false: the general attention kernel. */
  subgroupAttention?: boolean;
}

export function buildDecodeGraph(c: GraphContext, variants: DecodeVariants = {}): Graph {
  const { h, act, kernels, arch, weights, device } = c;
  const decodeMatvec = kernels.decodeMatvecFor(variants.matvec ?? kernels.decodeMatvecShape);
  const qDim = h.nHead * h.headDim;
  const kvDim = h.nHeadKv * h.headDim;
  const { x, xb, q, att, g, u } = act;
  /**
   * Whether to fold a norm into the product of `w` (rows of it), or run it first (one more dispatch). Folding costs
   * each row group a load of the norm weight per activation load: free where loads of shared data are cached (real
   * GPUs), but on SwiftShader every storage load is a gather, so for big matrices (+12–22 % of loads) one norm
   * dispatch is cheaper; for small ones the dispatch is what costs.
   */
  const software = kernels.matmul.caps.architecture === 'swiftshader';
  const foldNorm = (w: WeightMatrix, rows: number) =>
    variants.foldNorms === 'always' || (variants.foldNorms !== 'never' && (!software || rows * w.k <= FOLD_NORM_MAX_WEIGHTS_SOFTWARE));

  /** A fused matvec op over `w` (the first matrix of its stack: the binding starts there). */
  const fused = (
    name: string,
    mode: DecodeMatvecMode,
    w: WeightMatrix,
    rows: number,
    input: GPUBuffer,
    norm: GPUBuffer | undefined,
    outputs: GPUBuffer[],
    extra: Parameters<typeof packDecodeMatvecParams>[0],
    trailing: GPUBuffer[] = [],
  ): Op => {
    const units = w.k / w.format.unitElems;
    const part = w.parts[0]!;
    const binding = part.offset ? weightBinding(w) : { buffer: part.buffer };
    const group = decodeMatvec.bind(mode, [
      binding,
      { buffer: input },
      { buffer: norm ?? c.dummy },
      ...outputs.map((buffer) => ({ buffer })),
      c.params.add(packDecodeMatvecParams(extra)),
      c.step,
      ...trailing.map((buffer) => ({ buffer })),
    ]);
    return { name, dispatches: 1, encode: (pass) => decodeMatvec.encode(pass, w.format, mode, norm !== undefined, group, rows, units) };
  };
  /** Byte offset of `m` from the start of `first`'s binding (both in one stacked buffer). */
  const offsetFrom = (first: WeightMatrix, m: WeightMatrix) => (m.parts[0]!.offset ?? 0) - (first.parts[0]!.offset ?? 0);
  /** A buffer of the given values (biases or head norms joined for qk-rope), or the dummy when there are none. */
  const joined = (parts: (Float32Array | undefined)[], sizes: number[]): GPUBuffer => {
    if (parts.every((p) => !p)) return c.dummy;
    const all = new Float32Array(sizes.reduce((a, b) => a + b, 0));
    let at = 0;
    parts.forEach((p, i) => {
      if (p) all.set(p.subarray(0, sizes[i]!), at);
      at += sizes[i]!;
    });
    const buffer = device.createBuffer({ label: 'joined vectors', size: Math.ceil(all.byteLength / 16) * 16 + 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    c.own(buffer);
    device.queue.writeBuffer(buffer, 0, all);
    return buffer;
  };

  /** Whether rope can be applied in the qkv product's epilogue (then no qk-rope dispatch). */
  const ropeInQkv = (L: LayerWeights) => {
    const v = L.values;
    return h.rope.layout !== 'neox' && h.rope.nRot % 4 === 0 && !v.qBias && !v.kBias && !v.vBias && !v.qNorm && !v.kNorm;
  };
  const qkvOps = (n: (s: string) => string, L: LayerWeights, i: number): Op[] => {
    const { k: kCache, v: vCache } = act.kv[i]!;
    if (stackedWith(L.q, L.k) && stackedWith(L.q, L.v)) {
      const rope = ropeInQkv(L);
      const fold = foldNorm(L.q, qDim + 2 * kvDim);
      return [
        ...(fold ? [] : [c.norm(n('attn norm'), x, L.attnNorm, xb)]),
        fused(n('qkv'), 'qkv', L.q, qDim + 2 * kvDim, fold ? x : xb, fold ? L.attnNorm : undefined, [q, kCache, vCache], {
          rows: qDim + 2 * kvDim,
          units: L.q.k / L.q.format.unitElems,
          rowBytes: L.q.rowBytes,
          k: h.nEmbd,
          eps: h.normEps,
          seg1: qDim,
          seg2: qDim + kvDim,
          base1: offsetFrom(L.q, L.k),
          base2: offsetFrom(L.q, L.v),
          kvStride: kvDim,
          flags: rope ? DECODE_MATVEC_FLAGS.ROPE : 0,
          headDim: h.headDim,
          halfRot: h.rope.nRot / 2,
        }, [c.ropeTable(i)]),
        ...(rope ? [] : [qkRope(n, L, i)]),
      ];
    }
    return [
      c.norm(n('attn norm'), x, L.attnNorm, xb),
      c.product(n('q'), L.q, xb, q, { yStride: qDim }),
      c.product(n('k'), L.k, xb, kCache, { yStride: kvDim, flags: MATMUL_FLAGS.Y_AT_POS }),
      c.product(n('v'), L.v, xb, vCache, { yStride: kvDim, flags: MATMUL_FLAGS.Y_AT_POS }),
      qkRope(n, L, i),
    ];
  };

  const qkRope = (n: (s: string) => string, L: LayerWeights, i: number): Op => {
    const { k: kCache, v: vCache } = act.kv[i]!;
    const v = L.values;
    const hasBias = !!(v.qBias || v.kBias || v.vBias);
    const flags =
      (h.rope.layout === 'neox' ? QK_ROPE_FLAGS.NEOX : 0) |
      (hasBias ? QK_ROPE_FLAGS.BIAS : 0) |
      (v.qNorm ? QK_ROPE_FLAGS.Q_NORM : 0) |
      (v.kNorm ? QK_ROPE_FLAGS.K_NORM : 0);
    const group = kernels.qkRope.bind([
      { buffer: c.ropeTable(i) },
      { buffer: q },
      { buffer: kCache },
      { buffer: vCache },
      { buffer: joined([v.qBias, v.kBias, v.vBias], [qDim, kvDim, kvDim]) },
      { buffer: joined([v.qNorm, v.kNorm], [h.headDim, h.headDim]) },
      c.params.add(packQkRopeParams({ nHead: h.nHead, nHeadKv: h.nHeadKv, headDim: h.headDim, nRot: h.rope.nRot, flags, eps: h.normEps })),
      c.step,
    ]);
    const heads = h.nHead + h.nHeadKv * (hasBias ? 2 : 1);
    return { name: n('qk-rope'), dispatches: 1, encode: (pass) => kernels.qkRope.encode(pass, group, heads) };
  };

  const attention = (n: (s: string) => string, i: number): Op => {
    const decode = (variants.subgroupAttention ?? true) ? kernels.decodeAttention : undefined;
    if (!decode) return c.attention(n('attention'), i);
    const group = decode.bind(c.attentionBindings(i));
    return { name: n('attention'), dispatches: 1, encode: (pass) => decode.encode(pass, group, h.nHead, h.headDim, c.softCapped) };
  };

  const ffnOps = (n: (s: string) => string, L: LayerWeights): Op[] => {
    if (stackedWith(L.gate, L.up)) {
      const fold = foldNorm(L.gate, 2 * h.nFf);
      return [
        ...(fold ? [] : [c.norm(n('ffn norm'), x, L.ffnNorm, xb)]),
        fused(n('gate-up'), 'gated', L.gate, h.nFf, fold ? x : xb, fold ? L.ffnNorm : undefined, [g], {
          rows: h.nFf,
          units: L.gate.k / L.gate.format.unitElems,
          rowBytes: L.gate.rowBytes,
          k: h.nEmbd,
          eps: h.normEps,
          upBase: offsetFrom(L.gate, L.up),
          act: c.activationKind,
        }),
      ];
    }
    return [
      c.norm(n('ffn norm'), x, L.ffnNorm, xb),
      c.product(n('gate'), L.gate, xb, g, { yStride: h.nFf }),
      c.product(n('up'), L.up, xb, u, { yStride: h.nFf }),
      c.gatedActivation(n('gated act')),
    ];
  };

  /** x += W·input: the fused matvec's plain mode (the adapter's shape), or the plain product for a matrix split in parts. */
  const residual = (name: string, w: WeightMatrix, input: GPUBuffer): Op =>
    w.parts.length === 1
      ? fused(name, 'plain', w, h.nEmbd, input, undefined, [x], { rows: h.nEmbd, units: w.k / w.format.unitElems, rowBytes: w.rowBytes, k: w.k, flags: DECODE_MATVEC_FLAGS.ACCUMULATE })
      : c.product(name, w, input, x, { yStride: h.nEmbd, flags: MATMUL_FLAGS.ACCUMULATE });

  const layers: Op[] = [c.embedding()];
  weights.layers.forEach((L, i) => {
    const n = (s: string) => `L${i} ${s}`;
    layers.push(...qkvOps(n, L, i), attention(n, i));
    // A post-norm (Gemma 2/3) normalises the block's output before it joins the residual: the product goes to
    // xb and the norm adds into x.
    if (L.postAttnNorm) layers.push(c.product(n('o'), L.o, att, xb, { yStride: h.nEmbd }), c.norm(n('post attn norm'), xb, L.postAttnNorm, x, false, true));
    else layers.push(residual(n('o'), L.o, att));
    layers.push(...ffnOps(n, L));
    if (L.postFfnNorm) layers.push(c.product(n('down'), L.down, g, xb, { yStride: h.nEmbd }), c.norm(n('post ffn norm'), xb, L.postFfnNorm, x, false, true));
    else layers.push(residual(n('down'), L.down, g));
  });

  const out = weights.output;
  let head: Op[];
  if (out.parts.length === 1) {
    const cap = arch.finalSoftCap ?? 0;
    // The output norm is folded whatever the adapter: on a software one it costs about 3 % of a 1B-class step
    // (the output product loads the norm weight with each activation), and keeps the graph at 7 per layer + 3.
    const fold = variants.foldNorms !== 'never';
    head = [
      ...(fold ? [] : [c.norm('output norm', x, weights.outputNorm, act.xLast, true)]),
      fused('output', 'plain', out, h.nVocab, fold ? x : act.xLast, fold ? weights.outputNorm : undefined, [act.logits], {
        rows: h.nVocab,
        units: out.k / out.format.unitElems,
        rowBytes: out.rowBytes,
        k: h.nEmbd,
        eps: h.normEps,
        flags: cap ? DECODE_MATVEC_FLAGS.SOFT_CAP : 0,
        cap,
      }),
    ];
  } else {
    head = [c.norm('output norm', x, weights.outputNorm, act.xLast, true), c.product('output', out, act.xLast, act.logits, { yStride: h.nVocab, single: true })];
    if (arch.finalSoftCap) head.push(c.softCap());
  }
  return { layers, head };
}
