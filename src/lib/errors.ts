/**
 * One error type for everything a user can meet: a stable machine-readable `code` (the CLI prints it, the UI picks
 * its message and actions from it), a message that says what happened and why, and a hint that says what to do.
 * Anything thrown by our code that reaches a user is an RbeeError; anything else is a bug.
 * Its message and hint never carry credentials: URLs in them are redacted (url-redaction.ts) as the error is made.
 */
import { redactUrlsInText } from './url-redaction.ts';

export type RbeeErrorCode =
  // reading bytes
  | 'truncated' // the file ends before the structure it declares
  | 'bad-magic' // not a file type we know
  | 'legacy-ggml' // GGML / GGMF / GGJT: the pre-GGUF formats
  | 'pytorch' // a pickled PyTorch checkpoint (.bin / .pt / .pth)
  | 'unsupported-version' // a GGUF version we do not read
  | 'limit-exceeded' // a count or length past a safety limit (see the limits beside each parser)
  | 'bad-value' // a value of the wrong type or out of range
  | 'bad-offset' // a tensor outside the file or misaligned
  | 'overlapping-tensors'
  | 'duplicate-tensor'
  | 'bad-json' // a JSON header / config that is not what it must be
  | 'adapter' // a LoRA adapter, not a model
  | 'no-weights' // a vocabulary-only or empty file: no weight tensors to run
  | 'split-missing' // a split GGUF whose other parts cannot be found
  | 'unknown-format'
  // fetching bytes
  | 'no-range' // the server ignores Range requests
  | 'http' // any other HTTP failure status
  | 'network' // the request did not complete
  | 'not-found' // 404 / no such repository or file
  | 'gated' // 401 / 403 from the hub: a gated or private repository
  | 'aborted'
  | 'files-closed' // local files of an earlier page: a reload forgets them (they are never uploaded or kept)
  | 'quota' // storage full
  | 'checksum' // downloaded bytes do not match the hash the hub gives
  // running
  | 'no-webgpu'
  | 'device-lost'
  | 'out-of-memory'
  | 'unsupported-weight-type'
  | 'unsupported-architecture'
  | 'tokenizer'
  | 'template'
  | 'companion'
  | 'internal';

export class RbeeError extends Error {
  override readonly name = 'RbeeError';
  readonly code: RbeeErrorCode;
  /** What the user can do about it, in one sentence. */
  readonly hint?: string;

  constructor(code: RbeeErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(redactUrlsInText(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint === undefined ? undefined : redactUrlsInText(options.hint);
  }

  toJSON(): { code: RbeeErrorCode; message: string; hint?: string } {
    return this.hint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, hint: this.hint };
  }
}

export function isRbeeError(e: unknown): e is RbeeError {
  return e instanceof RbeeError || (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'RbeeError');
}

/** Wraps anything thrown into an RbeeError (unknown throwables become `internal`, with the original as cause). */
export function toRbeeError(e: unknown): RbeeError {
  if (e instanceof RbeeError) return e;
  if (e instanceof DOMException && e.name === 'AbortError') return new RbeeError('aborted', 'Cancelled.', { cause: e });
  if (e instanceof DOMException && e.name === 'QuotaExceededError')
    return new RbeeError('quota', 'The browser refused to store more data: storage is full.', {
      hint: 'Free space in the library (delete a model) or in the browser settings, then try again.',
      cause: e,
    });
  const message = e instanceof Error ? e.message : String(e);
  return new RbeeError('internal', `Unexpected error: ${message}`, { cause: e });
}
