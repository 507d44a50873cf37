import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check } from '../../../src/lib/compat/check.ts';
import type { DeviceCaps } from '../../../src/lib/compat/device-caps.ts';
import { DEFAULT_DESKTOP_CAPS } from '../../../src/lib/compat/device-caps.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { inspect, inspectCandidate } from '../../../src/lib/model/inspect.ts';
import { defaultCandidate, groupModelFiles } from '../../../src/lib/model/model-candidates.ts';
import { mlcQuantizationOf, onnxDtypeOf } from '../../../src/lib/model/prebuilt-candidates.ts';
import { hubFiles, mlcRepo, onnxRepo } from '../../support/prebuilt-repos.ts';
import { startRangeServer, type RangeServer } from '../../support/range-server.ts';

const listing = (files: Record<string, Uint8Array>) => Object.entries(files).map(([path, b]) => ({ path, size: b.byteLength }));

/** A probed GPU: desktop limits, shader-f16 as given. */
const gpu = (shaderF16: boolean): DeviceCaps => ({
  ...DEFAULT_DESKTOP_CAPS,
  assumed: false,
  adapter: { vendor: 'test', architecture: '', description: 'test GPU' },
  features: { shaderF16, subgroups: true },
});

describe('names', () => {
  it('reads MLC quantizations from folder and repository names', () => {
    expect(mlcQuantizationOf('mlc-ai/Llama-3.2-1B-Instruct-q4f16_1-MLC')).toBe('q4f16_1');
    expect(mlcQuantizationOf('mlc-ai/Phi-3.5-mini-instruct-q4f32_1-MLC')).toBe('q4f32_1');
    expect(mlcQuantizationOf('mlc-ai/gemma-2-2b-it-q0f16-MLC')).toBe('q0f16');
    expect(mlcQuantizationOf('builds/q3f16_0/')).toBe('q3f16_0');
    expect(mlcQuantizationOf('owner/Llama-3-8B-GGUF')).toBeUndefined();
  });

  it('reads transformers.js dtypes from decoder file names, and nothing else', () => {
    expect(onnxDtypeOf('model.onnx')).toBe('fp32');
    expect(onnxDtypeOf('model_q4f16.onnx')).toBe('q4f16');
    expect(onnxDtypeOf('model_quantized.onnx')).toBe('q8');
    expect(onnxDtypeOf('decoder_model_merged_fp16.onnx')).toBe('fp16');
    expect(onnxDtypeOf('vision_encoder.onnx')).toBeUndefined();
    expect(onnxDtypeOf('model_weird.onnx')).toBeUndefined();
    expect(onnxDtypeOf('model.onnx_data')).toBeUndefined();
  });
});

describe('grouping a repository listing', () => {
  it('an MLC build is one candidate: its folder, weights sized from the shards, q4f16 needing shader-f16', () => {
    const c = groupModelFiles(listing(mlcRepo('q4f16_1')), 'mlc-ai/Llama-3.2-1B-Instruct-q4f16_1-MLC');
    expect(c).toHaveLength(1);
    expect(c[0]).toMatchObject({ format: 'mlc', primary: 'mlc-chat-config.json', quantization: 'q4f16_1', size: 1000, requiredFeatures: ['shader-f16'], role: 'model' });
    expect(c[0]!.files).toContain('params_shard_1.bin');
  });

  it('an MLC config without a tensor cache is not a model; ndarray-cache.json (older builds) is accepted', () => {
    const files = listing(mlcRepo('q4f32_1')).filter((f) => f.path !== 'tensor-cache.json');
    expect(groupModelFiles(files, 'x/y-q4f32_1-MLC')).toEqual([]);
    const old = groupModelFiles(listing(mlcRepo('q4f32_1', 'ndarray-cache.json')), 'x/y-q4f32_1-MLC');
    expect(old).toHaveLength(1);
    expect(old[0]!.requiredFeatures).toBeUndefined();
  });

  it('each ONNX decoder variant is a candidate with its external data; q4f16 first; encoders are not', () => {
    const c = groupModelFiles(listing(onnxRepo()));
    expect(c.map((x) => [x.primary, x.quantization, x.size, x.requiredFeatures ?? []])).toEqual([
      ['onnx/model_q4f16.onnx', 'q4f16', 400, ['shader-f16']],
      ['onnx/model_q4.onnx', 'q4', 500, []],
      ['onnx/model_quantized.onnx', 'q8', 600, []],
      ['onnx/model_fp16.onnx', 'fp16', 1000, ['shader-f16']],
      ['onnx/model.onnx', 'fp32', 5000, []],
    ]);
    expect(c.find((x) => x.quantization === 'fp32')!.files).toEqual(['onnx/model.onnx', 'onnx/model.onnx_data', 'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']);
    expect(defaultCandidate(c)).toBe(0);
  });

  it('ONNX files without config.json beside the onnx/ folder are not a transformers.js model', () => {
    expect(groupModelFiles(listing(onnxRepo()).filter((f) => f.path !== 'config.json'))).toEqual([]);
  });

  it("a repository with SafeTensors and an ONNX export opens the SafeTensors (rbee-web's own engine) first; GGUF wins over both", () => {
    const both = [...listing(onnxRepo({ _q4: 5 })), { path: 'model.safetensors', size: 100 }];
    const c = groupModelFiles(both);
    expect(c[defaultCandidate(c)]!.format).toBe('safetensors');
    expect(c.some((x) => x.format === 'onnx')).toBe(true);
    const withGguf = [...both, { path: 'm-Q4_K_M.gguf', size: 50 }];
    const g = groupModelFiles(withGguf);
    expect(g[defaultCandidate(g)]!.format).toBe('gguf');
  });
});

describe('inspect() and check() on a local hub', () => {
  let server: RangeServer;
  beforeAll(async () => {
    server = await startRangeServer(
      hubFiles({
        'mlc-ai/Llama-3.2-1B-Instruct-q4f16_1-MLC': mlcRepo('q4f16_1'),
        'mlc-ai/Llama-3.2-1B-Instruct-q4f32_1-MLC': mlcRepo('q4f32_1'),
        'onnx-community/Qwen2.5-0.5B-Instruct': onnxRepo(),
        'o/incomplete': { 'onnx/model.onnx': new Uint8Array(4), 'README.md': new Uint8Array(1) },
      }),
    );
  });
  afterAll(() => server.close());

  it('an MLC q4f16_1 repository: descriptor from mlc-chat-config.json and the tensor cache; web-llm, expected', async () => {
    const r = await inspect('mlc-ai/Llama-3.2-1B-Instruct-q4f16_1-MLC', { hubBase: server.url });
    const d = r.descriptor;
    expect(d).toMatchObject({
      format: 'mlc',
      architecture: 'llama',
      embeddingLength: 2048,
      blockCount: 16,
      headCount: 32,
      headCountKv: 8,
      headDim: 64,
      vocabSize: 128256,
      contextLength: 4096, // the build's context window, not the model's 131072
      fileType: 'q4f16_1',
      hasChatTemplate: true,
      tokenizer: 'tokenizer.json',
      totalWeightBytes: 1000,
      parameterCount: 1000, // ParamBytes × 8 / BitsPerParam
    });
    expect(d.prebuilt).toMatchObject({ engine: 'web-llm', quantization: 'q4f16_1', requiredFeatures: ['shader-f16'], primary: 'mlc-chat-config.json' });
    expect(d.tensors.map((t) => [t.name, t.typeName, t.dims, t.file])).toEqual([
      ['model.embed_tokens.q_weight', 'uint32', [256, 128256], 0],
      ['model.embed_tokens.q_scale', 'float16', [64, 128256], 0],
      ['model.layers.0.self_attn.qkv_proj.q_weight', 'uint32', [256, 3072], 1],
      ['model.norm.weight', 'float16', [2048], 1],
    ]);
    // Only JSON was read: no weight shard was requested.
    expect(server.stats.get('/mlc-ai/Llama-3.2-1B-Instruct-q4f16_1-MLC/resolve/main/params_shard_0.bin')).toBeUndefined();

    const withF16 = check(d, gpu(true));
    expect(withF16).toMatchObject({ runs: true, engine: 'web-llm', confidence: 'expected' });
    expect(withF16.reasons.join(' ')).not.toMatch(/verified/);

    const withoutF16 = check(d, gpu(false));
    expect(withoutF16.runs).toBe(false);
    expect(withoutF16.reasons.join(' ')).toMatch(/q4f16_1 build needs the GPU feature shader-f16/);
    expect(withoutF16.recommendations[0]).toBe('Open the q4f32_1 build instead (mlc-ai/Llama-3.2-1B-Instruct-q4f32_1-MLC): it needs no shader-f16.');
    expect(withoutF16.warnings.join(' ')).not.toMatch(/f32 kernels/);
    // web-llm has no CPU fallback.
    expect(check(d, { ...gpu(true), available: false, reason: 'no navigator.gpu' }).runs).toBe(false);
  });

  it('the q4f32_1 build runs without shader-f16', async () => {
    const r = await inspect('mlc-ai/Llama-3.2-1B-Instruct-q4f32_1-MLC', { hubBase: server.url });
    expect(r.descriptor.prebuilt!.requiredFeatures).toEqual([]);
    expect(check(r.descriptor, gpu(false))).toMatchObject({ runs: true, engine: 'web-llm', confidence: 'expected' });
  });

  it('an ONNX repository: the q4f16 variant first, config.json hyperparameters, transformers.js; other variants on demand', async () => {
    const r = await inspect('onnx-community/Qwen2.5-0.5B-Instruct', { hubBase: server.url });
    expect(r.candidates.map((c) => c.quantization)).toEqual(['q4f16', 'q4', 'q8', 'fp16', 'fp32']);
    const d = r.descriptor;
    expect(d).toMatchObject({ format: 'onnx', architecture: 'qwen2', fileType: 'q4f16', embeddingLength: 896, blockCount: 24, headCountKv: 2, hasChatTemplate: true, totalWeightBytes: 400 });
    expect(d.parameterCount).toBeGreaterThan(400_000_000); // estimated from the config (Qwen2.5-0.5B: 494M)
    expect(d.parameterCount).toBeLessThan(600_000_000);
    expect(d.prebuilt!.variants!.map((v) => v.quantization)).toEqual(['q4f16', 'q4', 'q8', 'fp16', 'fp32']);
    expect(check(d, gpu(true))).toMatchObject({ runs: true, engine: 'transformers.js', confidence: 'expected' });
    const noF16 = check(d, gpu(false));
    expect(noF16.runs).toBe(false);
    expect(noF16.recommendations).toContain('Choose the q4 variant (onnx/model_q4.onnx) of the same repository: it needs no shader-f16.');

    const fp32 = await inspectCandidate(r, 4, { hubBase: server.url });
    expect(fp32).toMatchObject({ fileType: 'fp32', totalWeightBytes: 5000 });
    expect(fp32.files.map((f) => f.location)).toEqual([
      'onnx-community/Qwen2.5-0.5B-Instruct/onnx/model.onnx',
      'onnx-community/Qwen2.5-0.5B-Instruct/onnx/model.onnx_data',
    ]);
    expect(check(fp32, gpu(false)).runs).toBe(true);

    // No WebGPU at all: transformers.js still runs a 32-bit variant on WASM (and says it is slow); not a q4f16 one.
    const noGpu: DeviceCaps = { ...gpu(false), available: false, reason: 'no navigator.gpu' };
    const onCpu = check(fp32, noGpu);
    expect(onCpu).toMatchObject({ runs: true, engine: 'transformers.js' });
    expect(onCpu.warnings.join(' ')).toMatch(/runs this model on the CPU \(WASM\)/);
    expect(check(d, noGpu).runs).toBe(false);
  });

  it('a named ONNX file opens that variant', async () => {
    const r = await inspect('onnx-community/Qwen2.5-0.5B-Instruct/onnx/model_q4.onnx', { hubBase: server.url });
    expect(r.candidates[r.chosen]!.quantization).toBe('q4');
    expect(r.descriptor.fileType).toBe('q4');
  });

  it('an incomplete ONNX repository is an RbeeError that says what a build needs', async () => {
    const e = await inspect('o/incomplete', { hubBase: server.url }).catch((x) => x);
    expect(isRbeeError(e)).toBe(true);
    expect(e.code).toBe('unknown-format');
    expect(e.message).toMatch(/config\.json one folder up/);
  });
});
