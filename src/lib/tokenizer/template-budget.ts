/**
 * Chat templates come from model files, so they are untrusted code: `{% for i in range(100000000) %}` or nested loops
 * would run @huggingface/jinja (synchronous, no limits of its own) for minutes and gigabytes — on the chat page, in the
 * inference worker, under `generate --chat`. A render here runs with a budget instead: an Interpreter whose evaluate()
 * counts steps and checks the clock, refuses any value past a size, and a bounded range(). Breaking the budget throws
 * TemplateBudgetError, which chat-template.ts turns into RbeeError 'template' (and the chat into its fallback format).
 *
 * Checking inside the interpreter (rather than only killing a worker from outside) bounds every caller the same way,
 * main thread, workers and Node alike, and costs one counter per AST node on a normal template.
 */
import { Environment, Interpreter, type Template } from '@huggingface/jinja';

export const TEMPLATE_LIMITS = {
  /**
   * AST nodes evaluated per render. The longest real templates (Qwen3 / Llama 3.1 with tools) spend a few hundred
   * per message, so a 1,000-turn conversation stays under 1 M; loops that build megabytes of nothing hit this first.
   */
  steps: 4_000_000,
  /** Wall time per render: real templates render in well under 50 ms even for long conversations. */
  milliseconds: 2_000,
  /**
   * Characters of any value the template builds, the prompt included, beyond twice the conversation's own text:
   * 16 Mi characters is about 4 M tokens, four times the largest context any model has today.
   */
  extraChars: 16 * 1024 * 1024,
  /** Items one range() may make: real templates count messages or tools (hundreds), not millions. */
  rangeItems: 100_000,
  /** Widths for indent / tojson(indent=…): real templates use 2 or 4 spaces. */
  indentWidth: 256,
} as const;

export type TemplateBudgetKind = 'steps' | 'time' | 'size' | 'range' | 'indent';

/** A render stopped by its budget (not a fault of the conversation): chat-template.ts says so in its RbeeError. */
export class TemplateBudgetError extends Error {
  override readonly name = 'TemplateBudgetError';
  constructor(
    readonly kind: TemplateBudgetKind,
    message: string,
  ) {
    super(message);
  }
}

export interface TemplateBudget {
  steps: number;
  milliseconds: number;
  maxChars: number;
}

/** The budget for rendering `inputChars` characters of conversation (see TEMPLATE_LIMITS). */
export function templateBudgetFor(inputChars: number): TemplateBudget {
  return { steps: TEMPLATE_LIMITS.steps, milliseconds: TEMPLATE_LIMITS.milliseconds, maxChars: TEMPLATE_LIMITS.extraChars + 2 * inputChars };
}

/** Filters whose numeric argument is a width they repeat spaces by. */
const WIDTH_FILTERS = new Set(['indent', 'tojson']);

type Node = { type: string; [field: string]: unknown };
type Value = { type: string; value: unknown };

class BudgetedInterpreter extends Interpreter {
  private steps = 0;
  private readonly deadline: number;
  /** Argument nodes of width filters being evaluated: their values are checked against indentWidth. */
  private readonly widthArguments = new Set<unknown>();

  constructor(
    env: Environment,
    private readonly budget: TemplateBudget,
  ) {
    super(env);
    this.deadline = performance.now() + budget.milliseconds;
  }

  override evaluate(statement: Parameters<Interpreter['evaluate']>[0], environment: Environment): ReturnType<Interpreter['evaluate']> {
    if (++this.steps > this.budget.steps) {
      throw new TemplateBudgetError('steps', `it did not finish within ${this.budget.steps} steps (a loop that runs far longer than a conversation needs)`);
    }
    if ((this.steps & 1023) === 0 && performance.now() > this.deadline) {
      throw new TemplateBudgetError('time', `it did not finish within ${this.budget.milliseconds} ms`);
    }
    const node = statement as unknown as Node | undefined;
    if (node?.type === 'FilterExpression') this.noteWidthArguments(node);
    const result = super.evaluate(statement, environment);
    const value = result as unknown as Value;
    if (typeof value.value === 'string' && value.value.length > this.budget.maxChars) {
      throw new TemplateBudgetError('size', `it built a text of ${value.value.length} characters (the limit is ${this.budget.maxChars})`);
    }
    if (this.widthArguments.has(statement) && typeof value.value === 'number' && value.value > TEMPLATE_LIMITS.indentWidth) {
      throw new TemplateBudgetError('indent', `it asked for an indent of ${value.value} spaces (the limit is ${TEMPLATE_LIMITS.indentWidth})`);
    }
    return result;
  }

  private noteWidthArguments(node: Node): void {
    const filter = node.filter as Node | undefined;
    if (filter?.type !== 'CallExpression') return;
    const callee = filter.callee as Node | undefined;
    if (callee?.type !== 'Identifier' || !WIDTH_FILTERS.has(callee.value as string)) return;
    for (const arg of (filter.args as Node[] | undefined) ?? []) {
      this.widthArguments.add(arg.type === 'KeywordArgumentExpression' ? arg.value : arg);
    }
  }
}

/** range(stop) / range(start, stop[, step]) as Jinja has it, refusing more than TEMPLATE_LIMITS.rangeItems items. */
function boundedRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new Error('range() step must not be zero');
  const count = Math.max(0, Math.ceil((stop - start) / step));
  if (!Number.isFinite(count) || count > TEMPLATE_LIMITS.rangeItems) {
    throw new TemplateBudgetError('range', `it asked range() for ${count} items (the limit is ${TEMPLATE_LIMITS.rangeItems})`);
  }
  return Array.from({ length: count }, (_, i) => start + i * step);
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** strftime_now(format): the directives chat templates use (%Y %m %d %b %B %H %M %%), in local time. */
function strftimeNow(format: string): string {
  const now = new Date();
  const directives: Record<string, () => string> = {
    Y: () => String(now.getFullYear()),
    m: () => pad2(now.getMonth() + 1),
    d: () => pad2(now.getDate()),
    b: () => now.toLocaleString('en-US', { month: 'short' }),
    B: () => now.toLocaleString('en-US', { month: 'long' }),
    H: () => pad2(now.getHours()),
    M: () => pad2(now.getMinutes()),
    '%': () => '%',
  };
  return String(format).replace(/%(.)/g, (whole, d: string) => directives[d]?.() ?? whole);
}

/**
 * Renders a parsed template like Template.render, with the same globals (true/false/none in both spellings,
 * raise_exception, range, strftime_now) — range bounded — and the interpreter above.
 */
export function renderWithBudget(template: Template, items: Record<string, unknown>, budget: TemplateBudget): unknown {
  const env = new Environment();
  const globals: Record<string, unknown> = {
    false: false,
    true: true,
    none: null,
    False: false,
    True: true,
    None: null,
    raise_exception: (message: unknown) => {
      throw new Error(String(message));
    },
    range: boundedRange,
    strftime_now: strftimeNow,
  };
  for (const [name, value] of Object.entries(globals)) env.set(name, value);
  for (const [name, value] of Object.entries(items)) env.set(name, value);
  return (new BudgetedInterpreter(env, budget).run(template.parsed) as unknown as Value).value;
}
