/**
 * Hub repositories shaped like web-llm's MLC builds and onnx-community's ONNX exports (file names, folder layout and
 * JSON files as those repositories publish them; weights are small placeholders since only the JSON is read).
 * `hubFiles()` maps them to the paths a local hub (tests/support/range-server.ts) serves: the tree API and /resolve/.
 */

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

/** mlc-chat-config.json of a Llama 3.2 1B build (keys and values as mlc_llm gen_config writes them). */
export function mlcChatConfig(quantization: string): Record<string, unknown> {
  return {
    version: '0.1.0',
    model_type: 'llama',
    quantization,
    model_config: {
      hidden_size: 2048,
      intermediate_size: 8192,
      num_attention_heads: 32,
      num_hidden_layers: 16,
      rms_norm_eps: 1e-5,
      vocab_size: 128256,
      tie_word_embeddings: true,
      position_embedding_base: 500000.0,
      context_window_size: 131072,
      prefill_chunk_size: 8192,
      num_key_value_heads: 8,
      head_dim: 64,
      tensor_parallel_shards: 1,
      max_batch_size: 128,
    },
    vocab_size: 128256,
    context_window_size: 4096,
    sliding_window_size: -1,
    prefill_chunk_size: 2048,
    attention_sink_size: -1,
    tensor_parallel_shards: 1,
    temperature: 0.6,
    top_p: 0.9,
    conv_template: { name: 'llama-3_1', system_template: '<|start_header_id|>system<|end_header_id|>\n\n{system_message}<|eot_id|>' },
    pad_token_id: 0,
    bos_token_id: 128000,
    eos_token_id: [128001, 128008, 128009],
    tokenizer_files: ['tokenizer.json', 'tokenizer_config.json'],
  };
}

/** tensor-cache.json with two shards of two tensors each. */
export function mlcTensorCache(): Record<string, unknown> {
  return {
    metadata: { ParamSize: 4, ParamBytes: 1000, BitsPerParam: 8 },
    records: [
      {
        dataPath: 'params_shard_0.bin',
        format: 'raw-shard',
        nbytes: 600,
        records: [
          { name: 'model.embed_tokens.q_weight', shape: [128256, 256], dtype: 'uint32', format: 'f32-to-bf16', nbytes: 400, byteOffset: 0 },
          { name: 'model.embed_tokens.q_scale', shape: [128256, 64], dtype: 'float16', format: 'f32-to-bf16', nbytes: 200, byteOffset: 400 },
        ],
      },
      {
        dataPath: 'params_shard_1.bin',
        format: 'raw-shard',
        nbytes: 400,
        records: [
          { name: 'model.layers.0.self_attn.qkv_proj.q_weight', shape: [3072, 256], dtype: 'uint32', format: 'f32-to-bf16', nbytes: 300, byteOffset: 0 },
          { name: 'model.norm.weight', shape: [2048], dtype: 'float16', format: 'f32-to-bf16', nbytes: 100, byteOffset: 300 },
        ],
      },
    ],
  };
}

export function mlcRepo(quantization: string, cacheName = 'tensor-cache.json'): Record<string, Uint8Array> {
  return {
    'mlc-chat-config.json': enc(mlcChatConfig(quantization)),
    [cacheName]: enc(mlcTensorCache()),
    'params_shard_0.bin': new Uint8Array(600),
    'params_shard_1.bin': new Uint8Array(400),
    'tokenizer.json': enc({ model: { type: 'BPE', vocab: {}, merges: [] } }),
    'tokenizer_config.json': enc({}),
    'README.md': enc('# MLC build'),
  };
}

/** config.json of a Qwen2.5 0.5B Instruct ONNX export. */
export function onnxConfig(): Record<string, unknown> {
  return {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    hidden_size: 896,
    intermediate_size: 4864,
    num_attention_heads: 14,
    num_hidden_layers: 24,
    num_key_value_heads: 2,
    max_position_embeddings: 32768,
    rope_theta: 1000000.0,
    vocab_size: 151936,
    tie_word_embeddings: true,
    'transformers.js_config': { kv_cache_dtype: { q4f16: 'float16', fp16: 'float16' } },
  };
}

export function onnxRepo(variants: Record<string, number> = { '': 2000, _fp16: 1000, _q4: 500, _q4f16: 400, _quantized: 600 }): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {
    'config.json': enc(onnxConfig()),
    'generation_config.json': enc({ do_sample: true }),
    'tokenizer.json': enc({ model: { type: 'BPE', vocab: {}, merges: [] } }),
    'tokenizer_config.json': enc({ chat_template: "{% for m in messages %}{{ m['content'] }}{% endfor %}" }),
    'README.md': enc('# ONNX export'),
  };
  for (const [suffix, size] of Object.entries(variants)) files[`onnx/model${suffix}.onnx`] = new Uint8Array(size);
  // Large exports keep their weights in external data files.
  if ('' in variants) files['onnx/model.onnx_data'] = new Uint8Array(3000);
  // Not decoders: a vision encoder of a multimodal export.
  files['onnx/vision_encoder.onnx'] = new Uint8Array(10);
  return files;
}

/** Paths a local hub serves for these repositories: the tree API listing and each file under /resolve/main/. */
export function hubFiles(repos: Record<string, Record<string, Uint8Array>>): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const [repo, files] of Object.entries(repos)) {
    out[`/api/models/${repo}/tree/main`] = enc(Object.entries(files).map(([path, bytes]) => ({ type: 'file', path, size: bytes.byteLength })));
    for (const [path, bytes] of Object.entries(files)) out[`/${repo}/resolve/main/${path}`] = bytes;
  }
  return out;
}
