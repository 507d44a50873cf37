/**
 * POST /v1/jobs bodies, checked field by field so a client learns exactly what is wrong (400 with the field's name)
 * instead of a generation that silently used a default.
 */
import type { InferRequest } from '../lib/companion/protocol.ts';
import { CompanionHttpError } from './http-error.ts';

/** Far above any chat turn; a bound so one request cannot hold the model for hours. */
export const MAX_TOKENS_LIMIT = 32_768;
/** Bodies larger than this are refused before parsing (a prompt of a million characters is a mistake or an attack). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

const bad = (message: string): CompanionHttpError => new CompanionHttpError(400, 'bad-request', message);

function optionalNumber(body: Record<string, unknown>, field: string, check: (n: number) => boolean, rule: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) {
    throw bad(`'${field}' must be ${rule} (got ${JSON.stringify(value)}).`);
  }
  return value;
}

export function parseInferRequest(text: string): InferRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new CompanionHttpError(400, 'malformed-json', `The request body is not valid JSON: ${e instanceof Error ? e.message : String(e)}.`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('The request body must be a JSON object.');
  const fields = body as Record<string, unknown>;
  if (fields.operation !== 'infer') {
    throw bad(`'operation' must be "infer" (got ${JSON.stringify(fields.operation)}); this worker only generates text.`);
  }
  if (typeof fields.prompt !== 'string' || fields.prompt.length === 0) throw bad("'prompt' must be a non-empty string.");
  const maxTokens = optionalNumber(fields, 'max_tokens', (n) => Number.isInteger(n) && n >= 1 && n <= MAX_TOKENS_LIMIT, `an integer from 1 to ${MAX_TOKENS_LIMIT}`);
  if (maxTokens === undefined) throw bad("'max_tokens' is required (an integer, how many tokens to generate at most).");
  const temperature = optionalNumber(fields, 'temperature', (n) => n >= 0 && n <= 100, 'a number from 0 (greedy) upwards');
  if (temperature === undefined) throw bad("'temperature' is required (0 for greedy decoding).");
  const request: InferRequest = { operation: 'infer', prompt: fields.prompt, max_tokens: maxTokens, temperature };
  const topP = optionalNumber(fields, 'top_p', (n) => n > 0 && n <= 1, 'a number in (0, 1]');
  const topK = optionalNumber(fields, 'top_k', (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer');
  if (topP !== undefined) request.top_p = topP;
  if (topK !== undefined) request.top_k = topK;
  for (const field of ['hive_id', 'model'] as const) {
    const value = fields[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw bad(`'${field}' must be a string.`);
    request[field] = value;
  }
  return request;
}
