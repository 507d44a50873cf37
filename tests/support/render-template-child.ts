// Renders one chat template (RBEE_TEMPLATE) on a short conversation in this process and prints
// {code, message, ms} as JSON: run under /usr/bin/time by tests that measure a render's peak memory.
import { renderChatTemplate } from '../../src/lib/tokenizer/chat-template.ts';
import { toRbeeError } from '../../src/lib/errors.ts';

const started = performance.now();
try {
  const text = renderChatTemplate(process.env.RBEE_TEMPLATE ?? '', [{ role: 'user', content: 'hi' }]);
  console.log(JSON.stringify({ code: 'ok', chars: text.length, ms: performance.now() - started }));
} catch (e) {
  const err = toRbeeError(e);
  console.log(JSON.stringify({ code: err.code, message: err.message, hint: err.hint, ms: performance.now() - started }));
}
