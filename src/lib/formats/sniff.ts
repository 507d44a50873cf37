/**
 * What kind of file this is, from its first bytes (and its name where the bytes cannot say, or say too little).
 * The formats we do not read get an error that names them and says what to do (convert to GGUF), not "bad magic".
 */
import { RbeeError } from '../errors.ts';

export type SniffedFormat =
  | 'gguf'
  | 'safetensors'
  /** model.safetensors.index.json: the map of a sharded checkpoint */
  | 'safetensors-index'
  /** config.json (or another JSON file) of a Hugging Face model folder */
  | 'json'
  | 'legacy-ggml'
  | 'pytorch'
  | 'unknown';

/** Bytes `sniffFormat` looks at. */
export const SNIFF_BYTES = 16;

/**
 * Pre-GGUF llama.cpp magics, as the uint32 the files stored little-endian (so the bytes read backwards):
 * 'ggml' (unversioned), 'ggmf', 'ggjt' (the mmap-able one most old .bin files use), 'ggla' (LoRA), 'ggsn' (session).
 */
const LEGACY_MAGICS = ['ggml', 'ggmf', 'ggjt', 'ggla', 'ggsn'];

const ascii = (b: Uint8Array, n: number): string => String.fromCharCode(...b.subarray(0, n));

export function sniffFormat(head: Uint8Array, fileName = ''): SniffedFormat {
  const name = fileName.toLowerCase();
  if (head.byteLength >= 4) {
    const magic = ascii(head, 4);
    if (magic === 'GGUF') return 'gguf';
    if (LEGACY_MAGICS.some((m) => magic === m || magic === [...m].reverse().join(''))) return 'legacy-ggml';
    if (magic === 'PK\x03\x04') return 'pytorch'; // torch.save's zip format (data.pkl + storages)
  }
  // A pickle starts with PROTO (0x80) and its protocol number; torch.save before 1.6 wrote protocol 2.
  if (head.byteLength >= 2 && head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5) return 'pytorch';
  if (head.byteLength >= 9 && head[8] === 0x7b /* { */) {
    // u64 LE header length; a real one is small, so the high bytes are zero.
    const view = new DataView(head.buffer, head.byteOffset, 8);
    if (view.getUint32(4, true) === 0 && view.getUint32(0, true) > 0) return 'safetensors';
  }
  if (firstNonSpace(head) === 0x7b) {
    if (name.endsWith('.index.json')) return 'safetensors-index';
    if (name.endsWith('.json')) return 'json';
  }
  // The bytes say nothing we know; let the parser for the name's format give the precise error.
  if (name.endsWith('.gguf')) return 'gguf';
  if (name.endsWith('.safetensors')) return 'safetensors';
  return 'unknown';
}

function firstNonSpace(b: Uint8Array): number | undefined {
  for (const byte of b) if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09 && byte !== 0xef && byte !== 0xbb && byte !== 0xbf) return byte;
  return undefined;
}

/** The error for a format we recognise but do not read (legacy GGML, PyTorch) or do not recognise at all. */
export function unsupportedFormatError(format: SniffedFormat, fileName: string, head: Uint8Array): RbeeError {
  const convert = "Convert the model to GGUF with llama.cpp's convert_hf_to_gguf.py (or use the model's GGUF or SafeTensors files).";
  if (format === 'legacy-ggml') {
    return new RbeeError('legacy-ggml', `${fileName} is in the old GGML/GGJT format (magic '${ascii(head, 4)}'), which llama.cpp replaced with GGUF in 2023 and rbee-web does not read.`, {
      hint: 'Download a GGUF version of the model, or convert this file with llama.cpp (convert_llama_ggml_to_gguf.py).',
    });
  }
  if (format === 'pytorch') {
    return new RbeeError('pytorch', `${fileName} is a PyTorch checkpoint (${head[0] === 0x50 ? 'zip' : 'pickle'}), which rbee-web does not read: pickles can run code when loaded.`, {
      hint: convert,
    });
  }
  if (format === 'json') {
    return new RbeeError('unknown-format', `${fileName} is a JSON file, not model weights.`, {
      hint: 'Open the .gguf or .safetensors file (or the whole model folder / repository).',
    });
  }
  return new RbeeError('unknown-format', `${fileName} is not a GGUF or SafeTensors file (it starts with ${hex(head)}).`, {
    hint: `rbee-web reads GGUF and SafeTensors models. ${convert}`,
  });
}

function hex(head: Uint8Array): string {
  if (head.byteLength === 0) return 'nothing: it is empty';
  return [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}
