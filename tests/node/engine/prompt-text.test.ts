// The CPU engine (llama.cpp's WebAssembly build) takes prompts as text: ModelText.promptText gives the text whose
// tokenization by llama.cpp itself — BOS added, special tokens parsed, as llama.cpp's server tokenizes a text prompt —
// is exactly the ids the WebGPU engine would evaluate for the same prompt. Checked with llama.cpp (node-llama-cpp) as
// the tokenizer, on stories260K: token ids, a text, conversations through the chat fallback; ids no text gives → a typed
// error.
import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { prepareModel } from '../../../src/lib/engine/model-opening.ts';
import type { Prompt } from '../../../src/lib/engine/worker-protocol.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';
import { oracleLlama } from '../../support/oracle.ts';

describe.skipIf(!HAS_FIXTURES)('ModelText.promptText: the text llama.cpp tokenizes to our prompt ids', () => {
  test('stories260K: ids, text and conversations give text that llama.cpp tokenizes to exactly our ids', async () => {
    const path = fixture('models/stories260K.gguf');
    const file = new File([await readFile(path)], 'stories260K.gguf');
    const { text: modelText } = await prepareModel({ kind: 'local', id: 'test' }, { reach: { files: [file] }});
    const llama = await (await oracleLlama()).loadModel({ modelPath: path, vocabOnly: true });
    try {
      const prompts: Prompt[] = [
        { tokens: [1, 403, 407, 261, 378] },
        { text: 'Once upon a time, there was a little girl named Lily.' },
        { text: ' two  spaces and\nnew lines' },
        { messages: [{ role: 'user', content: 'Once upon a time' }] },
        { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Tell me a story.' }, { role: 'assistant', content: ' Lily went to the park.' }, { role: 'user', content: 'And then?' }] },
      ];
      for (const prompt of prompts) {
        const { text, tokens } = modelText.promptText(prompt);
        expect(tokens).toEqual(modelText.promptTokens(prompt));
        // llama.cpp's server: BOS (the model adds it), then the text with special tokens parsed.
        const theirs = [1, ...(llama.tokenize(text, true) as number[])];
        expect(theirs, JSON.stringify(prompt)).toEqual(tokens);
      }
      // Ids that are not any text's tokenization (BOS missing, where llama.cpp always adds it): a typed error.
      let error: unknown;
      try {
        modelText.promptText({ tokens: [403, 407] });
      } catch (e) {
        error = e;
      }
      expect(isRbeeError(error) && error.code === 'bad-value').toBe(true);
      expect((error as Error & { hint?: string }).hint).toMatch(/Start the ids with BOS \(1\)/);
    } finally {
      await llama.dispose();
    }
  });
});
