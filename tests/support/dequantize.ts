/**
 * Reference dequantization of GGUF tensor data to f32, on the CPU, written from the block layouts of ggml's
 * ggml-quants.c (the formats are facts; this is our own code). Used by the parity test to build an F32 "twin" of a
 * quantized model: llama.cpp runs F32 weights with f32 activations, so comparing our engine on the quantized file
 * with llama.cpp on its exact F32 twin checks our decoders without llama.cpp's 8-bit activation rounding in the way.
 */
import { ggmlType } from '../../src/lib/loaders/ggml-types.ts';

const IQ4_NL_VALUES = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

function f16(view: DataView, at: number): number {
  const h = view.getUint16(at, true);
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Q4_K / Q5_K: the j-th 6-bit (scale, min) pair of the 12 packed scale bytes at `at`. */
function scaleMinK4(b: Uint8Array, at: number, j: number): [number, number] {
  if (j < 4) return [b[at + j]! & 63, b[at + j + 4]! & 63];
  return [(b[at + j + 4]! & 0xf) | ((b[at + j - 4]! >> 6) << 4), (b[at + j + 4]! >> 4) | ((b[at + j]! >> 6) << 4)];
}

/** Q3_K: the 16 signed 6-bit scales (already minus 32) from the 12 packed bytes at `at`. */
function q3kScales(b: Uint8Array, at: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < 16; j++) {
    // low 4 bits: bytes 0-7, low nibbles for scales 0-7 and high nibbles for 8-15; top 2 bits: bytes 8-11.
    const low = (b[at + (j % 8)]! >> (j < 8 ? 0 : 4)) & 0xf;
    const high = (b[at + 8 + (j % 4)]! >> (2 * Math.floor(j / 4))) & 3;
    out.push((low | (high << 4)) - 32);
  }
  return out;
}

/** Dequantizes `elements` values of ggml type `type` from `data`. */
export function dequantize(type: number, data: Uint8Array, elements: number): Float32Array {
  const info = ggmlType(type);
  if (!info) throw new Error(`unknown ggml type ${type}`);
  const out = new Float32Array(elements);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const b = data;
  const blocks = elements / info.blockSize;
  const name = info.name;
  if (name === 'F32') return new Float32Array(data.slice(0, elements * 4).buffer);
  if (name === 'F16') {
    for (let i = 0; i < elements; i++) out[i] = f16(view, 2 * i);
    return out;
  }
  if (name === 'BF16') {
    const f = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < elements; i++) {
      f.setUint32(0, view.getUint16(2 * i, true) << 16);
      out[i] = f.getFloat32(0);
    }
    return out;
  }
  for (let blk = 0; blk < blocks; blk++) {
    const o = blk * info.typeSize;
    const y = blk * info.blockSize;
    switch (name) {
      case 'Q4_0': {
        const d = f16(view, o);
        for (let j = 0; j < 16; j++) {
          out[y + j] = ((b[o + 2 + j]! & 0xf) - 8) * d;
          out[y + j + 16] = ((b[o + 2 + j]! >> 4) - 8) * d;
        }
        break;
      }
      case 'Q4_1': {
        const d = f16(view, o);
        const m = f16(view, o + 2);
        for (let j = 0; j < 16; j++) {
          out[y + j] = (b[o + 4 + j]! & 0xf) * d + m;
          out[y + j + 16] = (b[o + 4 + j]! >> 4) * d + m;
        }
        break;
      }
      case 'Q5_0':
      case 'Q5_1': {
        const hasMin = name === 'Q5_1';
        const d = f16(view, o);
        const m = hasMin ? f16(view, o + 2) : 0;
        const qhAt = o + (hasMin ? 4 : 2);
        const qh = view.getUint32(qhAt, true);
        const qs = qhAt + 4;
        for (let j = 0; j < 16; j++) {
          const h0 = ((qh >>> j) << 4) & 0x10;
          const h1 = (qh >>> (j + 12)) & 0x10;
          const x0 = (b[qs + j]! & 0xf) | h0;
          const x1 = (b[qs + j]! >> 4) | h1;
          out[y + j] = hasMin ? x0 * d + m : (x0 - 16) * d;
          out[y + j + 16] = hasMin ? x1 * d + m : (x1 - 16) * d;
        }
        break;
      }
      case 'Q8_0': {
        const d = f16(view, o);
        for (let j = 0; j < 32; j++) out[y + j] = view.getInt8(o + 2 + j) * d;
        break;
      }
      case 'IQ4_NL': {
        const d = f16(view, o);
        for (let j = 0; j < 16; j++) {
          out[y + j] = d * IQ4_NL_VALUES[b[o + 2 + j]! & 0xf]!;
          out[y + j + 16] = d * IQ4_NL_VALUES[b[o + 2 + j]! >> 4]!;
        }
        break;
      }
      case 'Q2_K': {
        const d = f16(view, o + 80);
        const min = f16(view, o + 82);
        let is = 0;
        let n = y;
        for (let half = 0; half < 2; half++) {
          const q = o + 16 + half * 32;
          for (let shift = 0; shift < 8; shift += 2) {
            for (const off of [0, 16]) {
              const sc = b[o + is++]!;
              const dl = d * (sc & 0xf);
              const ml = min * (sc >> 4);
              for (let l = 0; l < 16; l++) out[n++] = dl * ((b[q + off + l]! >> shift) & 3) - ml;
            }
          }
        }
        break;
      }
      case 'Q3_K': {
        const d = f16(view, o + 108);
        const scales = q3kScales(b, o + 96);
        let is = 0;
        let n = y;
        let m = 1;
        for (let half = 0; half < 2; half++) {
          const q = o + 32 + half * 32;
          for (let shift = 0; shift < 8; shift += 2) {
            for (const off of [0, 16]) {
              const dl = d * scales[is++]!;
              for (let l = 0; l < 16; l++) {
                const low = (b[q + off + l]! >> shift) & 3;
                out[n++] = dl * (low - (b[o + off + l]! & m ? 0 : 4));
              }
            }
            m <<= 1;
          }
        }
        break;
      }
      case 'Q4_K':
      case 'Q5_K': {
        const five = name === 'Q5_K';
        const d = f16(view, o);
        const min = f16(view, o + 2);
        const qh = o + 16;
        let ql = o + (five ? 48 : 16);
        let n = y;
        let u1 = 1;
        let u2 = 2;
        for (let is = 0; is < 8; is += 2) {
          const [s1, m1] = scaleMinK4(b, o + 4, is);
          const [s2, m2] = scaleMinK4(b, o + 4, is + 1);
          for (let l = 0; l < 32; l++) out[n++] = d * s1 * ((b[ql + l]! & 0xf) + (five && b[qh + l]! & u1 ? 16 : 0)) - min * m1;
          for (let l = 0; l < 32; l++) out[n++] = d * s2 * ((b[ql + l]! >> 4) + (five && b[qh + l]! & u2 ? 16 : 0)) - min * m2;
          ql += 32;
          u1 <<= 2;
          u2 <<= 2;
        }
        break;
      }
      case 'Q6_K': {
        const d = f16(view, o + 208);
        for (let half = 0; half < 2; half++) {
          const ql = o + half * 64;
          const qh = o + 128 + half * 32;
          const sc = o + 192 + half * 8;
          const n = y + half * 128;
          for (let l = 0; l < 32; l++) {
            const is = l >> 4;
            const q1 = ((b[ql + l]! & 0xf) | (((b[qh + l]! >> 0) & 3) << 4)) - 32;
            const q2 = ((b[ql + l + 32]! & 0xf) | (((b[qh + l]! >> 2) & 3) << 4)) - 32;
            const q3 = ((b[ql + l]! >> 4) | (((b[qh + l]! >> 4) & 3) << 4)) - 32;
            const q4 = ((b[ql + l + 32]! >> 4) | (((b[qh + l]! >> 6) & 3) << 4)) - 32;
            out[n + l] = d * view.getInt8(sc + is) * q1;
            out[n + l + 32] = d * view.getInt8(sc + is + 2) * q2;
            out[n + l + 64] = d * view.getInt8(sc + is + 4) * q3;
            out[n + l + 96] = d * view.getInt8(sc + is + 6) * q4;
          }
        }
        break;
      }
      default:
        throw new Error(`no reference dequantizer for ${name}`);
    }
  }
  return out;
}
