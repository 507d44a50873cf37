// What the render budget (src/lib/tokenizer/template-budget.ts) costs a normal chat template: the same templates and
// conversations rendered by @huggingface/jinja's own Template.render (the baseline, no limits) and by rbee-web's
// budgeted render, interleaved in the same run; reported as time ratios. Run: npx tsx bench/template-render.ts
import { Template } from '@huggingface/jinja';
import { CHATML_TEMPLATE, compileChatTemplate } from '../src/lib/tokenizer/chat-template.ts';
import { renderWithBudget, templateBudgetFor } from '../src/lib/tokenizer/template-budget.ts';

// Meta's Llama 3 instruct template (as published in its tokenizer_config.json).
const LLAMA3 =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

const conversation = (turns: number) =>
  Array.from({ length: turns }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `Turn ${i}: ${'some words of the conversation '.repeat(8)}` }));

function timeIt(fn: () => unknown, minMs = 300): number {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    fn();
    n++;
  }
  return (performance.now() - start) / n;
}

const rows: string[] = ['| template | turns | library render (ms) | budgeted render (ms) | ratio |', '|---|---|---|---|---|'];
for (const [name, source] of [
  ['Llama 3', LLAMA3],
  ['ChatML', CHATML_TEMPLATE],
] as const) {
  const library = new Template(source);
  const ours = compileChatTemplate(source);
  for (const turns of [2, 50, 500]) {
    const messages = conversation(turns);
    const items = { messages, add_generation_prompt: true, bos_token: '<s>', eos_token: '</s>' };
    const budget = templateBudgetFor(messages.reduce((n, m) => n + m.content.length, 0));
    if (library.render(items) !== renderWithBudget(ours, items, budget)) throw new Error(`${name}: outputs differ`);
    // Interleaved rounds, best of each, so load from other jobs hits both alike.
    let a = Infinity;
    let b = Infinity;
    for (let round = 0; round < 5; round++) {
      a = Math.min(a, timeIt(() => library.render(items)));
      b = Math.min(b, timeIt(() => renderWithBudget(ours, items, budget)));
    }
    rows.push(`| ${name} | ${turns} | ${a.toFixed(3)} | ${b.toFixed(3)} | ${(b / a).toFixed(2)}× |`);
  }
}
console.log(rows.join('\n'));
