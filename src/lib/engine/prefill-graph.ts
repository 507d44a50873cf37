/**
 * The prefill graph: T tokens a step (1 < T ≤ MAX_CHUNK), unfused ops, the matrix-matrix kernels; the head
 * computes the last token's logits. (One-token steps run the decode graph, decode-graph.ts.)
 *
 *   x = embed(tokens)                                   [T][nEmbd]
 *   for each layer:
 *     xb = rmsnorm(x) · attn_norm
 *     q = Wq·xb; K[pos] = Wk·xb; V[pos] = Wv·xb          K/V written straight into the layer's cache rows
 *     (+ biases, per-head q/k norms), rope(q), rope(K[pos])
 *     att = softmax(q·Kᵀ/√d, causal) · V                grouped-query heads
 *     x += Wo·att                                       (Gemma 2/3: x += rmsnorm(Wo·att) · post_attn_norm)
 *     xb = rmsnorm(x) · ffn_norm
 *     x += Wdown·(act(Wgate·xb) ⊙ Wup·xb)               (Gemma 2/3: with post_ffn_norm)
 *   logits = Wout · (rmsnorm(x[T−1]) · output_norm)
 */
import { MATMUL_FLAGS } from './kernels/matmul.ts';
import type { Graph } from './model.ts';
import type { GraphContext, Op } from './graph.ts';

/**
 * Attention of a step's T tokens: the prefill kernel (prefill-attention.ts, a workgroup per tile of queries) for
 * T > 1, the decode kernel (attention.ts, a workgroup per head across the keys) for one token.
 */
function prefillAttention(c: GraphContext, name: string, layer: number): Op {
  const { kernels } = c;
  const bindings = c.attentionBindings(layer);
  const one = kernels.attention.bind(bindings);
  const many = kernels.prefillAttention.bind(bindings);
  return {
    name,
    dispatches: 1,
    encode: (pass, tokens) => (tokens === 1 ? kernels.attention.encode(pass, one, c.h.nHead, 1) : kernels.prefillAttention.encode(pass, many, c.h, tokens, c.softCapped)),
  };
}

export function buildPrefillGraph(c: GraphContext): Graph {
  const { h, act, arch, weights } = c;
  const qDim = h.nHead * h.headDim;
  const kvDim = h.nHeadKv * h.headDim;
  const { x, xb, q, att, g, u } = act;
  const layers: Op[] = [c.embedding()];
  weights.layers.forEach((L, i) => {
    const { k: kCache, v: vCache } = act.kv[i]!;
    const n = (s: string) => `L${i} ${s}`;
    const ops: Op[] = [
      c.norm(n('attn norm'), x, L.attnNorm, xb),
      c.product(n('q'), L.q, xb, q, { yStride: qDim }),
      c.product(n('k'), L.k, xb, kCache, { yStride: kvDim, flags: MATMUL_FLAGS.Y_AT_POS }),
      c.product(n('v'), L.v, xb, vCache, { yStride: kvDim, flags: MATMUL_FLAGS.Y_AT_POS }),
    ];
    if (L.qBias) ops.push(c.bias(n('q bias'), q, L.qBias, qDim, qDim, false));
    if (L.kBias) ops.push(c.bias(n('k bias'), kCache, L.kBias, kvDim, kvDim, true));
    if (L.vBias) ops.push(c.bias(n('v bias'), vCache, L.vBias, kvDim, kvDim, true));
    if (L.qNorm) ops.push(c.headNorm(n('q norm'), q, L.qNorm, h.nHead, qDim, false));
    if (L.kNorm) ops.push(c.headNorm(n('k norm'), kCache, L.kNorm, h.nHeadKv, kvDim, true));
    ops.push(c.rope(n('rope q'), i, q, h.nHead, qDim, false), c.rope(n('rope k'), i, kCache, h.nHeadKv, kvDim, true));
    ops.push(prefillAttention(c, n('attention'), i));
    // A post-norm (Gemma 2/3) normalises the block's output before it joins the residual: the product goes to
    // xb (free by then) and the norm adds into x.
    if (L.postAttnNorm) ops.push(c.product(n('o'), L.o, att, xb, { yStride: h.nEmbd }), c.norm(n('post attn norm'), xb, L.postAttnNorm, x, false, true));
    else ops.push(c.product(n('o'), L.o, att, x, { yStride: h.nEmbd, flags: MATMUL_FLAGS.ACCUMULATE }));
    ops.push(c.norm(n('ffn norm'), x, L.ffnNorm, xb), c.product(n('gate'), L.gate, xb, g, { yStride: h.nFf }), c.product(n('up'), L.up, xb, u, { yStride: h.nFf }));
    ops.push(c.gatedActivation(n('gated act')));
    if (L.postFfnNorm) ops.push(c.product(n('down'), L.down, g, xb, { yStride: h.nEmbd }), c.norm(n('post ffn norm'), xb, L.postFfnNorm, x, false, true));
    else ops.push(c.product(n('down'), L.down, g, x, { yStride: h.nEmbd, flags: MATMUL_FLAGS.ACCUMULATE }));
    layers.push(...ops);
  });
  const head: Op[] = [
    c.norm('output norm', x, weights.outputNorm, act.xLast, true),
    c.product('output', weights.output, act.xLast, act.logits, { yStride: h.nVocab, single: true }),
  ];
  if (arch.finalSoftCap) head.push(c.softCap());
  return { layers, head };
}
