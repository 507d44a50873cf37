// The CPU engine hands llama.cpp's wasm build the model file with its chat templates blanked (llama.cpp renders a
// template at load, unbudgeted: a runaway one hangs it). The blanked file must be the same file in every other byte,
// parse to the same model, and a file without a template must pass through untouched.
import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { templateValueRanges, withBlankChatTemplates } from '../../../src/lib/runtime/gguf-template-blanking.ts';
import { BlobByteSource } from '../../../src/lib/formats/blob-source.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';
import { withChatTemplate } from '../../support/gguf-chat-template.ts';
import { HOSTILE_TEMPLATES } from '../../support/hostile-templates.ts';

describe.runIf(HAS_FIXTURES)('chat templates blanked for llama.cpp', () => {
  test('a runaway template becomes spaces of the same length; every other byte and the parsed model are unchanged', async () => {
    const original = new Uint8Array(await readFile(fixture('models/stories260K.gguf')));
    const withTemplate = withChatTemplate(original, HOSTILE_TEMPLATES['nested loops']!);
    const file = new Blob([withTemplate]);
    const before = await readGguf(new BlobByteSource(new File([withTemplate], 'm.gguf')));
    const blanked = await withBlankChatTemplates(file, before.gguf!.dataOffsets[0]!);
    expect(blanked.size).toBe(file.size);
    const bytes = new Uint8Array(await blanked.arrayBuffer());
    const ranges = templateValueRanges(withTemplate);
    expect(ranges).toHaveLength(1);
    const [from, to] = ranges[0]!;
    expect(new TextDecoder().decode(withTemplate.subarray(from, to))).toContain('{% for');
    expect(bytes.subarray(from, to).every((b) => b === 0x20)).toBe(true);
    expect(Buffer.from(bytes.subarray(0, from)).equals(Buffer.from(withTemplate.subarray(0, from)))).toBe(true);
    expect(Buffer.from(bytes.subarray(to)).equals(Buffer.from(withTemplate.subarray(to)))).toBe(true);

    const after = await readGguf(new BlobByteSource(new File([bytes], 'm.gguf')));
    expect(after.gguf!.metadata['tokenizer.chat_template']).toMatch(/^ +$/);
    expect(after.tensors.map((t) => [t.name, t.offset, t.size])).toEqual(before.tensors.map((t) => [t.name, t.offset, t.size]));
  });

  test('a file without a chat template is handed over as it is', async () => {
    const original = new Uint8Array(await readFile(fixture('models/stories260K.gguf')));
    const d = await readGguf(new BlobByteSource(new File([original], 'm.gguf')));
    const file = new Blob([original]);
    expect(await withBlankChatTemplates(file, d.gguf!.dataOffsets[0]!)).toBe(file);
  });
});
