/**
 * A real, tiny ONNX text-generation model written from scratch (no Python, no download): a bigram language model
 * whose graph is one Gather — `logits[b, s, :] = table[input_ids[b, s], :]` — over an 8-word WordLevel vocabulary,
 * with the config.json / tokenizer.json / tokenizer_config.json / generation_config.json transformers.js reads.
 * Greedy decoding from "the" gives "cat sat on mat" and then the end-of-sequence token; from "dog", "dog" forever
 * (for max-token and abort tests).
 *
 * The ONNX file is protobuf (onnx.proto3: ModelProto → GraphProto → NodeProto / TensorProto / ValueInfoProto),
 * encoded below with the few wire types it needs.
 */

// ── protobuf wire format ──
const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

type Field = [number, number | string | Uint8Array];

/** A message from (field number, value) pairs: numbers are varints, strings and bytes length-delimited. */
function message(fields: Field[]): Uint8Array {
  const parts: number[] = [];
  for (const [no, value] of fields) {
    if (typeof value === 'number') {
      parts.push(...varint((no << 3) | 0), ...varint(value));
    } else {
      const b = typeof value === 'string' ? bytesOf(value) : value;
      parts.push(...varint((no << 3) | 2), ...varint(b.byteLength), ...b);
    }
  }
  return new Uint8Array(parts);
}

const FLOAT = 1;
const INT64 = 7;

/** ValueInfoProto for a tensor with dims given as numbers (fixed) or strings (symbolic). */
function tensorValueInfo(name: string, elemType: number, dims: (number | string)[]): Uint8Array {
  const shape = message(dims.map((d): Field => [1, message([typeof d === 'number' ? [1, d] : [2, d]])]));
  const tensorType = message([[1, elemType], [2, shape]]);
  return message([[1, name], [2, message([[1, tensorType]])]]);
}

export const TINY_VOCAB = ['<eos>', '<unk>', 'the', 'cat', 'sat', 'on', 'mat', 'dog'] as const;
/** The next word each word predicts (the table's arg-max per row). */
const NEXT: Record<string, string> = { the: 'cat', cat: 'sat', sat: 'on', on: 'mat', mat: '<eos>', dog: 'dog', '<eos>': '<eos>', '<unk>': 'the' };

/** The bigram model as an ONNX file (opset 13, IR version 8). */
export function tinyBigramOnnx(): Uint8Array {
  const v = TINY_VOCAB.length;
  const table = new Float32Array(v * v);
  TINY_VOCAB.forEach((word, row) => {
    const next = TINY_VOCAB.indexOf(NEXT[word] as (typeof TINY_VOCAB)[number]);
    for (let col = 0; col < v; col++) table[row * v + col] = col === next ? 10 : -((row + col) % 3);
  });
  const initializer = message([
    [1, v], // dims (unpacked repeated int64)
    [1, v],
    [2, FLOAT],
    [8, 'bigram_table'],
    [9, new Uint8Array(table.buffer)],
  ]);
  const gather = message([[1, 'bigram_table'], [1, 'input_ids'], [2, 'logits'], [3, 'next_word'], [4, 'Gather']]);
  const graph = message([
    [1, gather],
    [2, 'tiny-bigram'],
    [5, initializer],
    [11, tensorValueInfo('input_ids', INT64, ['batch_size', 'sequence_length'])],
    [11, tensorValueInfo('attention_mask', INT64, ['batch_size', 'total_sequence_length'])],
    [12, tensorValueInfo('logits', FLOAT, ['batch_size', 'sequence_length', v])],
  ]);
  const opset = message([[1, ''], [2, 13]]);
  return message([[1, 8], [2, 'rbee-web tests'], [7, graph], [8, opset]]);
}

const json = (v: unknown): Uint8Array => bytesOf(JSON.stringify(v));

/** The repository's files: onnx/model.onnx plus the JSON files transformers.js reads. */
export function tinyOnnxRepo(): Record<string, Uint8Array> {
  const vocab = Object.fromEntries(TINY_VOCAB.map((w, i) => [w, i]));
  return {
    'config.json': json({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: TINY_VOCAB.length,
      hidden_size: 8,
      intermediate_size: 16,
      num_attention_heads: 2,
      num_key_value_heads: 2,
      num_hidden_layers: 1,
      max_position_embeddings: 64,
      eos_token_id: 0,
      tie_word_embeddings: false,
    }),
    'generation_config.json': json({ eos_token_id: 0 }),
    'tokenizer.json': json({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [
        { id: 0, content: '<eos>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
        { id: 1, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      ],
      normalizer: null,
      pre_tokenizer: { type: 'Whitespace' },
      post_processor: null,
      decoder: null,
      model: { type: 'WordLevel', vocab, unk_token: '<unk>' },
    }),
    'tokenizer_config.json': json({
      tokenizer_class: 'PreTrainedTokenizerFast',
      eos_token: '<eos>',
      unk_token: '<unk>',
      model_max_length: 64,
      chat_template: "{% for m in messages %}{{ m['content'] }}{% endfor %}",
    }),
    'onnx/model.onnx': tinyBigramOnnx(),
  };
}
