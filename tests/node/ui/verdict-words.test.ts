// What a new user reads first (issue 17): the verdict's one-sentence summary, no fit figure for a model that does not
// run (a vocabulary-only GGUF, issue bug 6), /compat's test titles with their case filled in, the model's title, and
// one answer about the chat template on the model page and in the chat.
import { describe, expect, it } from 'vitest';
import { check } from '../../../src/lib/compat/check.ts';
import { DEFAULT_DESKTOP_CAPS, type DeviceCaps } from '../../../src/lib/compat/device-caps.ts';
import { listMatrixRows } from '../../../src/lib/compat/matrix.ts';
import { NO_WEIGHTS_REASON } from '../../../src/lib/formats/no-weights.ts';
import { testTitle } from '../../../src/lib/compat/test-title.ts';
import { BACKENDS } from '../../../src/lib/compat/verdict.ts';
import type { ModelDescriptor } from '../../../src/lib/formats/descriptor.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { displayName } from '../../../src/lib/formats/gguf-descriptor.ts';
import { NodeFileSource } from '../../../src/lib/formats/node-file-source.ts';
import { chatTemplateSummary, templateFallbackNote } from '../../../src/lib/ui/chat/template-note.ts';
import { showsMemoryFit, verdictSummary } from '../../../src/lib/compat/confidence-meaning.ts';
import { countOf } from '../../../src/lib/quantities.ts';
import { descriptorOf, TINYLLAMA_SHAPE, tinyLlamaTensors } from '../compat/model-descriptors.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';

const desktop: DeviceCaps = { ...DEFAULT_DESKTOP_CAPS, assumed: false, adapter: { vendor: 'nvidia', architecture: 'ampere', description: 'test GPU' } };

async function readFixture(rel: string): Promise<ModelDescriptor> {
  const source = await NodeFileSource.open(fixture(rel));
  try {
    return await readGguf(source);
  } finally {
    await source.close();
  }
}

describe.runIf(HAS_FIXTURES)('a vocabulary-only GGUF (llama.cpp’s ggml-vocab-llama-spm.gguf)', () => {
  it('does not run, says why in one sentence, and shows no fit figure', async () => {
    const d = await readFixture('tokenizers/ggml-vocab-llama-spm.gguf');
    expect(d.tensors).toHaveLength(0);
    const v = check(d, desktop);
    expect(v.runs).toBe(false);
    // Its memory estimate (a 4 GiB KV cache from the header's shape) "fits", which is what the page must not show.
    expect(v.memory.fits).toBe(true);
    expect(showsMemoryFit(v)).toBe(false);
    expect(verdictSummary(v)).toBe(NO_WEIGHTS_REASON);
  });
});

describe('the verdict summary', () => {
  const tinyLlama = (type: string) => descriptorOf({ ...TINYLLAMA_SHAPE, fileType: 'Q4_K_M', tensorSpecs: tinyLlamaTensors(type) });

  it('leads with words, not test notes; the evidence (test file) stays in the reasons', () => {
    const v = check(tinyLlama('Q4_K'), desktop);
    expect(v.confidence).toBe('verified');
    expect(verdictSummary(v)).toBe('Tested: in this browser it gives the same words as llama.cpp does for this kind of model.');
    expect(verdictSummary(v)).not.toMatch(/tests\/|near-tie|%s/);
    expect(v.reasons.join(' ')).toMatch(/tests\/parity\//);
    expect(showsMemoryFit(v)).toBe(true);
  });

  it('a model too large for the device: does not run, and keeps its fit figure (the size is why)', () => {
    const v = check(tinyLlama('Q4_K'), { ...desktop, memoryBudgetBytes: 1024 ** 2 });
    expect(v.runs).toBe(false);
    expect(v.memory.fits).toBe(false);
    expect(showsMemoryFit(v)).toBe(true);
    expect(verdictSummary(v)).toMatch(/^Too large for this browser here/);
  });

  it('an architecture rbee-web does not run: a plain sentence, and the advice does not print "unknown"', () => {
    const v = check(descriptorOf({ ...TINYLLAMA_SHAPE, architecture: 'unknown', tensorSpecs: tinyLlamaTensors('F32') }), desktop);
    expect(v.runs).toBe(false);
    expect(showsMemoryFit(v)).toBe(false);
    expect(verdictSummary(v)).toMatch(/^rbee-web does not run this kind of model|^Not yet/);
    expect(v.recommendations.join(' ')).not.toContain('may run unknown');
  });
});

describe('/compat: verifying tests as titled in the report', () => {
  it('a parameterised title gets its case; no cell shows a raw %s', () => {
    expect(testTitle({ file: 'x.test.ts', name: '%s: equal to llama.cpp', case: 'Q4_K' })).toBe('Q4_K: equal to llama.cpp');
    expect(testTitle({ file: 'x.test.ts', name: 'plain title' })).toBe('plain title');
    const verified = listMatrixRows().flatMap((r) => BACKENDS.map((b) => r.cells[b])).filter((c) => c.test);
    expect(verified.length).toBeGreaterThan(0);
    for (const c of verified) expect(testTitle(c.test!)).not.toContain('%s');
  });
});

describe('titles and chat template line', () => {
  it('a general.name that only repeats the architecture gives way to the file name', () => {
    expect(displayName('llama', 'llama', 'stories260K')).toBe('stories260K');
    expect(displayName('LLaMA', 'llama', 'stories260K')).toBe('stories260K');
    expect(displayName('LLaMA v2', 'llama', 'llama-2-tiny-random')).toBe('LLaMA v2');
    expect(displayName(undefined, 'llama', 'file')).toBe('file');
  });

  it.runIf(HAS_FIXTURES)('stories260K is titled by its file', async () => {
    expect((await readFixture('models/stories260K.gguf')).name).toBe('stories260K');
  });

  it('the model page names the fallback the chat uses: ChatML when the vocabulary has it, else plain text', () => {
    const gguf = (metadata: Record<string, unknown>) => ({ format: 'gguf', hasChatTemplate: 'tokenizer.chat_template' in metadata, gguf: { metadata } }) as unknown as ModelDescriptor;
    const chatml = gguf({ 'tokenizer.ggml.tokens': ['<s>', '<|im_start|>', '<|im_end|>'] });
    const plain = gguf({ 'tokenizer.ggml.tokens': ['<s>', 'a'] });
    const own = gguf({ 'tokenizer.ggml.tokens': ['<s>'], 'tokenizer.chat_template': '{% for m in messages %}{{ m.content }}{% endfor %}' });
    expect(chatTemplateSummary(chatml)).toMatch(/^none — the chat uses ChatML/);
    expect(templateFallbackNote(chatml)).toContain('ChatML');
    expect(chatTemplateSummary(plain)).toMatch(/^none — the chat sends plain text/);
    expect(templateFallbackNote(plain)).not.toContain('ChatML');
    expect(chatTemplateSummary(own)).toBe('its own (from the file)');
    expect(templateFallbackNote(own)).toBeUndefined();
  });
});

describe('copy', () => {
  it('counts read right: "1 layer", "1 kv head", "5 layers"', () => {
    expect(countOf(1, 'layer')).toBe('1 layer');
    expect(countOf(5, 'layer')).toBe('5 layers');
    expect(countOf(1024, 'tensor')).toBe('1,024 tensors');
    const one = check(descriptorOf({ ...TINYLLAMA_SHAPE, blockCount: 1, headCountKv: 1, tensorSpecs: tinyLlamaTensors('F32') }), desktop);
    expect(one.memory.formulas.kvCache).toMatch(/^2 × 1 layer × \d+ ctx × 1 kv head × /);
  });
});
