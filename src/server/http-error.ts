/**
 * A refusal the companion answers with an HTTP status and a JSON body `{ error, message, hint? }`. Distinct from
 * RbeeError because its audience is a remote client (the app, curl), and its status is part of the protocol; like an
 * RbeeError it carries a hint that says what the client can do.
 */
export class CompanionHttpError extends Error {
  override readonly name = 'CompanionHttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly hint?: string,
  ) {
    super(message);
  }

  /** The JSON body a client reads. */
  body(): { error: string; message: string; hint?: string } {
    return this.hint === undefined ? { error: this.code, message: this.message } : { error: this.code, message: this.message, hint: this.hint };
  }
}
