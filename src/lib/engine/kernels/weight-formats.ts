/**
 * How each GGUF weight type is decoded inside the kernels. The tensor bytes sit on the GPU exactly as in the file
 * (an array<u32> over the packed block stream); each format supplies two WGSL functions
 *
 *   fn unit_at(row_base: u32, u: u32) -> Unit     // the u-th "unit" of a row: addresses, shifts, decoded scales
 *   fn decode4(un: Unit, i: u32) -> vec4f          // its weights 4i…4i+3 (i < UV)
 *
 * A unit is UV×4 consecutive weights: 32 for quantized formats (a whole Q4_0-style block, or one 32-weight
 * sub-block of a 256-weight K-quant block), 4 for plain floats. Scales are decoded once per unit in unit_at; decode4
 * is a load, shifts and one multiply-add. No arrays: arrays returned from functions land in per-lane memory on some
 * backends (SwiftShader), and kernels write the i loop out so `i` is a constant. Matrix-vector, matrix-matrix and
 * embedding kernels are generated around it, so a new format is one entry here and no new kernel. A format may add
 * a whole-unit dot product for the matrix-vector kernels (unitDotWgsl: word-aligned reads, each word read once,
 * scales applied once per unit), where decoding spends its time.
 *
 * Block layouts are ggml's (ggml-common.h; dequantize_row_* in ggml-quants.c). Every block size is even, so a
 * block starts 2-byte aligned: `ld` reads a u32 at any 2-aligned byte offset by joining two words.
 */
import { RbeeError } from '../../errors.ts';
import { ggmlTypeName } from '../../formats/ggml-types.ts';

export interface WeightFormat {
  id: number;
  name: string;
  /** Weights per unit (UV × 4). */
  unitElems: number;
  /** Weights per ggml block and bytes per block. */
  blockElems: number;
  blockBytes: number;
  /** WGSL: UV, unit_at() and decode4(). */
  wgsl: string;
  /**
   * WGSL: an optional fn unit_dot(rb: u32, u: u32, xs: f32, x0: vec4f, …) -> f32, the unit's dot product with its
   * activations x0 … (xs: their sum), for matrix-vector kernels; without it one is built from unit_at and decode4.
   */
  unitDotWgsl?: string;
  /** unit_dot reads xs (formats with a per-unit minimum: Σ (d·q − m)·x = d·Σ q·x − m·Σ x). */
  unitDotNeedsXSum?: boolean;
}

/**
 * Byte access over `W: array<u32>` (declared by the kernel), shared by all formats. `ld` reads a u32 at any
 * 2-aligned byte offset without a branch (the second word's shift is split in two so that s = 0 shifts it out
 * entirely); weight buffers carry 4 spare bytes so the second word always exists.
 */
export const BYTE_ACCESS_WGSL = /* wgsl */ `
struct Unit { a: u32, h: u32, e: u32, s: vec4f }
fn ld(o: u32) -> u32 {
  let i = o >> 2u;
  let s = (o & 3u) * 8u;
  return (W[i] >> s) | ((W[i + 1u] << 1u) << (31u - s));
}
// The word at byte (4·index(a) + t/8) from the consecutive words a, b (t = 0 or 16: a 2-aligned field).
fn join(a: u32, b: u32, t: u32) -> u32 { return (a >> t) | ((b << 1u) << (31u - t)); }
fn ld8(o: u32) -> u32 { return (W[o >> 2u] >> ((o & 3u) * 8u)) & 0xffu; }
fn ld16(o: u32) -> u32 { return (W[o >> 2u] >> ((o & 2u) * 8u)) & 0xffffu; }
fn f16at(o: u32) -> f32 { return unpack2x16float(ld16(o)).x; }
fn u8x4(q: u32) -> vec4f { return vec4f(f32(q & 0xffu), f32((q >> 8u) & 0xffu), f32((q >> 16u) & 0xffu), f32(q >> 24u)); }
fn i8x4(q: u32) -> vec4f {
  let v = bitcast<vec4i>(vec4u(q << 24u, q << 16u, q << 8u, q)) >> vec4u(24u);
  return vec4f(v);
}
fn bits4(q: u32) -> vec4f { return vec4f(f32(q & 1u), f32((q >> 1u) & 1u), f32((q >> 2u) & 1u), f32((q >> 3u) & 1u)); }
`;

/**
 * unit_dot for a 32-weight block whose 16 quant bytes (at byte qOff of the block) hold weight j's 4 low bits in the
 * low nibble of byte j (j < 16) or the high nibble of byte j − 16. The block starts 2-aligned (`aligned`: 4-aligned,
 * as in blocks of 20 or 24 bytes): the 5 words under the quant bytes are read once and joined. `prelude` reads the
 * block's scales from byte offset b; `value(k, lo)` is the vec4f of quant group k's values (q: the joined nibbles);
 * `result` turns the sum `acc` (Σ value·x) into the unit's dot product.
 */
function nibbleBlockDot(o: { blockBytes: number; qOff: number; aligned: boolean; prelude: string; value: (q: string, k: number) => string; result: string }): string {
  const params = Array.from({ length: 8 }, (_, i) => `x${i}: vec4f`).join(', ');
  const words = o.aligned
    ? Array.from({ length: 4 }, (_, k) => `let q${k} = W[i + ${k}u];`)
    : [...Array.from({ length: 5 }, (_, k) => `let w${k} = W[i + ${k}u];`), ...Array.from({ length: 4 }, (_, k) => `let q${k} = join(w${k}, w${k + 1}, t);`)];
  const terms = [
    ...Array.from({ length: 4 }, (_, k) => `dot(${o.value(`(q${k} & 0x0f0f0f0fu)`, k)}, x${k})`),
    ...Array.from({ length: 4 }, (_, k) => `dot(${o.value(`((q${k} >> 4u) & 0x0f0f0f0fu)`, k + 4)}, x${k + 4})`),
  ];
  return /* wgsl */ `
fn unit_dot(rb: u32, u: u32, xs: f32, ${params}) -> f32 {
  let b = rb + u * ${o.blockBytes}u;
  ${o.prelude}
  let i = (b + ${o.qOff}u) >> 2u;
  ${o.aligned ? '' : `let t = ((b + ${o.qOff}u) & 2u) * 8u;`}
  ${words.join('\n  ')}
  let acc = ${terms.join(' +\n    ')};
  return ${o.result};
}`;
}

const f32Format: WeightFormat = {
  id: 0, name: 'F32', unitElems: 4, blockElems: 1, blockBytes: 4,
  wgsl: /* wgsl */ `
const UV = 1u;
fn unit_at(rb: u32, u: u32) -> Unit { return Unit((rb >> 2u) + u * 4u, 0u, 0u, vec4f()); }
fn decode4(un: Unit, i: u32) -> vec4f {
  return bitcast<vec4f>(vec4u(W[un.a], W[un.a + 1u], W[un.a + 2u], W[un.a + 3u]));
}`,
};

const f16Format: WeightFormat = {
  id: 1, name: 'F16', unitElems: 4, blockElems: 1, blockBytes: 2,
  wgsl: /* wgsl */ `
const UV = 1u;
fn unit_at(rb: u32, u: u32) -> Unit { return Unit(rb + u * 8u, 0u, 0u, vec4f()); }
fn decode4(un: Unit, i: u32) -> vec4f { return vec4f(unpack2x16float(ld(un.a)), unpack2x16float(ld(un.a + 4u))); }`,
  // Matrix-vector form: rows of 2k bytes with k a multiple of 4 start 8-aligned, so a unit is two plain words.
  unitDotWgsl: /* wgsl */ `
fn unit_dot(rb: u32, u: u32, xs: f32, x0: vec4f) -> f32 {
  let i = (rb >> 2u) + 2u * u;
  return dot(vec4f(unpack2x16float(W[i]), unpack2x16float(W[i + 1u])), x0);
}`,
};

const bf16Format: WeightFormat = {
  id: 30, name: 'BF16', unitElems: 4, blockElems: 1, blockBytes: 2,
  wgsl: /* wgsl */ `
const UV = 1u;
fn unit_at(rb: u32, u: u32) -> Unit { return Unit(rb + u * 8u, 0u, 0u, vec4f()); }
fn decode4(un: Unit, i: u32) -> vec4f {
  let a = ld(un.a);
  let b = ld(un.a + 4u);
  return bitcast<vec4f>(vec4u(a << 16u, a & 0xffff0000u, b << 16u, b & 0xffff0000u));
}`,
  unitDotWgsl: /* wgsl */ `
fn unit_dot(rb: u32, u: u32, xs: f32, x0: vec4f) -> f32 {
  let i = (rb >> 2u) + 2u * u;
  let a = W[i];
  let b = W[i + 1u];
  return dot(bitcast<vec4f>(vec4u(a << 16u, a & 0xffff0000u, b << 16u, b & 0xffff0000u)), x0);
}`,
};

// Q4_0: { f16 d; u8 qs[16] } — weight j = d·(lo nibble of qs[j] − 8), weight j+16 = d·(hi nibble − 8).
const q4_0: WeightFormat = {
  id: 2, name: 'Q4_0', unitElems: 32, blockElems: 32, blockBytes: 18,
  wgsl: /* wgsl */ `
const UV = 8u;
fn unit_at(rb: u32, u: u32) -> Unit { let b = rb + u * 18u; return Unit(b + 2u, 0u, 0u, vec4f(f16at(b))); }
fn decode4(un: Unit, i: u32) -> vec4f {
  let q = (ld(un.a + 4u * (i & 3u)) >> (4u * (i >> 2u))) & 0x0f0f0f0fu;
  return (u8x4(q) - 8.0) * un.s.x;
}`,
  // Matrix-vector form: quant words read once (joined), d applied once per block: Σ d·(q − 8)·x = d·(Σ q·x − 8·Σ x).
  unitDotNeedsXSum: true,
  unitDotWgsl: nibbleBlockDot({ blockBytes: 18, qOff: 2, aligned: false, prelude: 'let d = f16at(b);', value: (q) => `u8x4(${q})`, result: 'd * (acc - 8.0 * xs)' }),
};

// Q4_1: { f16 d, m; u8 qs[16] } — weight = d·nibble + m.
const q4_1: WeightFormat = {
  id: 3, name: 'Q4_1', unitElems: 32, blockElems: 32, blockBytes: 20,
  wgsl: /* wgsl */ `
const UV = 8u;
fn unit_at(rb: u32, u: u32) -> Unit { let b = rb + u * 20u; return Unit(b + 4u, 0u, 0u, vec4f(unpack2x16float(ld(b)), 0.0, 0.0)); }
fn decode4(un: Unit, i: u32) -> vec4f {
  let q = (ld(un.a + 4u * (i & 3u)) >> (4u * (i >> 2u))) & 0x0f0f0f0fu;
  return u8x4(q) * un.s.x + un.s.y;
}`,
  unitDotNeedsXSum: true,
  unitDotWgsl: nibbleBlockDot({ blockBytes: 20, qOff: 4, aligned: true, prelude: 'let dm = unpack2x16float(W[b >> 2u]);', value: (q) => `u8x4(${q})`, result: 'dm.x * acc + dm.y * xs' }),
};

// Q5_0: { f16 d; u32 qh; u8 qs[16] } — 5th bit of weight j is bit j of qh (j < 16 low nibbles, j ≥ 16 high); value − 16.
const q5_0: WeightFormat = {
  id: 6, name: 'Q5_0', unitElems: 32, blockElems: 32, blockBytes: 22,
  wgsl: /* wgsl */ `
const UV = 8u;
// Weights 4i…4i+3 take their 5th bits from bits 4i…4i+3 of qh, for the low (i < 4) and high (i ≥ 4) nibbles alike.
fn unit_at(rb: u32, u: u32) -> Unit { let b = rb + u * 22u; return Unit(b + 6u, ld(b + 2u), 0u, vec4f(f16at(b))); }
fn decode4(un: Unit, i: u32) -> vec4f {
  let q = (ld(un.a + 4u * (i & 3u)) >> (4u * (i >> 2u))) & 0x0f0f0f0fu;
  return (u8x4(q) + 16.0 * bits4(un.h >> (4u * i)) - 16.0) * un.s.x;
}`,
  unitDotNeedsXSum: true,
  unitDotWgsl: nibbleBlockDot({
    blockBytes: 22, qOff: 6, aligned: false,
    prelude: 'let d = f16at(b); let qh = join(W[(b + 2u) >> 2u], W[((b + 2u) >> 2u) + 1u], ((b + 2u) & 2u) * 8u);',
    value: (q, k) => `(u8x4(${q}) + 16.0 * bits4(qh >> ${4 * k}u))`,
    result: 'd * (acc - 16.0 * xs)',
  }),
};

// Q5_1: { f16 d, m; u32 qh; u8 qs[16] } — weight = d·(5-bit value) + m.
const q5_1: WeightFormat = {
  id: 7, name: 'Q5_1', unitElems: 32, blockElems: 32, blockBytes: 24,
  wgsl: /* wgsl */ `
const UV = 8u;
fn unit_at(rb: u32, u: u32) -> Unit { let b = rb + u * 24u; return Unit(b + 8u, ld(b + 4u), 0u, vec4f(unpack2x16float(ld(b)), 0.0, 0.0)); }
fn decode4(un: Unit, i: u32) -> vec4f {
  let q = (ld(un.a + 4u * (i & 3u)) >> (4u * (i >> 2u))) & 0x0f0f0f0fu;
  return (u8x4(q) + 16.0 * bits4(un.h >> (4u * i))) * un.s.x + un.s.y;
}`,
  unitDotNeedsXSum: true,
  unitDotWgsl: nibbleBlockDot({
    blockBytes: 24, qOff: 8, aligned: true,
    prelude: 'let dm = unpack2x16float(W[b >> 2u]); let qh = W[(b >> 2u) + 1u];',
    value: (q, k) => `(u8x4(${q}) + 16.0 * bits4(qh >> ${4 * k}u))`,
    result: 'dm.x * acc + dm.y * xs',
  }),
};

// Q8_0: { f16 d; i8 qs[32] }.
const q8_0: WeightFormat = {
  id: 8, name: 'Q8_0', unitElems: 32, blockElems: 32, blockBytes: 34,
  wgsl: /* wgsl */ `
const UV = 8u;
fn unit_at(rb: u32, u: u32) -> Unit { let b = rb + u * 34u; return Unit(b + 2u, 0u, 0u, vec4f(f16at(b))); }
fn decode4(un: Unit, i: u32) -> vec4f { return i8x4(ld(un.a + 4u * i)) * un.s.x; }`,
  // Matrix-vector form: a block (34 bytes) starts 2-aligned, so its d sits in the low or high half of its first word
  // and its quants either fill the next 8 words or straddle 9: the 9 words are read once (not twice per quant word
  // as ld does) and the quants shifted out of them; d applies once per block.
  unitDotWgsl: /* wgsl */ `
fn unit_dot(rb: u32, u: u32, xs: f32, x0: vec4f, x1: vec4f, x2: vec4f, x3: vec4f, x4: vec4f, x5: vec4f, x6: vec4f, x7: vec4f) -> f32 {
  let o = rb + u * 34u;
  let i = o >> 2u;
  let t = (o & 2u) * 8u;
  let w0 = W[i + 0u];
  let w1 = W[i + 1u];
  let w2 = W[i + 2u];
  let w3 = W[i + 3u];
  let w4 = W[i + 4u];
  let w5 = W[i + 5u];
  let w6 = W[i + 6u];
  let w7 = W[i + 7u];
  let w8 = W[i + 8u];
  let d = unpack2x16float(w0 >> t).x;
  // Quant word k: bytes 4k+2 … 4k+5 of the block: (w_k >> 16 | w_k+1 << 16) when the block is word-aligned (t = 0),
  // else w_k+1 (t = 16 shifts w_k out entirely).
  let acc = dot(i8x4(((w0 >> 16u) >> t) | (w1 << (16u - t))), x0) +
    dot(i8x4(((w1 >> 16u) >> t) | (w2 << (16u - t))), x1) +
    dot(i8x4(((w2 >> 16u) >> t) | (w3 << (16u - t))), x2) +
    dot(i8x4(((w3 >> 16u) >> t) | (w4 << (16u - t))), x3) +
    dot(i8x4(((w4 >> 16u) >> t) | (w5 << (16u - t))), x4) +
    dot(i8x4(((w5 >> 16u) >> t) | (w6 << (16u - t))), x5) +
    dot(i8x4(((w6 >> 16u) >> t) | (w7 << (16u - t))), x6) +
    dot(i8x4(((w7 >> 16u) >> t) | (w8 << (16u - t))), x7);
  return d * acc;
}`,
};

// IQ4_NL: { f16 d; u8 qs[16] } — like Q4_0 but each nibble indexes the non-linear table kvalues_iq4nl.
const iq4_nl: WeightFormat = {
  id: 20, name: 'IQ4_NL', unitElems: 32, blockElems: 32, blockBytes: 18,
  wgsl: /* wgsl */ `
const UV = 8u;
var<private> KVALUES: array<f32, 16> = array<f32, 16>(-127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0,
  1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0);
fn unit_at(rb: u32, u: u32) -> Unit { let b = rb + u * 18u; return Unit(b + 2u, 0u, 0u, vec4f(f16at(b))); }
fn decode4(un: Unit, i: u32) -> vec4f {
  let q = ld(un.a + 4u * (i & 3u)) >> (4u * (i >> 2u));
  return vec4f(KVALUES[q & 15u], KVALUES[(q >> 8u) & 15u], KVALUES[(q >> 16u) & 15u], KVALUES[(q >> 24u) & 15u]) * un.s.x;
}`,
  unitDotWgsl: nibbleBlockDot({
    blockBytes: 18, qOff: 2, aligned: false, prelude: 'let d = f16at(b);',
    value: (q) => `vec4f(KVALUES[${q} & 15u], KVALUES[(${q} >> 8u) & 15u], KVALUES[(${q} >> 16u) & 15u], KVALUES[${q} >> 24u])`,
    result: 'd * acc',
  }),
};

// Q2_K: { u8 scales[16]; u8 qs[64]; f16 d, dmin } per 256. Sub-block s (32 weights): half n = s/4, j = s%4;
// 2-bit value at (qs[n·32 + l] >> 2j) & 3; scale byte scales[n·8 + 2j + l/16]: d·(lo nibble), minus dmin·(hi nibble).
const q2_k: WeightFormat = {
  id: 10, name: 'Q2_K', unitElems: 32, blockElems: 256, blockBytes: 84,
  wgsl: /* wgsl */ `
const UV = 8u;
// Unit: a = its 32 quant bytes, e = bit shift 2j, s = (scale, min) of weights 0–15 then of 16–31.
fn unit_at(rb: u32, u: u32) -> Unit {
  let b = rb + (u >> 3u) * 84u;
  let n = (u & 7u) >> 2u;
  let j = u & 3u;
  let dm = unpack2x16float(ld(b + 80u));
  let sc0 = ld8(b + n * 8u + 2u * j);
  let sc1 = ld8(b + n * 8u + 2u * j + 1u);
  return Unit(b + 16u + n * 32u, 0u, 2u * j,
    vec4f(dm.x * f32(sc0 & 15u), dm.y * f32(sc0 >> 4u), dm.x * f32(sc1 & 15u), dm.y * f32(sc1 >> 4u)));
}
fn decode4(un: Unit, i: u32) -> vec4f {
  let q = (ld(un.a + 4u * i) >> un.e) & 0x03030303u;
  let sm = select(un.s.xy, un.s.zw, i >= 4u);
  return u8x4(q) * sm.x - sm.y;
}`,
};

// Q3_K: { u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d } per 256. Sub-block s: n = s/4, j = s%4; low 2 bits at
// (qs[n·32 + l] >> 2j) & 3, minus 4 unless bit (4n + j) of hmask[l] is set; 16 6-bit scales packed in 12 bytes
// (low nibbles in bytes 0–7, high 2-bit pairs in bytes 8–11), minus 32.
const q3_k: WeightFormat = {
  id: 11, name: 'Q3_K', unitElems: 32, blockElems: 256, blockBytes: 110,
  wgsl: /* wgsl */ `
const UV = 8u;
fn q3k_scale(b: u32, k: u32) -> f32 {
  let lo = select(ld8(b + 96u + k - 8u) >> 4u, ld8(b + 96u + k) & 15u, k < 8u);
  let hi = (ld8(b + 104u + (k & 3u)) >> (2u * (k >> 2u))) & 3u;
  return f32(i32(lo | (hi << 4u)) - 32);
}
// Unit: a = its 32 low-bit bytes, h = hmask (block start), e = low-bit shift 2j | hmask bit (4n + j) << 8,
// s.xy = scales of weights 0–15 and 16–31.
fn unit_at(rb: u32, u: u32) -> Unit {
  let b = rb + (u >> 3u) * 110u;
  let n = (u & 7u) >> 2u;
  let j = u & 3u;
  let d = f16at(b + 108u);
  let k = n * 8u + 2u * j;
  return Unit(b + 32u + n * 32u, b, (2u * j) | ((4u * n + j) << 8u), vec4f(d * q3k_scale(b, k), d * q3k_scale(b, k + 1u), 0.0, 0.0));
}
fn decode4(un: Unit, i: u32) -> vec4f {
  let q = (ld(un.a + 4u * i) >> (un.e & 255u)) & 0x03030303u;
  let m = (ld(un.h + 4u * i) >> (un.e >> 8u)) & 0x01010101u;
  return (u8x4(q) + 4.0 * u8x4(m) - 4.0) * select(un.s.x, un.s.y, i >= 4u);
}`,
};

/**
 * get_scale_min_k4 (Q4_K, Q5_K): 8 pairs of 6-bit (scale, min) packed in the 12 bytes at `o`. Written without a
 * branch on j (both cases computed, one selected): units of different j run side by side in one SIMD group.
 */
const SCALE_MIN_K4_WGSL = /* wgsl */ `
fn byte_of(w: u32, k: u32) -> u32 { return (w >> (8u * (k & 3u))) & 0xffu; }
fn scale_min_k4_words(w0: u32, w1: u32, w2: u32, j: u32) -> vec2f {
  let qj = byte_of(select(w1, w0, j < 4u), j);        // q[j]
  let qj4 = byte_of(select(w2, w1, j < 4u), j);       // q[j + 4]
  let qjm4 = byte_of(w0, j);                          // q[j − 4] (j ≥ 4)
  let lo = vec2f(f32(qj & 63u), f32(qj4 & 63u));
  let hi = vec2f(f32((qj4 & 15u) | ((qjm4 >> 6u) << 4u)), f32((qj4 >> 4u) | ((qj >> 6u) << 4u)));
  return select(hi, lo, j < 4u);
}
fn scale_min_k4(o: u32, j: u32) -> vec2f { return scale_min_k4_words(ld(o), ld(o + 4u), ld(o + 8u), j); }`;

// Q4_K: { f16 d, dmin; u8 scales[12]; u8 qs[128] } per 256. Sub-block s: nibble (s%2) of qs[(s/2)·32 + l];
// weight = d·sc_s·q − dmin·m_s.
const q4_k: WeightFormat = {
  id: 12, name: 'Q4_K', unitElems: 32, blockElems: 256, blockBytes: 144,
  wgsl: /* wgsl */ `
const UV = 8u;
${SCALE_MIN_K4_WGSL}
// Unit: a = its 32 quant bytes, e = nibble shift, s = (d·scale, dmin·min).
fn unit_at(rb: u32, u: u32) -> Unit {
  let b = rb + (u >> 3u) * 144u;
  let s = u & 7u;
  let dm = unpack2x16float(ld(b));
  let sm = scale_min_k4(b + 4u, s);
  return Unit(b + 16u + (s >> 1u) * 32u, 0u, 4u * (s & 1u), vec4f(dm.x * sm.x, dm.y * sm.y, 0.0, 0.0));
}
fn decode4(un: Unit, i: u32) -> vec4f {
  let q = (ld(un.a + 4u * i) >> un.e) & 0x0f0f0f0fu;
  return u8x4(q) * un.s.x - un.s.y;
}`,
  // Matrix-vector form: blocks are 144 bytes and rows whole blocks, so every field is word-aligned (plain W[]
  // reads, no joined halves); d·scale and dmin·min apply once per unit: Σ (d·sc·q − m)·x = d·sc·Σ q·x − m·Σ x.
  unitDotNeedsXSum: true,
  unitDotWgsl: /* wgsl */ `
fn unit_dot(rb: u32, u: u32, xs: f32, x0: vec4f, x1: vec4f, x2: vec4f, x3: vec4f, x4: vec4f, x5: vec4f, x6: vec4f, x7: vec4f) -> f32 {
  let b = (rb >> 2u) + (u >> 3u) * 36u;
  let s = u & 7u;
  let dm = unpack2x16float(W[b]);
  let sm = scale_min_k4_words(W[b + 1u], W[b + 2u], W[b + 3u], s);
  let q = b + 4u + (s >> 1u) * 8u;
  let sh = 4u * (s & 1u);
  let d = dot(u8x4((W[q + 0u] >> sh) & 0x0f0f0f0fu), x0) +
    dot(u8x4((W[q + 1u] >> sh) & 0x0f0f0f0fu), x1) +
    dot(u8x4((W[q + 2u] >> sh) & 0x0f0f0f0fu), x2) +
    dot(u8x4((W[q + 3u] >> sh) & 0x0f0f0f0fu), x3) +
    dot(u8x4((W[q + 4u] >> sh) & 0x0f0f0f0fu), x4) +
    dot(u8x4((W[q + 5u] >> sh) & 0x0f0f0f0fu), x5) +
    dot(u8x4((W[q + 6u] >> sh) & 0x0f0f0f0fu), x6) +
    dot(u8x4((W[q + 7u] >> sh) & 0x0f0f0f0fu), x7);
  return (dm.x * sm.x) * d - (dm.y * sm.y) * xs;
}`,
};

// Q5_K: { f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128] } per 256. As Q4_K plus a 5th bit: bit s of qh[l].
const q5_k: WeightFormat = {
  id: 13, name: 'Q5_K', unitElems: 32, blockElems: 256, blockBytes: 176,
  wgsl: /* wgsl */ `
const UV = 8u;
${SCALE_MIN_K4_WGSL}
// Unit: a = its 32 quant bytes, h = qh, e = nibble shift | qh bit << 8, s = (d·scale, dmin·min).
fn unit_at(rb: u32, u: u32) -> Unit {
  let b = rb + (u >> 3u) * 176u;
  let s = u & 7u;
  let dm = unpack2x16float(ld(b));
  let sm = scale_min_k4(b + 4u, s);
  return Unit(b + 48u + (s >> 1u) * 32u, b + 16u, (4u * (s & 1u)) | (s << 8u), vec4f(dm.x * sm.x, dm.y * sm.y, 0.0, 0.0));
}
fn decode4(un: Unit, i: u32) -> vec4f {
  let q = (ld(un.a + 4u * i) >> (un.e & 255u)) & 0x0f0f0f0fu;
  let h = (ld(un.h + 4u * i) >> (un.e >> 8u)) & 0x01010101u;
  return (u8x4(q) + 16.0 * u8x4(h)) * un.s.x - un.s.y;
}`,
  // Matrix-vector form: blocks are 176 bytes and rows whole blocks, so every field is word-aligned (plain W[] reads);
  // the 5th bit joins the nibble as an integer (one conversion per weight); d·scale and dmin·min apply once per unit.
  unitDotNeedsXSum: true,
  unitDotWgsl: /* wgsl */ `
fn unit_dot(rb: u32, u: u32, xs: f32, x0: vec4f, x1: vec4f, x2: vec4f, x3: vec4f, x4: vec4f, x5: vec4f, x6: vec4f, x7: vec4f) -> f32 {
  let b = (rb >> 2u) + (u >> 3u) * 44u;
  let s = u & 7u;
  let dm = unpack2x16float(W[b]);
  let sm = scale_min_k4_words(W[b + 1u], W[b + 2u], W[b + 3u], s);
  let h = b + 4u;
  let q = b + 12u + (s >> 1u) * 8u;
  let sh = 4u * (s & 1u);
  let q0 = ((W[q + 0u] >> sh) & 0x0f0f0f0fu) | (((W[h + 0u] >> s) & 0x01010101u) << 4u);
  let q1 = ((W[q + 1u] >> sh) & 0x0f0f0f0fu) | (((W[h + 1u] >> s) & 0x01010101u) << 4u);
  let q2 = ((W[q + 2u] >> sh) & 0x0f0f0f0fu) | (((W[h + 2u] >> s) & 0x01010101u) << 4u);
  let q3 = ((W[q + 3u] >> sh) & 0x0f0f0f0fu) | (((W[h + 3u] >> s) & 0x01010101u) << 4u);
  let q4 = ((W[q + 4u] >> sh) & 0x0f0f0f0fu) | (((W[h + 4u] >> s) & 0x01010101u) << 4u);
  let q5 = ((W[q + 5u] >> sh) & 0x0f0f0f0fu) | (((W[h + 5u] >> s) & 0x01010101u) << 4u);
  let q6 = ((W[q + 6u] >> sh) & 0x0f0f0f0fu) | (((W[h + 6u] >> s) & 0x01010101u) << 4u);
  let q7 = ((W[q + 7u] >> sh) & 0x0f0f0f0fu) | (((W[h + 7u] >> s) & 0x01010101u) << 4u);
  let d = dot(u8x4(q0), x0) +
    dot(u8x4(q1), x1) +
    dot(u8x4(q2), x2) +
    dot(u8x4(q3), x3) +
    dot(u8x4(q4), x4) +
    dot(u8x4(q5), x5) +
    dot(u8x4(q6), x6) +
    dot(u8x4(q7), x7);
  return (dm.x * sm.x) * d - (dm.y * sm.y) * xs;
}`,
};

// Q6_K: { u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d } per 256. Sub-block s: n = s/4, k = s%4;
// low 4 bits: nibble (k/2) of ql[n·64 + (k%2)·32 + l]; high 2 bits: (qh[n·32 + l] >> 2k) & 3; value − 32;
// scale scales[n·8 + 2k + l/16].
const q6_k: WeightFormat = {
  id: 14, name: 'Q6_K', unitElems: 32, blockElems: 256, blockBytes: 210,
  wgsl: /* wgsl */ `
const UV = 8u;
// Unit: a = its 32 ql bytes, h = its 32 qh bytes, e = ql shift | qh shift << 8, s.xy = scales of weights 0–15, 16–31.
fn unit_at(rb: u32, u: u32) -> Unit {
  let b = rb + (u >> 3u) * 210u;
  let n = (u & 7u) >> 2u;
  let k = u & 3u;
  let d = f16at(b + 208u);
  let sc = b + 192u + n * 8u + 2u * k;
  return Unit(b + n * 64u + (k & 1u) * 32u, b + 128u + n * 32u, (4u * (k >> 1u)) | ((2u * k) << 8u),
    vec4f(d * f32(bitcast<i32>(ld8(sc) << 24u) >> 24u), d * f32(bitcast<i32>(ld8(sc + 1u) << 24u) >> 24u), 0.0, 0.0));
}
fn decode4(un: Unit, i: u32) -> vec4f {
  let ql = (ld(un.a + 4u * i) >> (un.e & 255u)) & 0x0f0f0f0fu;
  let qh = (ld(un.h + 4u * i) >> (un.e >> 8u)) & 0x03030303u;
  return (u8x4(ql) + 16.0 * u8x4(qh) - 32.0) * select(un.s.x, un.s.y, i >= 4u);
}`,
  // Matrix-vector form: a block (210 bytes) starts 2-aligned and so does every field in it; the 9 words under each
  // 32-byte field are read once and joined (not twice per word as ld does), the 2 high bits join the nibble as an
  // integer, and d·scale applies once per 16 weights.
  unitDotWgsl: /* wgsl */ `
fn unit_dot(rb: u32, u: u32, xs: f32, x0: vec4f, x1: vec4f, x2: vec4f, x3: vec4f, x4: vec4f, x5: vec4f, x6: vec4f, x7: vec4f) -> f32 {
  let b = rb + (u >> 3u) * 210u;
  let n = (u & 7u) >> 2u;
  let k = u & 3u;
  let t = (b & 2u) * 8u;
  let l = (b + n * 64u + (k & 1u) * 32u) >> 2u;
  let h = (b + 128u + n * 32u) >> 2u;
  let lsh = 4u * (k >> 1u);
  let hsh = 2u * k;
  let l0 = W[l + 0u];
  let l1 = W[l + 1u];
  let l2 = W[l + 2u];
  let l3 = W[l + 3u];
  let l4 = W[l + 4u];
  let l5 = W[l + 5u];
  let l6 = W[l + 6u];
  let l7 = W[l + 7u];
  let l8 = W[l + 8u];
  let h0 = W[h + 0u];
  let h1 = W[h + 1u];
  let h2 = W[h + 2u];
  let h3 = W[h + 3u];
  let h4 = W[h + 4u];
  let h5 = W[h + 5u];
  let h6 = W[h + 6u];
  let h7 = W[h + 7u];
  let h8 = W[h + 8u];
  let q0 = ((join(l0, l1, t) >> lsh) & 0x0f0f0f0fu) | (((join(h0, h1, t) >> hsh) & 0x03030303u) << 4u);
  let q1 = ((join(l1, l2, t) >> lsh) & 0x0f0f0f0fu) | (((join(h1, h2, t) >> hsh) & 0x03030303u) << 4u);
  let q2 = ((join(l2, l3, t) >> lsh) & 0x0f0f0f0fu) | (((join(h2, h3, t) >> hsh) & 0x03030303u) << 4u);
  let q3 = ((join(l3, l4, t) >> lsh) & 0x0f0f0f0fu) | (((join(h3, h4, t) >> hsh) & 0x03030303u) << 4u);
  let q4 = ((join(l4, l5, t) >> lsh) & 0x0f0f0f0fu) | (((join(h4, h5, t) >> hsh) & 0x03030303u) << 4u);
  let q5 = ((join(l5, l6, t) >> lsh) & 0x0f0f0f0fu) | (((join(h5, h6, t) >> hsh) & 0x03030303u) << 4u);
  let q6 = ((join(l6, l7, t) >> lsh) & 0x0f0f0f0fu) | (((join(h6, h7, t) >> hsh) & 0x03030303u) << 4u);
  let q7 = ((join(l7, l8, t) >> lsh) & 0x0f0f0f0fu) | (((join(h7, h8, t) >> hsh) & 0x03030303u) << 4u);
  let a0 = dot(u8x4(q0) - 32.0, x0) +
    dot(u8x4(q1) - 32.0, x1) +
    dot(u8x4(q2) - 32.0, x2) +
    dot(u8x4(q3) - 32.0, x3);
  let a1 = dot(u8x4(q4) - 32.0, x4) +
    dot(u8x4(q5) - 32.0, x5) +
    dot(u8x4(q6) - 32.0, x6) +
    dot(u8x4(q7) - 32.0, x7);
  let so = b + 192u + n * 8u + 2u * k;
  let sc = W[so >> 2u] >> ((so & 2u) * 8u);
  let d = unpack2x16float(W[(b + 208u) >> 2u] >> t).x;
  return d * (f32(bitcast<i32>(sc << 24u) >> 24u) * a0 + f32(bitcast<i32>(sc << 16u) >> 24u) * a1);
}`,
};

const FORMATS = new Map<number, WeightFormat>(
  [f32Format, f16Format, bf16Format, q4_0, q4_1, q5_0, q5_1, q8_0, iq4_nl, q2_k, q3_k, q4_k, q5_k, q6_k].map((f) => [f.id, f]),
);

/** The ggml names of the types with a decoder here: capabilities.ts's WEIGHT_TYPES_WITH_KERNELS, checked by a test. */
export function formatNames(): string[] {
  return [...FORMATS.values()].map((f) => f.name);
}

/** The format for a ggml type id; RbeeError('unsupported-weight-type') for the rest. */
export function weightFormat(typeId: number, tensorName = 'a tensor'): WeightFormat {
  const f = FORMATS.get(typeId);
  if (!f) {
    throw new RbeeError(
      'unsupported-weight-type',
      `${tensorName} uses ${ggmlTypeName(typeId)}, which this engine cannot decode on the GPU yet.`,
      { hint: 'Pick a file in Q4_K_M, Q8_0, Q6_K, Q5_K_M, Q4_0, IQ4_NL, F16 or BF16 from the same repository.' },
    );
  }
  return f;
}

/** Bytes of one row of `k` weights (k a multiple of the block size). */
export function rowBytes(f: WeightFormat, k: number): number {
  return (k / f.blockElems) * f.blockBytes;
}
