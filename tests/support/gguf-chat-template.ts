// A copy of a GGUF file with `tokenizer.chat_template` set to a chosen template, for tests of what a model file's
// template can do. The key/value is inserted first among the metadata and padded (with trailing spaces in the
// template, which never change what a template renders before them) to a multiple of the file's alignment, so the
// tensor data section moves by whole alignment units and every tensor offset stays valid. Works in Node and browsers.

const ALIGNMENT = 32; // the GGUF default; files that set general.alignment are not used with this helper

export function withChatTemplate(gguf: Uint8Array, template: string): Uint8Array<ArrayBuffer> {
  const view = new DataView(gguf.buffer, gguf.byteOffset, gguf.byteLength);
  if (new TextDecoder().decode(gguf.subarray(0, 4)) !== 'GGUF' || view.getUint32(4, true) < 2) throw new Error('a little-endian GGUF v2/v3 file');
  const encoder = new TextEncoder();
  const key = encoder.encode('tokenizer.chat_template');
  let value = encoder.encode(template);
  const fixed = 8 + key.byteLength + 4 + 8;
  const pad = (ALIGNMENT - ((fixed + value.byteLength) % ALIGNMENT)) % ALIGNMENT;
  value = encoder.encode(template + ' '.repeat(pad));
  const kv = new Uint8Array(fixed + value.byteLength);
  const kvView = new DataView(kv.buffer);
  kvView.setBigUint64(0, BigInt(key.byteLength), true);
  kv.set(key, 8);
  kvView.setUint32(8 + key.byteLength, 8, true); // GGUF string type
  kvView.setBigUint64(12 + key.byteLength, BigInt(value.byteLength), true);
  kv.set(value, fixed);
  const KV_START = 24; // magic, version, tensor count (u64), kv count (u64)
  const out = new Uint8Array(gguf.byteLength + kv.byteLength);
  out.set(gguf.subarray(0, KV_START));
  out.set(kv, KV_START);
  out.set(gguf.subarray(KV_START), KV_START + kv.byteLength);
  const outView = new DataView(out.buffer);
  outView.setBigUint64(16, view.getBigUint64(16, true) + 1n, true);
  return out;
}
