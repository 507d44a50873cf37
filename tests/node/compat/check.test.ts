import { describe, expect, test } from 'vitest';
import {
  scratchBytes,
  check,
  DEFAULT_MEMORY_BUDGET_BYTES,
  kvCacheBytes,
} from '../../../src/lib/compat/check.ts';
import { DEFAULT_DESKTOP_CAPS, WEBGPU_MINIMUM_LIMITS, type DeviceCaps } from '../../../src/lib/compat/device-caps.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { descriptorOf, TINYLLAMA_SHAPE, tinyLlamaTensors } from './model-descriptors.ts';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** A probed (not assumed) desktop GPU. */
const desktop: DeviceCaps = { ...DEFAULT_DESKTOP_CAPS, assumed: false, adapter: { vendor: 'nvidia', architecture: 'ampere', description: 'test GPU' } };

const tinyLlama = (type = 'Q4_K', extra: Parameters<typeof descriptorOf>[0] = {}) =>
  descriptorOf({ ...TINYLLAMA_SHAPE, fileType: 'Q4_K_M', tensorSpecs: tinyLlamaTensors(type), ...extra });

describe('check: a supported model', () => {
  test('a llama Q4_K GGUF runs on WebGPU, verified (the engine parity test), and lists every backend', () => {
    const v = check(tinyLlama(), desktop);
    expect(v.runs).toBe(true);
    expect(v.confidence).toBe('verified');
    expect(v.engine).toBe('webgpu');
    expect(v.backends.map((b) => b.backend)).toEqual(['webgpu', 'wasm', 'companion-cpu', 'companion-cuda', 'companion-metal']);
    // The CPU engine's cells: F32 and Q4_K verified by the wasm parity test, Q6_K only expected → the model: expected.
    expect(v.backends.map((b) => b.confidence)).toEqual(['verified', 'expected', 'expected', 'expected', 'expected']);
    expect(v.engineChoice).toMatch(/hardware WebGPU adapter/);
    // The cells the verdict used: one per weight type in the file (Q6_K embedding, F32 norms, Q4_K matrices).
    expect(v.cells.map((c) => c.weightType).sort()).toEqual(['F32', 'Q4_K', 'Q6_K']);
    expect(v.device.assumed).toBe(false);
    expect(v.warnings).toEqual([]);
  });

  test('without a device the desktop caps are assumed, and the verdict says so', () => {
    const v = check(tinyLlama());
    expect(v.runs).toBe(true);
    expect(v.device.assumed).toBe(true);
    expect(v.warnings.some((w) => /assumed/.test(w) && /not probed/.test(w))).toBe(true);
  });

  test("Mistral's architecture id runs as llama", () => {
    const v = check(tinyLlama('Q4_K', { architecture: 'mistral' }), desktop);
    expect(v.runs).toBe(true);
    expect(v.cells.every((c) => c.architecture === 'llama')).toBe(true);
  });
});

describe('check: memory estimate', () => {
  test('weights + KV cache (2 × layers × ctx × kv heads × head dim × 4 B) + activations, at min(model ctx, 4096)', () => {
    const d = tinyLlama();
    const v = check(d, desktop);
    const m = v.memory;
    expect(m.contextLength).toBe(2048);
    // 2 × 22 × 2048 × 4 × 64 × 4 = 92,274,688 (88 MiB)
    expect(m.kvCacheBytes).toBe(92_274_688);
    // The engine's scratch (memory-plan.ts): one 512-token prefill step's f32 activations 4 × 512·(2·2048 + 2·32·64 +
    // 2·5632) = 39,845,888, the last row, logits twice and token ids 4 × (2048 + 2·32000 + 512) = 266,240, the RoPE
    // table 2048 · 32 · 8 = 524,288, uniforms (2·(7·22 + 2) + 48·22 + 32) · 256 = 358,400. No attention scores.
    expect(m.scratchBytes).toBe(40_994_816);
    expect(m.weightsBytes).toBe(d.totalWeightBytes);
    expect(m.totalBytes).toBe(d.totalWeightBytes + 92_274_688 + 40_994_816);
    expect(m.formulas.kvCache).toContain('2 × 22 layers × 2048 ctx × 4 kv heads × 64 head dim × 4 B');
    expect(m.budgetBytes).toBe(DEFAULT_MEMORY_BUDGET_BYTES);
    expect(m.fits).toBe(true);
    // Q6_K token embedding: 2048 × 32000 / 256 blocks × 210 B
    expect(m.largestTensorBytes).toBe((2048 * 32000 * 210) / 256);
  });

  test('a long-context model is planned at 4096 by default; a chosen context scales the cache linearly', () => {
    const long = tinyLlama('Q4_K', { contextLength: 131072 });
    expect(check(long, desktop).memory.contextLength).toBe(4096);
    expect(check(long, desktop).memory.kvCacheBytes).toBe(2 * 92_274_688);
    const v = check(long, desktop, { contextLength: 16384 });
    expect(v.memory.kvCacheBytes).toBe(8 * 92_274_688);
    expect(kvCacheBytes({ layers: 22, kvHeads: 4, headDim: 64 }, 16384)).toBe(v.memory.kvCacheBytes);
    expect(scratchBytes({ layers: 22, heads: 32, kvHeads: 4, headDim: 64, embd: 2048, ffn: 5632, vocab: 32000 }, 16384)).toBe(v.memory.scratchBytes);
  });

  test('a context longer than the model was trained for is allowed with a warning; a bad one is a typed error', () => {
    const v = check(tinyLlama(), desktop, { contextLength: 8192 });
    expect(v.warnings.some((w) => w.includes('longer than the 2048 tokens'))).toBe(true);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      let thrown: unknown;
      try {
        check(tinyLlama(), desktop, { contextLength: bad });
      } catch (e) {
        thrown = e;
      }
      expect(isRbeeError(thrown) && thrown.code === 'bad-value').toBe(true);
    }
  });

  test('missing hyperparameters: the estimate covers the weights and says so', () => {
    const d = descriptorOf({ tensorSpecs: tinyLlamaTensors('Q4_K') });
    const v = check(d, desktop);
    expect(v.memory.kvCacheBytes).toBe(0);
    expect(v.memory.totalBytes).toBe(d.totalWeightBytes + v.memory.scratchBytes);
    expect(v.warnings.some((w) => /covers the weights only/.test(w) && /block count/.test(w))).toBe(true);
  });
});

describe('check: device limits and features', () => {
  test('with 128 MiB bindings, a tensor above the limit is flagged "will be split" and the model still runs', () => {
    const small: DeviceCaps = { ...desktop, limits: { ...WEBGPU_MINIMUM_LIMITS } };
    // An F16 token embedding of 2048 × 32000 = 125 MiB fits; 4096 × 32000 F16 = 250 MiB does not.
    const d = descriptorOf({
      ...TINYLLAMA_SHAPE,
      tensorSpecs: [
        { name: 'token_embd.weight', dims: [4096, 32000], type: 'F16' },
        { name: 'output.weight', dims: [2048, 32000], type: 'F16' },
        { name: 'blk.0.attn_q.weight', dims: [2048, 2048], type: 'F16' },
      ],
    });
    const v = check(d, small);
    expect(v.runs).toBe(true);
    expect(v.splitTensors).toEqual([{ name: 'token_embd.weight', bytes: 4096 * 32000 * 2, parts: 2 }]);
    expect(v.warnings.some((w) => w.includes('will be split') && w.includes('128 MiB') && w.includes('token_embd.weight'))).toBe(true);
    // The same model on a 2 GiB-binding desktop splits nothing.
    expect(check(d, desktop).splitTensors).toEqual([]);
  });

  test('no shader-f16 and no subgroups: still runs, with warnings about the slower paths', () => {
    const plain: DeviceCaps = { ...desktop, features: { shaderF16: false, subgroups: false } };
    const v = check(tinyLlama(), plain);
    expect(v.runs).toBe(true);
    expect(v.confidence).toBe('verified');
    expect(v.warnings.some((w) => /shader-f16/.test(w) && /f32/.test(w))).toBe(true);
    expect(v.warnings.some((w) => /subgroups/.test(w))).toBe(true);
  });

  test('no WebGPU: GGUF runs on the CPU (WebAssembly), and the verdict says why; a picked companion still runs it there', () => {
    const none: DeviceCaps = { available: false, reason: 'This browser has no WebGPU.', features: { shaderF16: false, subgroups: false }, limits: WEBGPU_MINIMUM_LIMITS };
    const v = check(tinyLlama(), none);
    expect(v.runs).toBe(true);
    expect(v.engine).toBe('wasm');
    expect(v.cells.every((c) => c.backend === 'wasm')).toBe(true);
    expect(v.engineChoice).toMatch(/no WebGPU/);
    expect(v.engineChoice).toMatch(/WebAssembly/);
    expect(v.warnings.some((w) => w.includes('This browser has no WebGPU.') && /CPU/.test(w))).toBe(true);
    // The user picks the companion: it runs there when one answered, and says so when none did.
    const withCompanion = check(tinyLlama(), none, { engine: 'companion', companion: { available: true, backends: ['companion-cuda'] } });
    expect(withCompanion.runs).toBe(true);
    expect(withCompanion.engine).toBe('companion');
    expect(withCompanion.cells[0]!.backend).toBe('companion-cuda');
    const noCompanion = check(tinyLlama(), none, { engine: 'companion' });
    expect(noCompanion.runs).toBe(false);
    expect(noCompanion.recommendations.some((r) => /Start the companion/.test(r))).toBe(true);
  });

  test('a software adapter (SwiftShader, or flagged fallback): GGUF goes to the CPU engine by default; &engine=webgpu runs ours', () => {
    const swiftshader: DeviceCaps = { ...desktop, software: true, features: { shaderF16: false, subgroups: true }, adapter: { vendor: 'google', architecture: 'swiftshader', description: '' } };
    const v = check(tinyLlama(), swiftshader);
    expect(v.runs).toBe(true);
    expect(v.engine).toBe('wasm');
    expect(v.engineChoice).toMatch(/software/);
    expect(v.engineChoice).toMatch(/swiftshader/);
    expect(v.engineChoice).toMatch(/engine=webgpu/);
    const ours = check(tinyLlama(), swiftshader, { engine: 'webgpu' });
    expect(ours.runs).toBe(true);
    expect(ours.engine).toBe('webgpu');
    expect(ours.confidence).toBe('verified');
    expect(ours.engineChoice).toMatch(/picked rbee-web's WebGPU engine on a software adapter/);
    // A hardware adapter with the CPU engine picked: wasm.
    expect(check(tinyLlama(), desktop, { engine: 'wasm' }).engine).toBe('wasm');
    // SafeTensors are not llama.cpp's format: they stay on WebGPU even on a software adapter.
    const cell = check(tinyLlama(), swiftshader).backends.find((b) => b.backend === 'wasm')!;
    expect(cell.confidence).toBe('expected');
  });

  test('no WebGPU and over the WebAssembly limits: a clear verdict naming the CPU engine, why, and what to pick instead', () => {
    const none: DeviceCaps = { available: false, reason: 'This browser has no WebGPU.', features: { shaderF16: false, subgroups: false }, limits: WEBGPU_MINIMUM_LIMITS };
    // A 3 GB single file: over the 2 GiB one-file limit; 3 GB of weights + cache is under 4 GiB, so a split GGUF would load.
    const big = { ...tinyLlama(), totalWeightBytes: 3e9, files: [{ location: 'https://example.test/big-Q8_0.gguf', size: 3e9 }] };
    const v = check(big, none, { siblings: [{ fileName: 'big-Q2_K.gguf', sizeBytes: 1.2e9 }, { fileName: 'big-F16.gguf', sizeBytes: 6e9 }] });
    expect(v.runs).toBe(false);
    expect(v.engine).toBe('wasm');
    expect(v.reasons.join(' ')).toMatch(/larger than the 2 GiB one file may be/);
    expect(v.recommendations.some((r) => r.includes('big-Q2_K.gguf'))).toBe(true);
    expect(v.recommendations.some((r) => /split GGUF/.test(r))).toBe(true);
    expect(v.recommendations.some((r) => r.includes('big-F16.gguf'))).toBe(false);
    // 6 GB split in parts: each part fits the file limit, the whole does not fit wasm's 4 GiB memory.
    const huge = { ...tinyLlama(), totalWeightBytes: 6e9, files: [1, 2, 3, 4].map((i) => ({ location: `huge-0000${i}-of-00004.gguf`, size: 1.5e9 })) };
    const h = check(huge, none);
    expect(h.runs).toBe(false);
    expect(h.reasons.join(' ')).toMatch(/more than the 4 GiB a WebAssembly page can address/);
    expect(h.reasons.join(' ')).not.toMatch(/one file may be/);
    // WebGPU picked where there is none: the verdict says WebGPU is missing and points at the CPU engine.
    const webgpu = check(tinyLlama(), none, { engine: 'webgpu' });
    expect(webgpu.runs).toBe(false);
    expect(webgpu.engine).not.toBe('wasm');
    expect(webgpu.reasons.join(' ')).toMatch(/WebGPU is not available here/);
    expect(webgpu.recommendations.some((r) => /engine=wasm/.test(r))).toBe(true);
  });

  test('too large for the browser: does not fit, recommends the companion and a sibling file that fits', () => {
    // A 70B-shaped model: 80 layers of 8192, 64 heads / 8 KV heads, FFN 28672, vocab 128256; weights ~40 GB Q4_K.
    const shape = { contextLength: 8192, embeddingLength: 8192, blockCount: 80, headCount: 64, headCountKv: 8, headDim: 128, feedForwardLength: 28672, vocabSize: 128256 };
    const d = descriptorOf({
      ...shape,
      fileType: 'Q4_K_M',
      tensorSpecs: Array.from({ length: 80 * 3 }, (_, i) => ({ name: `blk.${Math.floor(i / 3)}.ffn_${['up', 'gate', 'down'][i % 3]}.weight`, dims: [8192, 28672], type: 'Q4_K' })),
    });
    expect(d.totalWeightBytes).toBeGreaterThan(25 * GiB);
    const siblings = [
      { fileName: 'Big-70B-Q4_K_M.gguf', fileType: 'Q4_K_M', sizeBytes: d.totalWeightBytes },
      { fileName: 'Big-70B-IQ1_S.gguf', sizeBytes: 4 * GiB },
      // Sizes below are not a real 70B's: what matters is that they fit beside the 2.5 GiB cache in 8 GiB.
      { fileName: 'Big-70B-Q2_K.gguf', sizeBytes: 4 * GiB },
    ];
    const v = check({ ...d, files: [{ location: '/x/Big-70B-Q4_K_M.gguf', size: d.totalWeightBytes }] }, desktop, { siblings });
    expect(v.memory.fits).toBe(false);
    expect(v.runs).toBe(false);
    expect(v.engine).toBe('companion');
    expect(v.reasons.some((r) => /more than the 8 GiB/.test(r))).toBe(true);
    expect(v.recommendations.some((r) => /Too large for the browser/.test(r) && /companion/.test(r))).toBe(true);
    // IQ1_S is planned on WebGPU, so the sibling to recommend is Q2_K.
    expect(v.recommendations.some((r) => r.startsWith('Q2_K in the same repository (Big-70B-Q2_K.gguf'))).toBe(true);
    // A device with a larger known budget fits it.
    expect(check(d, { ...desktop, memoryBudgetBytes: 64 * GiB }).runs).toBe(true);
  });
});

describe('check: what does not run (yet)', () => {
  test('IQ2_XS is planned, and the recommendation names the Q4_K_M sibling', () => {
    const d = tinyLlama('IQ2_XS', { fileType: 'IQ2_XS', files: [{ location: 'https://hf.co/o/r/resolve/main/m-IQ2_XS.gguf', size: 1 }] });
    const siblings = [
      { fileName: 'm-IQ2_XS.gguf', fileType: 'IQ2_XS', sizeBytes: 400 * MiB },
      { fileName: 'm-Q8_0.gguf', sizeBytes: 1100 * MiB },
      { fileName: 'm-Q4_K_M.gguf', fileType: 'Q4_K_M', sizeBytes: 640 * MiB },
      { fileName: 'm-IQ3_XXS.gguf', sizeBytes: 450 * MiB },
    ];
    const v = check(d, desktop, { siblings });
    expect(v.backends[0]!.confidence).toBe('planned');
    expect(v.runs).toBe(false);
    // In this browser it does not run; llama.cpp on the companion would.
    expect(v.engine).toBe('companion');
    const rec = v.recommendations.find((r) => r.startsWith('This file uses'));
    expect(rec).toBe('This file uses IQ2_XS, which is planned; Q4_K_M in the same repository (m-Q4_K_M.gguf, 640 MiB) is verified to run.');
    // Without a listing: generic advice.
    const generic = check(d, desktop).recommendations.find((r) => r.startsWith('This file uses'));
    expect(generic).toMatch(/IQ2_XS, which is planned; a Q4_K_M, Q8_0 or F16 GGUF of the same model is expected to run/);
  });

  test('an architecture outside the list is unsupported everywhere', () => {
    const v = check(tinyLlama('Q4_K', { architecture: 'falcon' }), desktop);
    expect(v.runs).toBe(false);
    expect(v.confidence).toBe('unsupported');
    expect(v.engine).toBe('none');
    expect(v.backends.every((b) => b.confidence === 'unsupported')).toBe(true);
    expect(v.reasons.join(' ')).toMatch(/falcon architecture is not one rbee-web runs/);
    expect(v.recommendations.join(' ')).toMatch(/llama, qwen2, qwen3, phi3, gemma, gemma2, gemma3/);
  });

  test('a family beside Llama whose parity test covers the type is verified in the browser', () => {
    // Every tensor in a covered type (Q4_K matrices and embedding, F32 norms): the weakest cell is verified.
    const v = check(descriptorOf({ ...TINYLLAMA_SHAPE, fileType: 'Q4_K_M', tensorSpecs: tinyLlamaTensors('Q4_K', 'Q4_K'), architecture: 'qwen2' }), desktop);
    expect(v.backends[0]!.backend).toBe('webgpu');
    expect(v.backends[0]!.confidence).toBe('verified');
    expect(v.backends.slice(1).every((b) => b.confidence === 'expected')).toBe(true);
    expect(v.engine).toBe('webgpu');
    expect(v.runs).toBe(true);
  });

  test('an unknown tensor type makes the model unsupported, with the type named', () => {
    const d = tinyLlama('Q4_K');
    d.weightTypes.push({ type: 'unknown(77)', tensors: 2, bytes: 0 });
    const v = check(d, desktop);
    expect(v.confidence).toBe('unsupported');
    expect(v.runs).toBe(false);
    expect(v.reasons.join(' ')).toContain('unknown(77)');
    expect(v.warnings.some((w) => w.includes('2 tensors use a type rbee-web does not know (unknown(77))'))).toBe(true);
  });

  test('SafeTensors llama in BF16 runs in the browser, verified by the SafeTensors parity test', () => {
    const d = descriptorOf({ ...TINYLLAMA_SHAPE, format: 'safetensors', tensorSpecs: tinyLlamaTensors('BF16', 'BF16') });
    const v = check(d, desktop);
    expect(v.backends[0]!.confidence).toBe('verified');
    expect(v.runs).toBe(true);
    expect(v.recommendations.some((r) => /GGUF conversion/.test(r))).toBe(false);
  });

  test('an MLC model uses web-llm, expected (not verified)', () => {
    const d = descriptorOf({ ...TINYLLAMA_SHAPE, format: 'mlc', tensorSpecs: tinyLlamaTensors('F16', 'F16') });
    const v = check(d, desktop);
    expect(v.engine).toBe('web-llm');
    expect(v.confidence).toBe('expected');
    expect(v.runs).toBe(true);
  });

  test('an adapter is not a model: runs false, and says it needs its base model', () => {
    const d = descriptorOf({ ...TINYLLAMA_SHAPE, kind: 'adapter', format: 'safetensors', tensorSpecs: [{ name: 'lora_A', dims: [8, 4096], type: 'F32' }] });
    const v = check(d, desktop);
    expect(v.runs).toBe(false);
    expect(v.engine).toBe('none');
    expect(v.reasons[0]).toMatch(/LoRA adapter, not a model/);
    expect(v.reasons[0]).toMatch(/planned/);
    expect(v.recommendations[0]).toMatch(/base model/);
  });

  test('a file without weight tensors does not run', () => {
    const v = check(descriptorOf({ ...TINYLLAMA_SHAPE }), desktop);
    expect(v.runs).toBe(false);
    expect(v.reasons[0]).toMatch(/no weight tensors/);
  });
});

