/**
 * The SafeTensors twin of a GGUF model, as Hugging Face would hold it: config.json, HF tensor names and [out, in]
 * shapes, the same F32 / F16 / BF16 bytes, and what llama.cpp's converter changed put back:
 * - llama: q/k rows un-permuted from Meta's interleaved pairs back to HF's rotate-half order (the inverse of
 *   convert_hf_to_gguf.py's permute);
 * - gemma*: norm weights minus 1 (the converter stores w + 1; HF stores w).
 * Single-file or sharded (model-0000i-of-0000n.safetensors + model.safetensors.index.json).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GgufValue, TensorInfo } from '../../src/lib/formats/descriptor.ts';
import { readGguf } from '../../src/lib/formats/gguf.ts';
import { MemoryByteSource } from '../../src/lib/formats/memory-source.ts';

const DTYPES: Record<number, { name: string; bytes: number }> = { 0: { name: 'F32', bytes: 4 }, 1: { name: 'F16', bytes: 2 }, 30: { name: 'BF16', bytes: 2 } };

const LAYER_HF: Record<string, string> = {
  'attn_norm.weight': 'input_layernorm.weight',
  'attn_q.weight': 'self_attn.q_proj.weight',
  'attn_k.weight': 'self_attn.k_proj.weight',
  'attn_v.weight': 'self_attn.v_proj.weight',
  'attn_q.bias': 'self_attn.q_proj.bias',
  'attn_k.bias': 'self_attn.k_proj.bias',
  'attn_v.bias': 'self_attn.v_proj.bias',
  'attn_output.weight': 'self_attn.o_proj.weight',
  'attn_q_norm.weight': 'self_attn.q_norm.weight',
  'attn_k_norm.weight': 'self_attn.k_norm.weight',
  'ffn_gate.weight': 'mlp.gate_proj.weight',
  'ffn_up.weight': 'mlp.up_proj.weight',
  'ffn_down.weight': 'mlp.down_proj.weight',
  'post_attention_norm.weight': 'post_attention_layernorm.weight',
  'post_ffw_norm.weight': 'post_feedforward_layernorm.weight',
};

function hfName(arch: string, name: string): string {
  if (name === 'token_embd.weight') return 'model.embed_tokens.weight';
  if (name === 'output_norm.weight') return 'model.norm.weight';
  if (name === 'output.weight') return 'lm_head.weight';
  const m = /^blk\.(\d+)\.(.+)$/.exec(name);
  if (!m) throw new Error(`no Hugging Face name for ${name}`);
  const rest = m[2]!;
  const post = arch === 'gemma2' || arch === 'gemma3';
  const mapped = rest === 'ffn_norm.weight' ? (post ? 'pre_feedforward_layernorm.weight' : 'post_attention_layernorm.weight') : LAYER_HF[rest];
  if (!mapped) throw new Error(`no Hugging Face name for ${name}`);
  return `model.layers.${m[1]}.${mapped}`;
}

/** HF row order of a GGUF llama q/k matrix: hf[h·hd + j·hd/2 + i] = gguf[h·hd + 2i + j]. */
function unpermuteRows(data: Uint8Array, rowBytes: number, rows: number, nHead: number): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  const hd = rows / nHead;
  const half = hd / 2;
  for (let h = 0; h < nHead; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (h * hd + 2 * i + j) * rowBytes;
        const to = (h * hd + j * half + i) * rowBytes;
        out.set(data.subarray(from, from + rowBytes), to);
      }
    }
  }
  return out;
}

function numberOf(v: GgufValue | undefined): number | undefined {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
}

export interface TwinOptions {
  /** Number of shard files (default 1: model.safetensors). */
  shards?: number;
}

/** Writes the twin of the GGUF at `ggufPath` into `dir` (created); returns the path of the weights to open. */
export async function writeSafetensorsTwin(ggufPath: string, dir: string, options: TwinOptions = {}): Promise<string> {
  const bytes = new Uint8Array(await readFile(ggufPath));
  const d = await readGguf(new MemoryByteSource(bytes, ggufPath));
  const meta = d.gguf!.metadata;
  const arch = d.architecture;
  const k = (key: string) => numberOf(meta[`${arch}.${key}`]);
  const nHead = k('attention.head_count')!;
  const nHeadKv = k('attention.head_count_kv') ?? nHead;
  const nEmbd = k('embedding_length')!;
  const headDim = k('attention.key_length') ?? nEmbd / nHead;
  const tensors: { name: string; dtype: string; shape: number[]; data: Uint8Array }[] = [];
  for (const t of d.tensors as TensorInfo[]) {
    const dt = DTYPES[t.type];
    if (!dt) throw new Error(`${t.name} is ${t.typeName}: a SafeTensors twin holds F32, F16 or BF16 only`);
    let data: Uint8Array = bytes.slice(t.offset, t.offset + t.size!);
    const rows = t.dims.slice(1).reduce((a, b) => a * b, 1);
    if (arch === 'llama' && /attn_[qk]\.weight$/.test(t.name)) {
      data = unpermuteRows(data, t.dims[0]! * dt.bytes, rows, t.name.includes('attn_q') ? nHead : nHeadKv);
    }
    if (arch.startsWith('gemma') && t.name.endsWith('norm.weight')) {
      if (t.type !== 0) throw new Error(`${t.name}: gemma norms are F32 here`);
      const f = new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4).map((v) => v - 1);
      data = new Uint8Array(f.buffer);
    }
    tensors.push({ name: hfName(arch, t.name), dtype: dt.name, shape: [...t.dims].reverse(), data });
  }
  const hasOutput = d.tensors.some((t) => t.name === 'output.weight');
  const config: Record<string, unknown> = {
    architectures: [{ llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', qwen3: 'Qwen3ForCausalLM', gemma: 'GemmaForCausalLM', gemma2: 'Gemma2ForCausalLM', gemma3: 'Gemma3ForCausalLM' }[arch] ?? arch],
    model_type: arch === 'gemma3' ? 'gemma3_text' : arch,
    hidden_size: nEmbd,
    intermediate_size: k('feed_forward_length'),
    num_hidden_layers: k('block_count'),
    num_attention_heads: nHead,
    num_key_value_heads: nHeadKv,
    head_dim: headDim,
    rms_norm_eps: k('attention.layer_norm_rms_epsilon'),
    rope_theta: k('rope.freq_base') ?? 10000,
    max_position_embeddings: k('context_length'),
    vocab_size: d.tensors.find((t) => t.name === 'token_embd.weight')!.dims[1],
    tie_word_embeddings: !hasOutput,
    torch_dtype: tensors.find((t) => t.name === 'model.embed_tokens.weight')!.dtype === 'F32' ? 'float32' : 'bfloat16',
  };
  if (arch === 'gemma2') {
    Object.assign(config, { sliding_window: k('attention.sliding_window'), attn_logit_softcapping: k('attn_logit_softcapping'), final_logit_softcapping: k('final_logit_softcapping') });
  }
  if (arch === 'gemma3') {
    const factor = k('rope.scaling.factor');
    Object.assign(config, {
      sliding_window: k('attention.sliding_window'),
      sliding_window_pattern: k('attention.sliding_window_pattern'),
      rope_local_base_freq: k('rope.freq_base_swa'),
      final_logit_softcapping: k('final_logit_softcapping') ?? null,
      rope_scaling: factor ? { rope_type: String(meta[`${arch}.rope.scaling.type`] ?? 'linear'), factor } : null,
    });
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const shards = options.shards ?? 1;
  const per = Math.ceil(tensors.length / shards);
  const weightMap: Record<string, string> = {};
  const files: string[] = [];
  for (let s = 0; s < shards; s++) {
    const part = tensors.slice(s * per, (s + 1) * per);
    const file = shards === 1 ? 'model.safetensors' : `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    await writeFile(join(dir, file), safetensorsBytes(part));
    for (const t of part) weightMap[t.name] = file;
    files.push(file);
  }
  if (shards > 1) {
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: tensors.reduce((n, t) => n + t.data.byteLength, 0) }, weight_map: weightMap }));
  }
  return join(dir, files[0]!);
}

/** The SafeTensors file format: u64 header length, the JSON header (padded with spaces to 8 bytes), the data. */
function safetensorsBytes(tensors: { name: string; dtype: string; shape: number[]; data: Uint8Array }[]): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const t of tensors) {
    out.set(t.data, at);
    at += t.data.byteLength;
  }
  return out;
}
