/**
 * A refusal the companion answers with an HTTP status and a JSON body `{ error, message }`. Distinct from RbeeError
 * because its audience is a remote client (the app, curl), and its status is part of the protocol.
 */
export class CompanionHttpError extends Error {
  override readonly name = 'CompanionHttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
