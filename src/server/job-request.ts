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

const bad = (message: string, hint?: string): CompanionHttpError => new CompanionHttpError(400, 'bad-request', message, {}, hint);

/**
 * What a page may name as `model`: a model id as rbee and Hugging Face write them ("stories260K",
 * "Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M", "llama-3.2-1b.Q4_K_M.gguf"). The proxy forwards it to a worker that may
 * use it to find files, so anything path-like (a leading "/", "..", "//", a scheme, control characters) is refused.
 * 200 characters: Hugging Face caps a repository id at 96, plus a file name or quant tag.
 */
const MODEL_ID = /^(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9][A-Za-z0-9._+@=-]*(?:\/[A-Za-z0-9._+@=-]+)*(?::[A-Za-z0-9._+@=-]+)?$/;
const MAX_MODEL_ID_CHARS = 200;
/** rbee's hive ids are host-like names ("localhost", "gpu-box-2"). */
const HIVE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

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
  const model = fields.model;
  if (model !== undefined && model !== null) {
    if (typeof model !== 'string' || model.length > MAX_MODEL_ID_CHARS || !MODEL_ID.test(model)) {
      throw bad(
        `'model' must be a model id (letters, digits, . _ - + @ =, "/" between parts, an optional ":tag"; at most ${MAX_MODEL_ID_CHARS} characters), not ${JSON.stringify(model).slice(0, 80)}.`,
        'Name the model as the worker lists it (e.g. "stories260K" or "org/repo:Q4_K_M"), or leave \'model\' out to use the one it runs.',
      );
    }
    request.model = model;
  }
  const hiveId = fields.hive_id;
  if (hiveId !== undefined && hiveId !== null) {
    if (typeof hiveId !== 'string' || !HIVE_ID.test(hiveId)) {
      throw bad(`'hive_id' must be a hive name (letters, digits, . _ -; at most 63 characters), not ${JSON.stringify(hiveId).slice(0, 80)}.`, 'Use "localhost" or the hive id rbee reports, or leave \'hive_id\' out.');
    }
    request.hive_id = hiveId;
  }
  return request;
}
