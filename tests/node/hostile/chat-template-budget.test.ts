// Chat templates are code from model files (issue 13, item 1): loops that would run for minutes and gigabytes end in
// a typed 'template' error within the render budget, each measured in its own process (time and peak memory), and
// the chat falls back to its own format; real templates render exactly as @huggingface/jinja renders them unbudgeted.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { Template } from '@huggingface/jinja';
import { describe, expect, test } from 'vitest';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { CHATML_TEMPLATE, chatFormatFor, PLAIN_TEMPLATE, renderChatTemplate } from '../../../src/lib/tokenizer/chat-template.ts';
import { TEMPLATE_LIMITS } from '../../../src/lib/tokenizer/template-budget.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';
import { HOSTILE_TEMPLATES } from '../../support/hostile-templates.ts';


const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Hi!' },
  { role: 'assistant', content: 'Hello.' },
  { role: 'user', content: 'What is 2+2?' },
];

function renderInChild(template: string): Promise<{ result: Record<string, any>; seconds: number; peakMegabytes: number }> {
  return new Promise((done, fail) => {
    execFile(
      '/usr/bin/time',
      ['-f', 'TIME %e %M', process.execPath, '--import', 'tsx', resolve(REPO_ROOT, 'tests/support/render-template-child.ts')],
      { cwd: REPO_ROOT, timeout: 60_000, env: { ...process.env, RBEE_TEMPLATE: template } },
      (error, stdout, stderr) => {
        const m = /TIME ([\d.]+) (\d+)/.exec(stderr);
        if (!stdout.trim()) return fail(new Error(`no result (${error?.message}): ${stderr.slice(0, 500)}`));
        done({ result: JSON.parse(stdout.trim()) as Record<string, any>, seconds: m ? Number(m[1]) : Infinity, peakMegabytes: m ? Number(m[2]) / 1024 : Infinity });
      },
    );
  });
}

describe('hostile chat templates', () => {
  for (const [name, template] of Object.entries(HOSTILE_TEMPLATES)) {
    test(`${name}: a 'template' error within 20 s and 800 MB`, async () => {
      const { result, seconds, peakMegabytes } = await renderInChild(template);
      expect(result.code, JSON.stringify(result)).toBe('template');
      expect(result.hint).toBeTruthy();
      expect(seconds).toBeLessThan(20);
      expect(peakMegabytes).toBeLessThan(800);
    }, 60_000);
  }

  test('the chat uses its fallback format, and says why', () => {
    const format = chatFormatFor({ template: HOSTILE_TEMPLATES['nested loops']!, hasChatMlTokens: true });
    const started = performance.now();
    const { text, usedFallback, error } = format.renderOrFallback(messages);
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(usedFallback).toBe(true);
    expect(text).toContain('<|im_start|>user\nHi!<|im_end|>');
    expect(isRbeeError(error) && error.code).toBe('template');
    expect(error!.message).toMatch(/stopped: it did not finish within/);
    // Once past its budget, the template is not run again: the next conversation costs nothing.
    const again = performance.now();
    expect(format.renderOrFallback(messages.slice(0, 2)).usedFallback).toBe(true);
    expect(performance.now() - again).toBeLessThan(100);
  });

  test('the limits are far above what real templates need', () => {
    expect(TEMPLATE_LIMITS.rangeItems).toBeGreaterThanOrEqual(10_000);
    // A long conversation through a real template stays inside the budget.
    const long = Array.from({ length: 2000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i} `.repeat(50) }));
    expect(renderChatTemplate(LLAMA3_TEMPLATE, long).length).toBeGreaterThan(2000 * 400);
  });
});

// Meta's Llama 3 instruct template (as published in its tokenizer_config.json).
const LLAMA3_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
// Filters, tests, slices, namespaces, macros, tojson and strftime_now: the features real templates use.
const FEATURES_TEMPLATE =
  "{% macro role(m) %}{{ m.role | upper }}{% endmacro %}{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}" +
  "{{ role(m) }}[{{ loop.index }}/{{ messages | length }}]{{ m['content'][:5] | replace('H', 'h') | trim }}{% if m.content is string %}.{% endif %}{% endfor %}" +
  "{{ messages[-1] | tojson(indent=2) }}{{ ns.n }}{{ range(3) | list | join(',') }}{{ strftime_now('%Y') | length }}{{ none is none }}{{ True and not False }}";

describe('real templates render as the library renders them', () => {
  test.each([
    ['Llama 3', LLAMA3_TEMPLATE],
    ['ChatML', CHATML_TEMPLATE],
    ['plain', PLAIN_TEMPLATE],
    ['features', FEATURES_TEMPLATE],
  ])('%s', (_name, template) => {
    const items = { messages, add_generation_prompt: true, bos_token: '<s>', eos_token: '</s>' };
    const expected = new Template(template).render(items);
    expect(renderChatTemplate(template, messages, { bos_token: '<s>', eos_token: '</s>' })).toBe(expected);
  });
});
