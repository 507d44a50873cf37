// How the chat page's conversation reaches the native worker and how its result reads as the page's figures.
import { describe, expect, it } from 'vitest';
import { RbeeError } from '../../../src/lib/errors.ts';
import type { CompanionInfo } from '../../../src/lib/companion/protocol.ts';
import { companionTimings } from '../../../src/lib/runtime/companion-engine.ts';
import { companionGone, companionPrompt } from '../../../src/lib/ui/chat/native-run.ts';

const info: CompanionInfo = { service: 'rbee-web-companion', version: '0', mode: 'llama', model: 'stories260K', backend: 'cpu', busy: false, tokens_generated: 0 };

describe('companionPrompt', () => {
  it('continues plain text for a model without a template (as the WebGPU worker does)', async () => {
    expect(await companionPrompt([{ role: 'user', content: 'Once upon a time' }], info)).toBe('Once upon a time');
    expect(
      await companionPrompt(
        [
          { role: 'user', content: 'Once upon a time' },
          { role: 'assistant', content: ', there was' },
          { role: 'user', content: 'Lily' },
        ],
        info,
      ),
    ).toBe('Once upon a time, there was\nLily');
  });

  it("uses the model's own template, with its BOS text, when the companion reports one", async () => {
    const templated = { ...info, chat_template: "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}", bos_token: '<s>' };
    expect(await companionPrompt([{ role: 'user', content: 'hi' }], templated)).toBe('<s>[user]hi[assistant]');
  });
});

describe('companionTimings', () => {
  it('splits the elapsed time into prefill and decode from the decode speed', () => {
    const t = companionTimings({ tokens: 11, promptTokens: 5, tokensPerSecond: 100, elapsedMs: 200 });
    expect(t.decodeSeconds).toBeCloseTo(0.1);
    expect(t.prefillSeconds).toBeCloseTo(0.1);
    expect(t.prefillTokensPerSecond).toBeCloseTo(50);
    expect(t.decodeTokensPerSecond).toBe(100);
    expect(t.generatedTokens).toBe(11);
  });

  it('gives zeros, not NaN, when nothing was generated', () => {
    const t = companionTimings({ tokens: 0, tokensPerSecond: 0, elapsedMs: 0 });
    expect(Object.values(t).every((v) => v === 0)).toBe(true);
  });
});

it('companionGone: the worker unreachable or broken off, not other failures', () => {
  expect(companionGone(new RbeeError('network', 'x'))).toBe(true);
  expect(companionGone(new RbeeError('companion', 'x'))).toBe(true);
  expect(companionGone(new RbeeError('aborted', 'x'))).toBe(false);
});
