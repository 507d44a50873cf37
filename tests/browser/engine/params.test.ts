// Every kernel's params schema through the real shader compiler: a shader declares the schema's WGSL struct as a
// uniform, copies each field's bits (bitcast<u32>, so an f32 read where a u32 was written — or the reverse — shows)
// into a storage buffer, and what comes back must be the words the schema's packer wrote. A struct and a packer
// that disagreed on a field's offset or type would fail here, on the GPU the kernels run on.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { GpuContext } from '../../../src/lib/engine/device.ts';
import { BIAS_PARAMS, GATE_PARAMS, SOFTCAP_PARAMS } from '../../../src/lib/engine/kernels/activation.ts';
import { ATTENTION_PARAMS } from '../../../src/lib/engine/kernels/attention.ts';
import { DECODE_MATVEC_PARAMS } from '../../../src/lib/engine/kernels/decode-matvec.ts';
import { HEAD_NORM_PARAMS } from '../../../src/lib/engine/kernels/head-norm.ts';
import { createLayout, createPipeline, STEP } from '../../../src/lib/engine/kernels/kernel.ts';
import { EMBEDDING_PARAMS, MATMUL_PARAMS } from '../../../src/lib/engine/kernels/matmul.ts';
import { type ParamFields, type ParamsSchema, wgslFieldName } from '../../../src/lib/engine/kernels/params.ts';
import { QK_ROPE_PARAMS } from '../../../src/lib/engine/kernels/qk-rope.ts';
import { RMSNORM_PARAMS } from '../../../src/lib/engine/kernels/rmsnorm.ts';
import { ROPE_PARAMS } from '../../../src/lib/engine/kernels/rope.ts';
import { SELECT_TOKEN_PARAMS } from '../../../src/lib/engine/kernels/select-token.ts';
import { gpuOpHarness } from '../../support/gpu-op-harness.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await GpuContext.open();
});
afterAll(() => ctx?.destroy());

const { storage, uniform, run } = gpuOpHarness(() => ctx);

const SCHEMAS: Record<string, ParamsSchema<ParamFields, string>> = {
  step: STEP,
  rmsnorm: RMSNORM_PARAMS,
  'head norm': HEAD_NORM_PARAMS,
  rope: ROPE_PARAMS,
  'qk-rope': QK_ROPE_PARAMS,
  attention: ATTENTION_PARAMS,
  'gated activation': GATE_PARAMS,
  bias: BIAS_PARAMS,
  'soft cap': SOFTCAP_PARAMS,
  matmul: MATMUL_PARAMS,
  embedding: EMBEDDING_PARAMS,
  'decode matvec': DECODE_MATVEC_PARAMS,
  'select token': SELECT_TOKEN_PARAMS,
};

test.each(Object.entries(SCHEMAS))('%s: the shader reads every field where the packer wrote it, as the type it was written', async (_, schema) => {
  const keys = Object.keys(schema.fields);
  // Distinct values per field: u32s that are not small floats' bits, f32s that are not small integers' bits.
  const values = Object.fromEntries(keys.map((k, i) => [k, schema.fields[k] === 'f32' ? -1.25 - i / 8 : 1000 + 37 * i]));
  const packed = schema.pack(values);
  const layout = createLayout(ctx.device, ['uniform', 'write']);
  const copies = keys.map((k, i) => `O[${i}] = bitcast<u32>(P.${wgslFieldName(k)});`).join('\n  ');
  const code = /* wgsl */ `
${schema.wgsl}
@group(0) @binding(0) var<uniform> P: ${schema.name};
@group(0) @binding(1) var<storage, read_write> O: array<u32>;
@compute @workgroup_size(1)
fn main() {
  ${copies}
}`;
  const pipeline = createPipeline(ctx.device, layout, code, `params read-back ${schema.name}`);
  const out = storage(new Uint32Array(keys.length).fill(0xdeadbeef));
  const group = ctx.device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: uniform(packed) } }, { binding: 1, resource: { buffer: out } }] });
  const got = await run((pass) => {
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(1);
  }, out, keys.length);
  expect([...new Uint32Array(got.buffer)]).toEqual([...new Uint32Array(packed, 0, keys.length)]);
  // And the values are the ones given (the packer wrote f32 bits for f32 fields, integers for u32 ones).
  const f32 = new Float32Array(got.buffer);
  const u32 = new Uint32Array(got.buffer);
  keys.forEach((k, i) => expect(schema.fields[k] === 'f32' ? f32[i] : u32[i], k).toBe(values[k]));
});
