// Templates rendered off the page's thread (template-worker.ts), in the real browser: a normal template answers as the
// inline render does; a runaway one ends in a 'template' error while the page's thread keeps running; a worker that
// never answers is terminated after the budget and its grace.
import { describe, expect, test } from 'vitest';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { CHATML_TEMPLATE, renderChatTemplate } from '../../../src/lib/tokenizer/chat-template.ts';
import { TEMPLATE_LIMITS } from '../../../src/lib/tokenizer/template-budget.ts';
import { renderChatTemplateOffThread } from '../../../src/lib/tokenizer/template-worker.ts';
import { HOSTILE_TEMPLATES } from '../../support/hostile-templates.ts';

const messages = [{ role: 'user' as const, content: 'Hi!' }];

/** Counts how often a 10 ms timer fires on the page while `work` runs: a blocked thread fires it rarely. */
async function pageTicksDuring<T>(work: () => Promise<T>): Promise<{ ticks: number; ms: number; outcome: T | unknown }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const started = performance.now();
  let outcome: T | unknown;
  try {
    outcome = await work();
  } catch (e) {
    outcome = e;
  }
  clearInterval(timer);
  return { ticks, ms: performance.now() - started, outcome };
}

describe('renderChatTemplateOffThread', () => {
  test('a normal template renders as it does inline', async () => {
    expect(await renderChatTemplateOffThread(CHATML_TEMPLATE, messages)).toBe(renderChatTemplate(CHATML_TEMPLATE, messages));
  });

  test('a runaway template: a template error, and the page kept running meanwhile', async () => {
    const { ticks, ms, outcome } = await pageTicksDuring(() => renderChatTemplateOffThread(HOSTILE_TEMPLATES['nested loops']!, messages));
    expect(isRbeeError(outcome) && outcome.code).toBe('template');
    expect(ms).toBeLessThan(20_000);
    // The render took about the whole budget; a page blocked for it would have ticked a handful of times at most.
    expect(ms).toBeGreaterThan(TEMPLATE_LIMITS.milliseconds / 2);
    expect(ticks).toBeGreaterThan(ms / 10 / 4);
  });

  test('a worker that never answers is terminated and the render fails as a template error', async () => {
    const spin = URL.createObjectURL(new Blob(['self.onmessage = () => { for (;;) {} };'], { type: 'text/javascript' }));
    const { ms, outcome } = await pageTicksDuring(() => renderChatTemplateOffThread(CHATML_TEMPLATE, messages, {}, () => new Worker(spin)));
    URL.revokeObjectURL(spin);
    expect(isRbeeError(outcome) && outcome.code).toBe('template');
    expect(ms).toBeLessThan(20_000);
  }, 30_000);
});
