/**
 * How each GGUF weight type is decoded inside the kernels. The tensor bytes sit on the GPU exactly as in the file
 * (an array<u32> over the packed block stream); each format supplies one WGSL function
 *
 *   fn decode_unit(row_base: u32, u: u32) -> array<vec4f, UV>
 *
 * that decodes the u-th "unit" of a row whose bytes start at `row_base`: UV×4 consecutive weights. Quantized formats
 * use units of 32 weights (a whole Q4_0-style block, or one 32-weight sub-block of a 256-weight K-quant block);
 * plain float formats use units of 4. Matrix-vector, matrix-matrix and embedding kernels are generated around it,
 * so a new format is one entry here and no new kernel.
 *
 * Block layouts are ggml's (ggml-common.h; dequantize_row_* in ggml-quants.c). Every block size is even, so a
 * block starts 2-byte aligned: `ld` reads a u32 at any 2-aligned byte offset by joining two words.
 */
import { RbeeError } from '../../errors.ts';
import { ggmlTypeName } from '../../loaders/ggml-types.ts';

export interface WeightFormat {
  id: number;
  name: string;
  /** Weights per unit (UV × 4). */
  unitElems: number;
  /** Weights per ggml block and bytes per block. */
  blockElems: number;
  blockBytes: number;
  /** WGSL: decode_unit(). */
  wgsl: string;
}

/** Byte access over `W: array<u32>` (declared by the kernel), shared by all formats. */
export const BYTE_ACCESS_WGSL = /* wgsl */ `
fn ld(o: u32) -> u32 {
  let i = o >> 2u;
  let s = (o & 3u) * 8u;
  if (s == 0u) { return W[i]; }
  return (W[i] >> s) | (W[i + 1u] << (32u - s));
}
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

const f32Format: WeightFormat = {
  id: 0, name: 'F32', unitElems: 4, blockElems: 1, blockBytes: 4,
  wgsl: /* wgsl */ `
const UV = 1u;
fn decode_unit(rb: u32, u: u32) -> array<vec4f, UV> {
  let i = (rb >> 2u) + u * 4u;
  return array<vec4f, UV>(bitcast<vec4f>(vec4u(W[i], W[i + 1u], W[i + 2u], W[i + 3u])));
}`,
};

const f16Format: WeightFormat = {
  id: 1, name: 'F16', unitElems: 4, blockElems: 1, blockBytes: 2,
  wgsl: /* wgsl */ `
const UV = 1u;
fn decode_unit(rb: u32, u: u32) -> array<vec4f, UV> {
  let o = rb + u * 8u;
  return array<vec4f, UV>(vec4f(unpack2x16float(ld(o)), unpack2x16float(ld(o + 4u))));
}`,
};

const bf16Format: WeightFormat = {
  id: 30, name: 'BF16', unitElems: 4, blockElems: 1, blockBytes: 2,
  wgsl: /* wgsl */ `
const UV = 1u;
fn decode_unit(rb: u32, u: u32) -> array<vec4f, UV> {
  let o = rb + u * 8u;
  let a = ld(o);
  let b = ld(o + 4u);
  return array<vec4f, UV>(bitcast<vec4f>(vec4u(a << 16u, a & 0xffff0000u, b << 16u, b & 0xffff0000u)));
}`,
};

// Q4_0: { f16 d; u8 qs[16] } — weight j = d·(lo nibble of qs[j] − 8), weight j+16 = d·(hi nibble − 8).
const q4_0: WeightFormat = {
  id: 2, name: 'Q4_0', unitElems: 32, blockElems: 32, blockBytes: 18,
  wgsl: /* wgsl */ `
const UV = 8u;
fn decode_unit(rb: u32, u: u32) -> array<vec4f, UV> {
  let b = rb + u * 18u;
  let d = f16at(b);
  var r: array<vec4f, UV>;
  for (var i = 0u; i < 4u; i++) {
    let q = ld(b + 2u + 4u * i);
    r[i] = (u8x4(q & 0x0f0f0f0fu) - 8.0) * d;
    r[i + 4u] = (u8x4((q >> 4u) & 0x0f0f0f0fu) - 8.0) * d;
  }
  return r;
}`,
};

// Q4_1: { f16 d, m; u8 qs[16] } — weight = d·nibble + m.
const q4_1: WeightFormat = {
  id: 3, name: 'Q4_1', unitElems: 32, blockElems: 32, blockBytes: 20,
  wgsl: /* wgsl */ `
const UV = 8u;
fn decode_unit(rb: u32, u: u32) -> array<vec4f, UV> {
  let b = rb + u * 20u;
  let dm = unpack2x16float(ld(b));
  var r: array<vec4f, UV>;
  for (var i = 0u; i < 4u; i++) {
    let q = ld(b + 4u + 4u * i);
    r[i] = u8x4(q & 0x0f0f0f0fu) * dm.x + dm.y;
    r[i + 4u] = u8x4((q >> 4u) & 0x0f0f0f0fu) * dm.x + dm.y;
  }
  return r;
}`,
};

// Q5_0: { f16 d; u32 qh; u8 qs[16] } — 5th bit of weight j is bit j of qh (j < 16 low nibbles, j ≥ 16 high); value − 16.
const q5_0: WeightFormat = {
  id: 6, name: 'Q5_0', unitElems: 32, blockElems: 32, blockBytes: 22,
  wgsl: /* wgsl */ `
const UV = 8u;
fn decode_unit(rb: u32, u: u32) -> array<vec4f, UV> {
  let b = rb + u * 22u;
  let d = f16at(b);
  let qh = ld(b + 2u);
  var r: array<vec4f, UV>;
  for (var i = 0u; i < 4u; i++) {
    let q = ld(b + 6u + 4u * i);
    r[i] = (u8x4(q & 0x0f0f0f0fu) + 16.0 * bits4(qh >> (4u * i)) - 16.0) * d;
    r[i + 4u] = (u8x4((q >> 4u) & 0x0f0f0f0fu) + 16.0 * bits4(qh >> (16u + 4u * i)) - 16.0) * d;
  }
  return r;
}`,
};

// Q5_1: { f16 d, m; u32 qh; u8 qs[16] } — weight = d·(5-bit value) + m.
const q5_1: WeightFormat = {
  id: 7, name: 'Q5_1', unitElems: 32, blockElems: 32, blockBytes: 24,
  wgsl: /* wgsl */ `
const UV = 8u;
fn decode_unit(rb: u32, u: u32) -> array<vec4f, UV> {
  let b = rb + u * 24u;
  let dm = unpack2x16float(ld(b));
  let qh = ld(b + 4u);
  var r: array<vec4f, UV>;
  for (var i = 0u; i < 4u; i++) {
    let q = ld(b + 8u + 4u * i);
    r[i] = (u8x4(q & 0x0f0f0f0fu) + 16.0 * bits4(qh >> (4u * i))) * dm.x + dm.y;
    r[i + 4u] = (u8x4((q >> 4u) & 0x0f0f0f0fu) + 16.0 * bits4(qh >> (16u + 4u * i))) * dm.x + dm.y;
  }
  return r;
}`,
};

// Q8_0: { f16 d; i8 qs[32] }.
const q8_0: WeightFormat = {
  id: 8, name: 'Q8_0', unitElems: 32, blockElems: 32, blockBytes: 34,
  wgsl: /* wgsl */ `
const UV = 8u;
fn decode_unit(rb: u32, u: u32) -> array<vec4f, UV> {
  let b = rb + u * 34u;
  let d = f16at(b);
  var r: array<vec4f, UV>;
  for (var i = 0u; i < 8u; i++) { r[i] = i8x4(ld(b + 2u + 4u * i)) * d; }
  return r;
}`,
};

// IQ4_NL: { f16 d; u8 qs[16] } — like Q4_0 but each nibble indexes the non-linear table kvalues_iq4nl.
const iq4_nl: WeightFormat = {
  id: 20, name: 'IQ4_NL', unitElems: 32, blockElems: 32, blockBytes: 18,
  wgsl: /* wgsl */ `
const UV = 8u;
var<private> KVALUES: array<f32, 16> = array<f32, 16>(-127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0,
  1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0);
fn iq4x4(q: u32) -> vec4f {
  return vec4f(KVALUES[q & 15u], KVALUES[(q >> 8u) & 15u], KVALUES[(q >> 16u) & 15u], KVALUES[(q >> 24u) & 15u]);
}
fn decode_unit(rb: u32, u: u32) -> array<vec4f, UV> {
  let b = rb + u * 18u;
  let d = f16at(b);
  var r: array<vec4f, UV>;
  for (var i = 0u; i < 4u; i++) {
    let q = ld(b + 2u + 4u * i);
    r[i] = iq4x4(q) * d;
    r[i + 4u] = iq4x4(q >> 4u) * d;
  }
  return r;
}`,
};

// Q2_K: { u8 scales[16]; u8 qs[64]; f16 d, dmin } per 256. Sub-block s (32 weights): half n = s/4, j = s%4;
// 2-bit value at (qs[n·32 + l] >> 2j) & 3; scale byte scales[n·8 + 2j + l/16]: d·(lo nibble), minus dmin·(hi nibble).
const q2_k: WeightFormat = {
  id: 10, name: 'Q2_K', unitElems: 32, blockElems: 256, blockBytes: 84,
  wgsl: /* wgsl */ `
const UV = 8u;
fn decode_unit(rb: u32, u: u32) -> array<vec4f, UV> {
  let b = rb + (u >> 3u) * 84u;
  let s = u & 7u;
  let n = s >> 2u;
  let j = s & 3u;
  let dm = unpack2x16float(ld(b + 80u));
  var r: array<vec4f, UV>;
  for (var h = 0u; h < 2u; h++) {
    let sc = ld8(b + n * 8u + 2u * j + h);
    let dl = dm.x * f32(sc & 15u);
    let ml = dm.y * f32(sc >> 4u);
    for (var i = 0u; i < 4u; i++) {
      let q = ld(b + 16u + n * 32u + 16u * h + 4u * i);
      r[h * 4u + i] = u8x4((q >> (2u * j)) & 0x03030303u) * dl - ml;
    }
  }
  return r;
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
fn decode_unit(rb: u32, u: u32) -> array<vec4f, UV> {
  let b = rb + (u >> 3u) * 110u;
  let s = u & 7u;
  let n = s >> 2u;
  let j = s & 3u;
  let d = f16at(b + 108u);
  var r: array<vec4f, UV>;
  for (var h = 0u; h < 2u; h++) {
    let dl = d * q3k_scale(b, n * 8u + 2u * j + h);
    for (var i = 0u; i < 4u; i++) {
      let w = h * 4u + i;
      let q = (ld(b + 32u + n * 32u + 4u * w) >> (2u * j)) & 0x03030303u;
      let m = (ld(b + 4u * w) >> (4u * n + j)) & 0x01010101u;
      r[w] = (u8x4(q) + 4.0 * u8x4(m) - 4.0) * dl;
    }
  }
  return r;
}`,
};

/** get_scale_min_k4 (Q4_K, Q5_K): 8 pairs of 6-bit (scale, min) packed in 12 bytes at `o`. */
const SCALE_MIN_K4_WGSL = /* wgsl */ `
fn scale_min_k4(o: u32, j: u32) -> vec2f {
  if (j < 4u) { return vec2f(f32(ld8(o + j) & 63u), f32(ld8(o + j + 4u) & 63u)); }
  let a = ld8(o + j + 4u);
  return vec2f(f32((a & 15u) | ((ld8(o + j - 4u) >> 6u) << 4u)), f32((a >> 4u) | ((ld8(o + j) >> 6u) << 4u)));
}`;

// Q4_K: { f16 d, dmin; u8 scales[12]; u8 qs[128] } per 256. Sub-block s: nibble (s%2) of qs[(s/2)·32 + l];
// weight = d·sc_s·q − dmin·m_s.
const q4_k: WeightFormat = {
  id: 12, name: 'Q4_K', unitElems: 32, blockElems: 256, blockBytes: 144,
  wgsl: /* wgsl */ `
const UV = 8u;
${SCALE_MIN_K4_WGSL}
fn decode_unit(rb: u32, u: u32) -> array<vec4f, UV> {
  let b = rb + (u >> 3u) * 144u;
  let s = u & 7u;
  let dm = unpack2x16float(ld(b));
  let sm = scale_min_k4(b + 4u, s);
  let dl = dm.x * sm.x;
  let ml = dm.y * sm.y;
  let shift = 4u * (s & 1u);
  var r: array<vec4f, UV>;
  for (var i = 0u; i < 8u; i++) {
    let q = (ld(b + 16u + (s >> 1u) * 32u + 4u * i) >> shift) & 0x0f0f0f0fu;
    r[i] = u8x4(q) * dl - ml;
  }
  return r;
}`,
};

// Q5_K: { f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128] } per 256. As Q4_K plus a 5th bit: bit s of qh[l].
const q5_k: WeightFormat = {
  id: 13, name: 'Q5_K', unitElems: 32, blockElems: 256, blockBytes: 176,
  wgsl: /* wgsl */ `
const UV = 8u;
${SCALE_MIN_K4_WGSL}
fn decode_unit(rb: u32, u: u32) -> array<vec4f, UV> {
  let b = rb + (u >> 3u) * 176u;
  let s = u & 7u;
  let dm = unpack2x16float(ld(b));
  let sm = scale_min_k4(b + 4u, s);
  let dl = dm.x * sm.x;
  let ml = dm.y * sm.y;
  let shift = 4u * (s & 1u);
  var r: array<vec4f, UV>;
  for (var i = 0u; i < 8u; i++) {
    let q = (ld(b + 48u + (s >> 1u) * 32u + 4u * i) >> shift) & 0x0f0f0f0fu;
    let h = (ld(b + 16u + 4u * i) >> s) & 0x01010101u;
    r[i] = (u8x4(q) + 16.0 * u8x4(h)) * dl - ml;
  }
  return r;
}`,
};

// Q6_K: { u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d } per 256. Sub-block s: n = s/4, k = s%4;
// low 4 bits: nibble (k/2) of ql[n·64 + (k%2)·32 + l]; high 2 bits: (qh[n·32 + l] >> 2k) & 3; value − 32;
// scale scales[n·8 + 2k + l/16].
const q6_k: WeightFormat = {
  id: 14, name: 'Q6_K', unitElems: 32, blockElems: 256, blockBytes: 210,
  wgsl: /* wgsl */ `
const UV = 8u;
fn decode_unit(rb: u32, u: u32) -> array<vec4f, UV> {
  let b = rb + (u >> 3u) * 210u;
  let s = u & 7u;
  let n = s >> 2u;
  let k = s & 3u;
  let d = f16at(b + 208u);
  var r: array<vec4f, UV>;
  for (var h = 0u; h < 2u; h++) {
    let sc = f32(bitcast<i32>(ld8(b + 192u + n * 8u + 2u * k + h) << 24u) >> 24u) * d;
    for (var i = 0u; i < 4u; i++) {
      let w = h * 4u + i;
      let ql = (ld(b + n * 64u + (k & 1u) * 32u + 4u * w) >> (4u * (k >> 1u))) & 0x0f0f0f0fu;
      let qh = (ld(b + 128u + n * 32u + 4u * w) >> (2u * k)) & 0x03030303u;
      r[w] = (u8x4(ql) + 16.0 * u8x4(qh) - 32.0) * sc;
    }
  }
  return r;
}`,
};

const FORMATS = new Map<number, WeightFormat>(
  [f32Format, f16Format, bf16Format, q4_0, q4_1, q5_0, q5_1, q8_0, iq4_nl, q2_k, q3_k, q4_k, q5_k, q6_k].map((f) => [f.id, f]),
);

/** Type ids the engine decodes on the GPU. */
export const SUPPORTED_WEIGHT_TYPES: readonly number[] = [...FORMATS.keys()];

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
