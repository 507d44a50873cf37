/**
 * CPU reference decoders for GGUF weight blocks, written from ggml's dequantize_row_* loops (ggml-quants.c) in
 * their original shape — deliberately not in the unit-by-unit shape the WGSL kernels use — so a test comparing the
 * two checks the kernels' index arithmetic against the format, not against itself. The model generators also use
 * them to write a quantized model's exact F32 "twin" (llama.cpp runs F32 weights with f32 activations, so our engine
 * on the quantized file can be compared with llama.cpp on the twin without its 8-bit activation rounding in the way).
 */
const QK_K = 256;

export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const KVALUES_IQ4NL = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

interface Layout {
  blockElems: number;
  blockBytes: number;
  /** Decodes one block at b[o…] into y[0…blockElems). */
  decode(b: Uint8Array, o: number, y: Float32Array): void;
}

const i8 = (v: number) => (v << 24) >> 24;
const h16 = (b: Uint8Array, o: number) => f16ToF32(b[o]! | (b[o + 1]! << 8));

function scaleMinK4(j: number, q: Uint8Array, o: number): [number, number] {
  if (j < 4) return [q[o + j]! & 63, q[o + j + 4]! & 63];
  return [(q[o + j + 4]! & 0xf) | ((q[o + j - 4]! >> 6) << 4), (q[o + j + 4]! >> 4) | ((q[o + j]! >> 6) << 4)];
}

export const LAYOUTS: Record<number, Layout> = {
  // F32, F16, BF16
  0: { blockElems: 1, blockBytes: 4, decode: (b, o, y) => (y[0] = new DataView(b.buffer, b.byteOffset).getFloat32(o, true)) },
  1: { blockElems: 1, blockBytes: 2, decode: (b, o, y) => (y[0] = h16(b, o)) },
  30: {
    blockElems: 1,
    blockBytes: 2,
    decode: (b, o, y) => {
      const v = new DataView(new ArrayBuffer(4));
      v.setUint32(0, ((b[o]! | (b[o + 1]! << 8)) << 16) >>> 0);
      y[0] = v.getFloat32(0);
    },
  },
  // Q4_0
  2: {
    blockElems: 32,
    blockBytes: 18,
    decode: (b, o, y) => {
      const d = h16(b, o);
      for (let j = 0; j < 16; j++) {
        y[j] = ((b[o + 2 + j]! & 0xf) - 8) * d;
        y[j + 16] = ((b[o + 2 + j]! >> 4) - 8) * d;
      }
    },
  },
  // Q4_1
  3: {
    blockElems: 32,
    blockBytes: 20,
    decode: (b, o, y) => {
      const d = h16(b, o);
      const m = h16(b, o + 2);
      for (let j = 0; j < 16; j++) {
        y[j] = (b[o + 4 + j]! & 0xf) * d + m;
        y[j + 16] = (b[o + 4 + j]! >> 4) * d + m;
      }
    },
  },
  // Q5_0
  6: {
    blockElems: 32,
    blockBytes: 22,
    decode: (b, o, y) => {
      const d = h16(b, o);
      const qh = (b[o + 2]! | (b[o + 3]! << 8) | (b[o + 4]! << 16) | (b[o + 5]! << 24)) >>> 0;
      for (let j = 0; j < 16; j++) {
        const xh0 = ((qh >>> j) << 4) & 0x10;
        const xh1 = (qh >>> (j + 12)) & 0x10;
        y[j] = (((b[o + 6 + j]! & 0xf) | xh0) - 16) * d;
        y[j + 16] = (((b[o + 6 + j]! >> 4) | xh1) - 16) * d;
      }
    },
  },
  // Q5_1
  7: {
    blockElems: 32,
    blockBytes: 24,
    decode: (b, o, y) => {
      const d = h16(b, o);
      const m = h16(b, o + 2);
      const qh = (b[o + 4]! | (b[o + 5]! << 8) | (b[o + 6]! << 16) | (b[o + 7]! << 24)) >>> 0;
      for (let j = 0; j < 16; j++) {
        const xh0 = ((qh >>> j) << 4) & 0x10;
        const xh1 = (qh >>> (j + 12)) & 0x10;
        y[j] = ((b[o + 8 + j]! & 0xf) | xh0) * d + m;
        y[j + 16] = ((b[o + 8 + j]! >> 4) | xh1) * d + m;
      }
    },
  },
  // Q8_0
  8: {
    blockElems: 32,
    blockBytes: 34,
    decode: (b, o, y) => {
      const d = h16(b, o);
      for (let j = 0; j < 32; j++) y[j] = i8(b[o + 2 + j]!) * d;
    },
  },
  // IQ4_NL
  20: {
    blockElems: 32,
    blockBytes: 18,
    decode: (b, o, y) => {
      const d = h16(b, o);
      for (let j = 0; j < 16; j++) {
        y[j] = d * KVALUES_IQ4NL[b[o + 2 + j]! & 0xf]!;
        y[j + 16] = d * KVALUES_IQ4NL[b[o + 2 + j]! >> 4]!;
      }
    },
  },
  // Q2_K: scales[16] qs[64] d dmin
  10: {
    blockElems: QK_K,
    blockBytes: 84,
    decode: (b, o, y) => {
      const d = h16(b, o + 80);
      const min = h16(b, o + 82);
      let q = o + 16;
      let is = 0;
      let k = 0;
      for (let n = 0; n < QK_K; n += 128) {
        let shift = 0;
        for (let j = 0; j < 4; ++j) {
          let sc = b[o + is++]!;
          let dl = d * (sc & 0xf);
          let ml = min * (sc >> 4);
          for (let l = 0; l < 16; ++l) y[k++] = dl * ((b[q + l]! >> shift) & 3) - ml;
          sc = b[o + is++]!;
          dl = d * (sc & 0xf);
          ml = min * (sc >> 4);
          for (let l = 0; l < 16; ++l) y[k++] = dl * ((b[q + l + 16]! >> shift) & 3) - ml;
          shift += 2;
        }
        q += 32;
      }
    },
  },
  // Q3_K: hmask[32] qs[64] scales[12] d
  11: {
    blockElems: QK_K,
    blockBytes: 110,
    decode: (b, o, y) => {
      const d = h16(b, o + 108);
      const sv = new DataView(b.buffer, b.byteOffset + o + 96, 12);
      const aux = [sv.getUint32(0, true), sv.getUint32(4, true), sv.getUint32(8, true), 0];
      const kmask1 = 0x03030303;
      const kmask2 = 0x0f0f0f0f;
      const tmp = aux[2]!;
      aux[2] = ((aux[0]! >>> 4) & kmask2) | (((tmp >>> 4) & kmask1) << 4);
      aux[3] = ((aux[1]! >>> 4) & kmask2) | (((tmp >>> 6) & kmask1) << 4);
      aux[0] = (aux[0]! & kmask2) | (((tmp >>> 0) & kmask1) << 4);
      aux[1] = (aux[1]! & kmask2) | (((tmp >>> 2) & kmask1) << 4);
      const scales = new Int8Array(new Uint32Array(aux).buffer);
      let q = o + 32;
      const hm = o;
      let is = 0;
      let m = 1;
      let k = 0;
      for (let n = 0; n < QK_K; n += 128) {
        let shift = 0;
        for (let j = 0; j < 4; ++j) {
          let dl = d * (scales[is++]! - 32);
          for (let l = 0; l < 16; ++l) y[k++] = dl * (((b[q + l]! >> shift) & 3) - (b[hm + l]! & m ? 0 : 4));
          dl = d * (scales[is++]! - 32);
          for (let l = 0; l < 16; ++l) y[k++] = dl * (((b[q + l + 16]! >> shift) & 3) - (b[hm + l + 16]! & m ? 0 : 4));
          shift += 2;
          m <<= 1;
        }
        q += 32;
      }
    },
  },
  // Q4_K: d dmin scales[12] qs[128]
  12: {
    blockElems: QK_K,
    blockBytes: 144,
    decode: (b, o, y) => {
      const d = h16(b, o);
      const min = h16(b, o + 2);
      let q = o + 16;
      let is = 0;
      let k = 0;
      for (let j = 0; j < QK_K; j += 64) {
        const [sc1, m1] = scaleMinK4(is, b, o + 4);
        const [sc2, m2] = scaleMinK4(is + 1, b, o + 4);
        for (let l = 0; l < 32; ++l) y[k++] = d * sc1 * (b[q + l]! & 0xf) - min * m1;
        for (let l = 0; l < 32; ++l) y[k++] = d * sc2 * (b[q + l]! >> 4) - min * m2;
        q += 32;
        is += 2;
      }
    },
  },
  // Q5_K: d dmin scales[12] qh[32] qs[128]
  13: {
    blockElems: QK_K,
    blockBytes: 176,
    decode: (b, o, y) => {
      const d = h16(b, o);
      const min = h16(b, o + 2);
      let ql = o + 48;
      const qh = o + 16;
      let is = 0;
      let u1 = 1;
      let u2 = 2;
      let k = 0;
      for (let j = 0; j < QK_K; j += 64) {
        const [sc1, m1] = scaleMinK4(is, b, o + 4);
        const [sc2, m2] = scaleMinK4(is + 1, b, o + 4);
        for (let l = 0; l < 32; ++l) y[k++] = d * sc1 * ((b[ql + l]! & 0xf) + (b[qh + l]! & u1 ? 16 : 0)) - min * m1;
        for (let l = 0; l < 32; ++l) y[k++] = d * sc2 * ((b[ql + l]! >> 4) + (b[qh + l]! & u2 ? 16 : 0)) - min * m2;
        ql += 32;
        is += 2;
        u1 <<= 2;
        u2 <<= 2;
      }
    },
  },
  // Q6_K: ql[128] qh[64] scales[16] d
  14: {
    blockElems: QK_K,
    blockBytes: 210,
    decode: (b, o, y) => {
      const d = h16(b, o + 208);
      let ql = o;
      let qh = o + 128;
      let sc = o + 192;
      let yo = 0;
      for (let n = 0; n < QK_K; n += 128) {
        for (let l = 0; l < 32; ++l) {
          const is = l >> 4;
          const q1 = i8((b[ql + l]! & 0xf) | (((b[qh + l]! >> 0) & 3) << 4)) - 32;
          const q2 = i8((b[ql + l + 32]! & 0xf) | (((b[qh + l]! >> 2) & 3) << 4)) - 32;
          const q3 = i8((b[ql + l]! >> 4) | (((b[qh + l]! >> 4) & 3) << 4)) - 32;
          const q4 = i8((b[ql + l + 32]! >> 4) | (((b[qh + l]! >> 6) & 3) << 4)) - 32;
          y[yo + l] = d * i8(b[sc + is]!) * q1;
          y[yo + l + 32] = d * i8(b[sc + is + 2]!) * q2;
          y[yo + l + 64] = d * i8(b[sc + is + 4]!) * q3;
          y[yo + l + 96] = d * i8(b[sc + is + 6]!) * q4;
        }
        yo += 128;
        ql += 64;
        qh += 32;
        sc += 8;
      }
    },
  },
};

/** Dequantizes `rows` rows of `k` weights of ggml type `type` from their packed bytes. */
export function dequantize(type: number, bytes: Uint8Array, k: number, rows: number): Float32Array {
  const L = LAYOUTS[type];
  if (!L) throw new Error(`no reference decoder for type ${type}`);
  const out = new Float32Array(k * rows);
  const block = new Float32Array(L.blockElems);
  const blocks = (k * rows) / L.blockElems;
  for (let i = 0; i < blocks; i++) {
    L.decode(bytes, i * L.blockBytes, block);
    out.set(block, i * L.blockElems);
  }
  return out;
}

/** Byte offsets within a block of its f16 scale fields (set to finite values so random blocks decode finitely). */
export const F16_FIELDS: Record<number, number[]> = {
  2: [0], 3: [0, 2], 6: [0], 7: [0, 2], 8: [0], 20: [0], 10: [80, 82], 11: [108], 12: [0, 2], 13: [0, 2], 14: [208],
};

/**
 * Random blocks of a type: random bits everywhere (every bit pattern is a valid block) except the f16 scales, which
 * get finite values of modest size so products stay comparable. Plain float types get random values in [−1, 1).
 */
export function randomWeights(type: number, k: number, rows: number, rand: () => number): Uint8Array {
  const L = LAYOUTS[type]!;
  const n = (k * rows) / L.blockElems;
  const bytes = new Uint8Array(n * L.blockBytes);
  const view = new DataView(bytes.buffer);
  if (type === 0) {
    for (let i = 0; i < k * rows; i++) view.setFloat32(i * 4, rand() * 2 - 1, true);
    return bytes;
  }
  if (type === 1 || type === 30) {
    const f = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < k * rows; i++) {
      const v = rand() * 2 - 1;
      if (type === 1) view.setUint16(i * 2, f32ToF16(v), true);
      else {
        f.setFloat32(0, v);
        view.setUint16(i * 2, f.getUint32(0) >>> 16, true);
      }
    }
    return bytes;
  }
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
  for (let blk = 0; blk < n; blk++) {
    for (const f of F16_FIELDS[type]!) view.setUint16(blk * L.blockBytes + f, f32ToF16((rand() * 2 - 1) * 0.05), true);
  }
  return bytes;
}

export function f32ToF16(v: number): number {
  const f = new DataView(new ArrayBuffer(4));
  f.setFloat32(0, v);
  const x = f.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  let e = ((x >>> 23) & 0xff) - 127 + 15;
  if (e <= 0) return sign; // too small for a normal half: zero is fine for test data
  let mant = Math.round((x & 0x7fffff) / 8192);
  if (mant === 1024) {
    mant = 0;
    e++;
  }
  if (e >= 31) return sign | 0x7c00;
  return sign | (e << 10) | mant;
}
