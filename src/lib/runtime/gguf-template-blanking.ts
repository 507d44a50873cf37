/**
 * The model file as the CPU engine hands it to llama.cpp's WebAssembly build, with every chat template in its
 * metadata (`tokenizer.chat_template`, `tokenizer.chat_template.<name>`) blanked to spaces of the same length.
 *
 * Why: llama.cpp renders the model's template at load (common_chat_templates_init probes the template's
 * capabilities with sample conversations), inside wasm, where no budget reaches it — a runaway template
 * (`{% for i in range(100000000) %}`) hangs the load for good. This engine never uses llama.cpp's templates: prompts
 * are rendered by the app (budgeted, in chat-template.ts) and sent as text. Spaces of the same byte length keep every
 * offset in the file, so the rest of the file is the original Blob, sliced (no copy); only the header is read.
 *
 * GGUF metadata key/value: u64 key length · key bytes · u32 type (8 = string) · u64 string length · string bytes
 * (little-endian; a big-endian file, or one whose template is not where the header says, is handed over unchanged).
 */
const TEMPLATE_KEY = new TextEncoder().encode('tokenizer.chat_template');
const GGUF_TYPE_STRING = 8;
const SPACE = 0x20;

/** `file` with its chat templates blanked; `headerBytes`: where the tensor data starts (the metadata lies before). */
export async function withBlankChatTemplates(file: Blob, headerBytes: number): Promise<Blob> {
  const end = Math.min(file.size, headerBytes);
  const header = new Uint8Array(await file.slice(0, end).arrayBuffer());
  const ranges = templateValueRanges(header);
  if (ranges.length === 0) return file;
  for (const [from, to] of ranges) header.fill(SPACE, from, to);
  return new Blob([header, file.slice(end)]);
}

/** [start, end) of each chat-template string value in a GGUF header. */
export function templateValueRanges(header: Uint8Array): [number, number][] {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const ranges: [number, number][] = [];
  for (let at = indexOf(header, TEMPLATE_KEY, 8); at >= 0; at = indexOf(header, TEMPLATE_KEY, at + 1)) {
    const keyStart = at;
    if (keyStart < 8) continue;
    const keyLength = Number(view.getBigUint64(keyStart - 8, true));
    const keyEnd = keyStart + keyLength;
    if (keyLength < TEMPLATE_KEY.length || keyEnd + 12 > header.byteLength) continue;
    // The key is the template key itself or a named one ("tokenizer.chat_template.tool_use").
    if (keyLength > TEMPLATE_KEY.length && header[keyStart + TEMPLATE_KEY.length] !== 0x2e) continue;
    if (view.getUint32(keyEnd, true) !== GGUF_TYPE_STRING) continue;
    const valueLength = Number(view.getBigUint64(keyEnd + 4, true));
    const valueStart = keyEnd + 12;
    if (valueStart + valueLength > header.byteLength) continue;
    ranges.push([valueStart, valueStart + valueLength]);
  }
  return ranges;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  for (let i = haystack.indexOf(first, from); i >= 0 && i + needle.length <= haystack.length; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}
