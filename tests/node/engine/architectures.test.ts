// The architecture registry: what each family's GGUF metadata and tensors become (the switches the forward pass
// reads), read from generated files through the project's own GGUF parser; and the SafeTensors → GGUF-shaped view.
import { describe, expect, test } from 'vitest';
import { RbeeError } from '../../../src/lib/errors.ts';
import type { ModelDescriptor } from '../../../src/lib/formats/descriptor.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { MemoryByteSource } from '../../../src/lib/formats/memory-source.ts';
import { architectureFor } from '../../../src/lib/engine/architectures/architecture.ts';
import { ARCHITECTURES } from '../../../src/lib/engine/capabilities.ts';
import { ggufTensorName, ggufViewOfSafetensors } from '../../../src/lib/engine/architectures/hf-names.ts';
import { type Family, generateFamilyGguf } from '../../support/family-generator.ts';
import { writeGguf } from '../../support/gguf-writer.ts';

const describe_ = (family: Family) => readGguf(new MemoryByteSource(generateFamilyGguf({ family, weightType: 'F32' }), `${family}.gguf`));

describe('GGUF families', () => {
  test('the registry names every family the engine runs', () => {
    expect([...ARCHITECTURES].sort()).toEqual(['gemma', 'gemma2', 'gemma3', 'llama', 'phi3', 'qwen2', 'qwen3']);
  });

  test('qwen2: NeoX rope, q/k/v biases, output tied to token_embd', async () => {
    const a = architectureFor(await describe_('qwen2'));
    expect(a.hyper.rope.layout).toBe('neox');
    expect(a.hyper.rope.freqBase).toBe(1e6);
    expect(a.layer(1)).toMatchObject({ qBias: 'blk.1.attn_q.bias', kBias: 'blk.1.attn_k.bias', vBias: 'blk.1.attn_v.bias' });
    expect(a.output).toBe('token_embd.weight');
  });

  test('qwen3: per-head q/k norms, head_dim from key_length (q wider than n_embd)', async () => {
    const a = architectureFor(await describe_('qwen3'));
    expect(a.layer(0)).toMatchObject({ qNorm: 'blk.0.attn_q_norm.weight', kNorm: 'blk.0.attn_k_norm.weight' });
    expect(a.hyper.headDim * a.hyper.nHead).toBe(512);
    expect(a.hyper.nEmbd).toBe(256);
    expect(a.output).toBe('output.weight');
  });

  test('gemma: √n_embd embedding scale, GELU, tied output', async () => {
    const a = architectureFor(await describe_('gemma'));
    expect(a.embeddingScale).toBe(Math.fround(16));
    expect(a.activation).toBe('gelu');
    expect(a.output).toBe('token_embd.weight');
    expect(a.hyper.rope.layout).toBe('neox');
  });

  test('gemma2: post-norms, soft-caps, sliding window on even layers', async () => {
    const a = architectureFor(await describe_('gemma2'));
    expect(a.layer(0)).toMatchObject({ postAttnNorm: 'blk.0.post_attention_norm.weight', postFfnNorm: 'blk.0.post_ffw_norm.weight' });
    expect([a.slidingWindow!(0), a.slidingWindow!(1)]).toEqual([4, 0]);
    expect(a.attentionSoftCap).toBe(2);
    expect(a.finalSoftCap).toBe(40);
    expect(a.attentionScale).toBeCloseTo(1 / Math.sqrt(128), 7);
  });

  test('gemma3: local layers use freq_base_swa without scaling, global ones the file rope with linear ×2', async () => {
    const a = architectureFor(await describe_('gemma3'));
    expect([a.slidingWindow!(0), a.slidingWindow!(1)]).toEqual([4, 0]);
    expect(a.layerRope!(0)).toMatchObject({ freqBase: 10000, scaling: 'none', layout: 'neox' });
    expect(a.layerRope!(1)).toMatchObject({ freqBase: 1e6, scaling: 'linear', factor: 2 });
    expect(a.layer(1).qNorm).toBe('blk.1.attn_q_norm.weight');
    expect(a.finalSoftCap).toBe(0);
  });

  test('phi3: fused qkv and gate|up, LongRoPE short/long factors and attn_factor', async () => {
    const a = architectureFor(await describe_('phi3'));
    const l = a.layer(0);
    expect(l.qkv).toBe('blk.0.attn_qkv.weight');
    expect(l.gateUp).toBe('blk.0.ffn_up.weight');
    expect(l.gate).toBeUndefined();
    expect(a.hyper.rope).toMatchObject({ freqFactorsTensor: 'rope_factors_short.weight', freqFactorsLongTensor: 'rope_factors_long.weight', originalContextLength: 256 });
    expect(a.hyper.rope.attnFactor).toBeCloseTo(1.19, 5);
  });

  test('Mistral (llama with llama.attention.sliding_window): full causal attention, as llama.cpp runs it', async () => {
    const d = await readGguf(
      new MemoryByteSource(
        writeGguf({
          version: 3,
          metadata: [
            ['general.architecture', { type: 'string', value: 'llama' }],
            ['llama.embedding_length', { type: 'u32', value: 64 }],
            ['llama.block_count', { type: 'u32', value: 1 }],
            ['llama.feed_forward_length', { type: 'u32', value: 128 }],
            ['llama.attention.head_count', { type: 'u32', value: 4 }],
            ['llama.attention.sliding_window', { type: 'u32', value: 4096 }],
          ],
          tensors: [{ name: 'token_embd.weight', dims: [64, 8], type: 0, data: new Uint8Array(64 * 8 * 4) }],
        }),
        'mistral.gguf',
      ),
    );
    const a = architectureFor(d);
    expect(a.slidingWindow).toBeUndefined();
    expect(a.hyper.rope.layout).toBe('interleaved');
  });

  test('an architecture the engine lacks is RbeeError unsupported-architecture, naming the families that run', async () => {
    const d = { ...(await describe_('qwen2')), architecture: 'falcon' } as ModelDescriptor;
    const e = (() => {
      try {
        architectureFor(d);
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(RbeeError);
    expect((e as RbeeError).code).toBe('unsupported-architecture');
    expect((e as RbeeError).hint).toMatch(/Qwen 2\/2\.5\/3, Phi-3 and Gemma 1\/2\/3/);
    expect(() => architectureFor({ ...d, architecture: 'constructor' })).toThrow(RbeeError);
  });
});

describe('SafeTensors as GGUF', () => {
  test('Hugging Face names map to llama.cpp names; Gemma 2/3 post_attention_layernorm is the post-attention norm', () => {
    expect(ggufTensorName('llama', 'model.embed_tokens.weight')).toBe('token_embd.weight');
    expect(ggufTensorName('llama', 'lm_head.weight')).toBe('output.weight');
    expect(ggufTensorName('llama', 'model.layers.3.post_attention_layernorm.weight')).toBe('blk.3.ffn_norm.weight');
    expect(ggufTensorName('gemma2', 'model.layers.3.post_attention_layernorm.weight')).toBe('blk.3.post_attention_norm.weight');
    expect(ggufTensorName('gemma3', 'language_model.model.layers.0.pre_feedforward_layernorm.weight')).toBe('blk.0.ffn_norm.weight');
    expect(ggufTensorName('phi3', 'model.layers.0.self_attn.qkv_proj.weight')).toBe('blk.0.attn_qkv.weight');
    expect(ggufTensorName('phi3', 'model.layers.0.mlp.gate_up_proj.weight')).toBe('blk.0.ffn_up.weight');
    expect(ggufTensorName('llama', 'model.layers.0.self_attn.rotary_emb.inv_freq')).toBeUndefined();
  });

  const st = (config: Record<string, unknown>, architecture: string): ModelDescriptor =>
    ({
      source: 'x',
      name: 'x',
      format: 'safetensors',
      kind: 'model',
      architecture,
      parameterCount: 0,
      weightTypes: [],
      hasChatTemplate: false,
      totalWeightBytes: 0,
      files: [],
      tensors: [{ name: 'model.embed_tokens.weight', dims: [64, 8], type: 30, typeName: 'BF16', offset: 0, size: 1024, file: 0 }],
      safetensors: { metadata: {}, config },
      warnings: [],
    }) as ModelDescriptor;

  test('config.json becomes <arch>.* metadata; a SafeTensors llama runs its q/k in the rotate-half layout, Gemma adds 1 to norms', () => {
    const config = { hidden_size: 64, num_hidden_layers: 2, intermediate_size: 128, num_attention_heads: 4, num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 500000, max_position_embeddings: 256 };
    const llama = architectureFor(st(config, 'llama'));
    expect(llama.hyper).toMatchObject({ nEmbd: 64, nLayer: 2, nFf: 128, nHead: 4, nHeadKv: 2, headDim: 16, contextLength: 256 });
    expect(llama.hyper.rope).toMatchObject({ layout: 'neox', freqBase: 500000 });
    expect(llama.output).toBe('token_embd.weight'); // no lm_head: tied
    expect(llama.normWeightOffset).toBeUndefined();
    expect(architectureFor(st(config, 'gemma')).normWeightOffset).toBe(1);
    const view = ggufViewOfSafetensors(st(config, 'qwen2'));
    expect(view.tensors.map((t) => t.name)).toEqual(['token_embd.weight']);
    expect(view.gguf!.metadata['qwen2.attention.head_count_kv']).toBe(2);
  });

  test('LongRoPE checkpoints and folders without config.json are refused with RbeeError', () => {
    const longrope = st({ hidden_size: 64, num_hidden_layers: 1, num_attention_heads: 4, rope_scaling: { type: 'longrope', short_factor: [1], long_factor: [2] } }, 'phi3');
    expect(() => ggufViewOfSafetensors(longrope)).toThrow(/LongRoPE/);
    const bare = { ...st({}, 'llama'), safetensors: { metadata: {} } } as ModelDescriptor;
    expect(() => ggufViewOfSafetensors(bare)).toThrow(RbeeError);
  });
});
