/**
 * ByteSource: the one interface every loader reads through — a local File/Blob, an HTTP(S) URL read with Range
 * requests, a file in the download cache. Parsers ask for exact byte ranges; a source never hands over more than
 * it was asked for, so inspecting a model reads its header and never its weights.
 */
export interface ByteSourceStats {
  /** Bytes actually transferred (for HTTP: response bodies). */
  bytesRead: number;
  /** Reads that went to the underlying medium (HTTP requests, Blob slices). */
  requests: number;
}

export interface ByteSource {
  /** What to show the user: a file name or URL. */
  readonly name: string;
  /** Where it came from, for display and for re-opening (a URL, `file:<name>`, `hf:owner/repo/file`). */
  readonly location: string;
  /** Total size in bytes; may need one request to learn for HTTP. */
  size(): Promise<number>;
  /**
   * Exactly `length` bytes from `offset`, or fewer only at the end of the source. Throws RbeeError (`truncated`,
   * `no-range`, `http`, `network`, `aborted`) — never a bare TypeError.
   */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  readonly stats: ByteSourceStats;
}
