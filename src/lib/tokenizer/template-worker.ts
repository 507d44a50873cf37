/**
 * Chat templates rendered off the page's thread: a dedicated worker per render (src/workers/template.worker.ts),
 * terminated when it answers — or when it has not answered well after the render budget, a backstop for a render the
 * in-interpreter budget (template-budget.ts) somehow does not stop. Pages that render a model's template themselves
 * (the chat on the companion, whose prompt the page writes) use this; the inference worker renders in its own thread.
 * Where there is no Worker (Node: the CLI, unit tests) the budgeted render runs inline.
 */
import { RbeeError, type RbeeErrorCode } from '../errors.ts';
import { renderChatTemplate } from './chat-template.ts';
import { TEMPLATE_LIMITS } from './template-budget.ts';
import type { ChatMessage, ChatTemplateOptions } from './types.ts';

export interface TemplateRenderRequest {
  template: string;
  messages: ChatMessage[];
  options: ChatTemplateOptions;
}

export type TemplateRenderResponse = { text: string } | { error: { code: RbeeErrorCode; message: string; hint?: string } };

/** How long past the render budget the worker may stay silent before it is terminated (start-up included). */
const WORKER_GRACE_MS = 5_000;

export function renderChatTemplateOffThread(
  template: string,
  messages: readonly ChatMessage[],
  options: ChatTemplateOptions = {},
  createWorker: () => Worker = () => new Worker(new URL('../../workers/template.worker.ts', import.meta.url), { type: 'module', name: 'rbee-template' }),
): Promise<string> {
  if (typeof Worker === 'undefined') return Promise.resolve().then(() => renderChatTemplate(template, messages, options));
  return new Promise((resolve, reject) => {
    const worker = createWorker();
    const timer = setTimeout(() => {
      worker.terminate();
      reject(
        new RbeeError('template', `The model's chat template was stopped: it did not finish within ${TEMPLATE_LIMITS.milliseconds + WORKER_GRACE_MS} ms.`, {
          hint: 'The model file carries a template that runs away (a damaged or hostile file); the built-in fallback chat format can be used instead.',
        }),
      );
    }, TEMPLATE_LIMITS.milliseconds + WORKER_GRACE_MS);
    worker.onmessage = (event: MessageEvent<TemplateRenderResponse>) => {
      clearTimeout(timer);
      worker.terminate();
      const r = event.data;
      if ('text' in r) resolve(r.text);
      else reject(new RbeeError(r.error.code, r.error.message, r.error.hint === undefined ? {} : { hint: r.error.hint }));
    };
    worker.onerror = (event) => {
      clearTimeout(timer);
      worker.terminate();
      reject(new RbeeError('internal', `The template worker failed: ${event.message}`));
    };
    const request: TemplateRenderRequest = { template, messages: messages.map((m) => ({ role: m.role, content: m.content })), options };
    worker.postMessage(request);
  });
}
