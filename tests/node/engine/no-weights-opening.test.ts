// The inference worker's model opening refuses a vocabulary-only GGUF with the verdict's own reason (no-weights),
// whatever the entry point (the chat's files, a URL, the CLI's served file), instead of a missing-tensor error from
// deep in the engine (issue 17, bug 6).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NO_WEIGHTS_ADVICE, NO_WEIGHTS_REASON } from '../../../src/lib/formats/no-weights.ts';
import { prepareModel } from '../../../src/lib/engine/model-opening.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';

describe.runIf(HAS_FIXTURES)('opening a model without weights', () => {
  it('ggml-vocab-llama-spm.gguf fails as the verdict says', async () => {
    const bytes = readFileSync(fixture('tokenizers/ggml-vocab-llama-spm.gguf'));
    const file = new File([bytes], 'ggml-vocab-llama-spm.gguf');
    await expect(prepareModel({ kind: 'local', id: 'test' }, { reach: { files: [file] }})).rejects.toMatchObject({ code: 'no-weights', message: NO_WEIGHTS_REASON, hint: NO_WEIGHTS_ADVICE });
  });

  it('a model with weights still opens (stories260K)', async () => {
    const file = new File([readFileSync(fixture('models/stories260K.gguf'))], 'stories260K.gguf');
    const opened = await prepareModel({ kind: 'local', id: 'test' }, { reach: { files: [file] }});
    expect(opened.descriptor.tensors.length).toBe(48);
  });
});
