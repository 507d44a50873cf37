// The kernels' params schemas (src/lib/engine/kernels/params.ts): the WGSL struct a schema writes and the bytes its
// packer writes agree field by field — the struct text is parsed back and laid out by WGSL's rules (4-byte scalars at
// 4 × index, the struct padded to a multiple of 16), then every field's value is read at that offset with the type
// the struct declares. (tests/browser/engine/params.test.ts reads every kernel's struct back through a real shader.)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RbeeError } from '../../../src/lib/errors.ts';
import { ATTENTION_PARAMS, packAttentionParams } from '../../../src/lib/engine/kernels/attention.ts';
import { DECODE_MATVEC_PARAMS, packDecodeMatvecParams } from '../../../src/lib/engine/kernels/decode-matvec.ts';
import { STEP } from '../../../src/lib/engine/kernels/kernel.ts';
import { EMBEDDING_PARAMS, MATMUL_PARAMS } from '../../../src/lib/engine/kernels/matmul.ts';
import { paramsSchema, wgslFieldName } from '../../../src/lib/engine/kernels/params.ts';
import { packRmsNormParams, RMSNORM_PARAMS } from '../../../src/lib/engine/kernels/rmsnorm.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';

/** A struct's fields as WGSL lays them out (only 4-byte scalars occur): name, type, byte offset. */
function wgslLayout(struct: string): { name: string; fields: { name: string; type: string; offset: number }[]; size: number } {
  const m = /^struct (\w+) \{ (.*) \}$/.exec(struct);
  if (!m) throw new Error(`not a one-line struct: ${struct}`);
  const fields = m[2]!.split(', ').map((f, i) => {
    const [name, type] = f.split(': ') as [string, string];
    expect(['u32', 'f32']).toContain(type);
    return { name, type, offset: 4 * i };
  });
  return { name: m[1]!, fields, size: 4 * fields.length };
}

/** Reads every field of `bytes` at its WGSL offset, as the struct types it. */
function readBack(struct: string, bytes: ArrayBuffer): Record<string, number> {
  const view = new DataView(bytes);
  return Object.fromEntries(wgslLayout(struct).fields.map((f) => [f.name, f.type === 'f32' ? view.getFloat32(f.offset, true) : view.getUint32(f.offset, true)]));
}

describe('the struct and the packer of a schema', () => {
  test('field names: camelCase keys become snake_case WGSL fields', () => {
    expect(['rowBytes', 'n4', 'eps', 'T', 'pos0', 'nExcluded', 'kvDim', 'base1', 'seg2', 'halfRot'].map(wgslFieldName)).toEqual([
      'row_bytes', 'n4', 'eps', 'T', 'pos0', 'n_excluded', 'kv_dim', 'base1', 'seg2', 'half_rot',
    ]);
  });

  test('RMSNorm: three fields and one of padding, f32 where declared f32', () => {
    expect(RMSNORM_PARAMS.wgsl).toBe('struct Params { n4: u32, eps: f32, flags: u32, _pad0: u32 }');
    expect(RMSNORM_PARAMS.byteLength).toBe(16);
    expect(RMSNORM_PARAMS.offsets).toEqual({ n4: 0, eps: 4, flags: 8 });
    const bytes = packRmsNormParams(2048, 1e-5, 2);
    expect(bytes.byteLength).toBe(16);
    expect(readBack(RMSNORM_PARAMS.wgsl, bytes)).toEqual({ n4: 512, eps: Math.fround(1e-5), flags: 2, _pad0: 0 });
    // The bit patterns themselves: 1e-5 as an f32 is not the integer 0 a u32 write of it would truncate to.
    expect(new Uint32Array(bytes)[1]).toBe(0x3727c5ac);
  });

  test('the step every kernel reads', () => {
    expect(STEP.wgsl).toBe('struct Step { pos0: u32, T: u32, _pad0: u32, _pad1: u32 }');
    expect([...new Uint32Array(STEP.pack({ pos0: 7, T: 3 }))]).toEqual([7, 3, 0, 0]);
  });

  test('a struct of nine fields is padded to 48 bytes, its packer writes all 48', () => {
    const layout = wgslLayout(MATMUL_PARAMS.wgsl);
    expect(layout.fields.map((f) => f.name)).toEqual([
      'rows', 'units', 'row_bytes', 'row_offset', 'x_offset', 'x_stride', 'y_offset', 'y_stride', 'flags', '_pad0', '_pad1', '_pad2',
    ]);
    expect(MATMUL_PARAMS.byteLength).toBe(48);
    const values = { rows: 1, units: 2, rowBytes: 3, rowOffset: 4, xOffset: 5, xStride: 6, yOffset: 7, yStride: 8, flags: 9 };
    expect([...new Uint32Array(MATMUL_PARAMS.pack(values))]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0]);
  });

  test('the embedding scale is a field of its own, an f32 (not a stride reinterpreted)', () => {
    expect(EMBEDDING_PARAMS.wgsl).toContain('scale: f32');
    expect(EMBEDDING_PARAMS.wgsl).not.toContain('x_stride');
    const bytes = EMBEDDING_PARAMS.pack({ rows: 10, units: 2, rowBytes: 64, rowOffset: 0, yOffset: 0, yStride: 64, scale: Math.sqrt(2048) });
    expect(readBack(EMBEDDING_PARAMS.wgsl, bytes).scale).toBe(Math.fround(Math.sqrt(2048)));
  });

  test('attention: derived fields (q heads per KV head, cache row width, default scale) at their offsets', () => {
    const bytes = packAttentionParams({ nHead: 32, nHeadKv: 8, headDim: 64 }, { softCap: 50, window: 4096 });
    expect(ATTENTION_PARAMS.byteLength).toBe(32);
    expect(readBack(ATTENTION_PARAMS.wgsl, bytes)).toEqual({ n_head: 32, group: 4, head_dim: 64, kv_dim: 512, scale: Math.fround(1 / 8), soft_cap: 50, window: 4096, _pad0: 0 });
  });

  test('decode matvec: sixteen fields, no padding, and the defaults for those a mode leaves out', () => {
    expect(DECODE_MATVEC_PARAMS.byteLength).toBe(64);
    expect(DECODE_MATVEC_PARAMS.wgsl).not.toContain('_pad');
    const back = readBack(DECODE_MATVEC_PARAMS.wgsl, packDecodeMatvecParams({ rows: 4096, units: 64, rowBytes: 1152, k: 2048, eps: 1e-6, cap: 30 }));
    expect(back).toMatchObject({ rows: 4096, units: 64, row_bytes: 1152, flags: 0, k: 2048, eps: Math.fround(1e-6), cap: 30, head_dim: 1, half_rot: 0, up_base: 0 });
  });

  test('every struct fits a parameter block and is a whole number of 16-byte rows', () => {
    for (const s of [STEP, RMSNORM_PARAMS, MATMUL_PARAMS, EMBEDDING_PARAMS, ATTENTION_PARAMS, DECODE_MATVEC_PARAMS]) {
      const layout = wgslLayout(s.wgsl);
      expect(layout.size).toBe(s.byteLength);
      expect(s.byteLength % 16).toBe(0);
      expect(s.byteLength).toBeLessThanOrEqual(256);
    }
  });

  test('a packer into a reused buffer overwrites every byte of the struct', () => {
    const target = new ArrayBuffer(STEP.byteLength);
    new Uint32Array(target).fill(0xffffffff);
    expect([...new Uint32Array(STEP.pack({ pos0: 1, T: 2 }, target))]).toEqual([1, 2, 0, 0]);
  });
});

describe('what the packer refuses', () => {
  const schema = paramsSchema('Params', { n: 'u32', cap: 'f32' });

  test('a key the schema does not have, or a missing one, is a type error', () => {
    // @ts-expect-error: `m` is not a field of the schema.
    expect(() => schema.pack({ n: 1, cap: 2, m: 3 })).not.toThrow();
    // @ts-expect-error: `cap` has no default.
    expect(() => schema.pack({ n: 1 })).toThrow(RbeeError);
    // @ts-expect-error: a decode matvec's rows are required (only mode-specific fields have defaults).
    expect(() => packDecodeMatvecParams({ units: 1, rowBytes: 1, k: 4 })).toThrow(/Params\.rows was not given/);
  });

  test('a u32 that is negative, fractional or too large, which a Uint32Array would wrap or truncate', () => {
    for (const n of [-1, 0.5, 2 ** 32, Number.NaN]) {
      expect(() => schema.pack({ n, cap: 1 })).toThrow(/Params\.n is a u32/);
    }
    // An f32 takes any number (rounded to float32).
    expect(new DataView(schema.pack({ n: 0, cap: -0.1 })).getFloat32(4, true)).toBe(Math.fround(-0.1));
  });
});

test('no kernel writes a uniform struct by hand: every Params and Step comes from a schema', () => {
  const dir = join(REPO_ROOT, 'src/lib/engine/kernels');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'params.ts')) {
    const source = readFileSync(join(dir, file), 'utf8');
    expect(source, file).not.toMatch(/struct (Params|Step) \{/);
  }
});
