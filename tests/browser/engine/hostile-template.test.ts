// Runaway chat templates in the real browser (issue 13, item 1): rendered on the page they stop at the render budget
// with a typed 'template' error; in the app's inference worker (headless Chromium, WebGPU, stories260K carrying the
// template) the model still loads and answers, its prompt written by the fallback, the reason given.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { InferenceClient } from '../../../src/lib/runtime/inference-client.ts';
import { renderChatTemplate } from '../../../src/lib/tokenizer/chat-template.ts';
import { TEMPLATE_LIMITS } from '../../../src/lib/tokenizer/template-budget.ts';
import { withChatTemplate } from '../../support/gguf-chat-template.ts';
import { HOSTILE_TEMPLATES } from '../../support/hostile-templates.ts';
import { fixtureSource } from './fixture-source.ts';

describe('runaway templates rendered in the browser', () => {
  for (const [name, template] of Object.entries(HOSTILE_TEMPLATES)) {
    test(`${name}: a 'template' error within the budget`, () => {
      const started = performance.now();
      let error: unknown;
      try {
        renderChatTemplate(template, [{ role: 'user', content: 'hi' }]);
      } catch (e) {
        error = e;
      }
      expect(isRbeeError(error) && error.code).toBe('template');
      // The budget's time plus the checking interval, far inside the 20 s a hostile input may take.
      expect(performance.now() - started).toBeLessThan(TEMPLATE_LIMITS.milliseconds + 3_000);
    });
  }
});

describe('a runaway template in the inference worker', () => {
  let client: InferenceClient;
  beforeAll(async () => {
    const source = await fixtureSource('models/stories260K.gguf');
    expect(source, 'fixture ../shared/fixtures/models/stories260K.gguf').toBeDefined();
    const bytes = new Uint8Array(await source!.read(0, await source!.size()));
    client = InferenceClient.create();
    await client.load({ model: { kind: 'local', id: 'test' }, reach: { files: [new File([withChatTemplate(bytes, HOSTILE_TEMPLATES['nested loops']!)], 'stories260K.gguf')] } }, { contextLength: 256 });
  }, 60_000);
  afterAll(() => client?.terminate());

  test('generation answers, written by the fallback, with the reason', async () => {
    const started = performance.now();
    const r = await client.generate({ prompt: { messages: [{ role: 'user', content: 'Once upon a time' }] }, sampling: { temperature: 0 }, maxTokens: 4, stopTokens: [] });
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(r.tokens).toHaveLength(4);
    expect(r.templateFallback).toMatchObject({ kind: 'plain-fallback' });
    expect(r.templateFallback!.error).toMatch(/did not finish within/);
  }, 60_000);
});
