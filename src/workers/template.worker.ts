/**
 * Renders one chat template off the page's thread (template-worker.ts is its client): the page asks, this worker
 * renders with the tokenizer area's budgeted renderer, answers, and is terminated. A template from a model file then
 * never blocks the page, and the client can kill this worker if a render ever outlives its budget.
 */
import { toRbeeError } from '../lib/errors.ts';
import { renderChatTemplate } from '../lib/tokenizer/chat-template.ts';
import type { TemplateRenderRequest, TemplateRenderResponse } from '../lib/tokenizer/template-worker.ts';

self.onmessage = (event: MessageEvent<TemplateRenderRequest>) => {
  const { template, messages, options } = event.data;
  let response: TemplateRenderResponse;
  try {
    response = { text: renderChatTemplate(template, messages, options) };
  } catch (e) {
    response = { error: toRbeeError(e).toJSON() };
  }
  self.postMessage(response);
};
