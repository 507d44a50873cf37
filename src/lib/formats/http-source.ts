/**
 * HttpByteSource: a file on an HTTP(S) server, read with `Range: bytes=a-b` requests — one request per read, no
 * more bytes than asked for. It learns the file size from Content-Range (so the first read also answers size()),
 * and refuses a server that ignores Range: it cancels that response's body at once rather than download a model's
 * weights to read its header.
 *
 * Errors (all RbeeError): 404 → 'not-found'; 401/403 → 'gated'; a 200 answer to a Range request → 'no-range';
 * any other failure status → 'http'; a request that did not complete (DNS, refused, CORS, cut mid-body) →
 * 'network'; the caller's AbortSignal → 'aborted'; the file changing between reads (ETag) → 'http'.
 */
import { unreachableError } from './unreachable.ts';
import { RbeeError } from '../errors.ts';
import { checkRange } from './blob-source.ts';
import type { ByteSource, ByteSourceStats } from './byte-source.ts';

export interface HttpByteSourceOptions {
  /** fetch to use (tests, proxies); default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Extra request headers (e.g. Authorization for gated Hugging Face repositories). */
  headers?: Record<string, string>;
  /** Display name; default the last path segment of the URL. */
  name?: string;
}

export class HttpByteSource implements ByteSource {
  readonly stats: ByteSourceStats = { bytesRead: 0, requests: 0 };
  readonly name: string;
  readonly location: string;
  /** The file's validator from the first response, if the server sent one (for caches and resume). */
  etag: string | undefined;
  lastModified: string | undefined;
  private knownSize: number | undefined;
  private readonly fetchFn: typeof fetch;

  constructor(
    readonly url: string,
    private readonly options: HttpByteSourceOptions = {},
  ) {
    this.location = url;
    this.name = options.name ?? fileNameOf(url);
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  async size(signal?: AbortSignal): Promise<number> {
    if (this.knownSize === undefined) await this.read(0, 1, signal);
    if (this.knownSize === undefined) {
      throw new RbeeError('http', `${this.name}: the server did not say how large the file is.`, {
        hint: 'The server must send Content-Range with a total size for Range requests.',
      });
    }
    return this.knownSize;
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    checkRange(offset, length);
    if (signal?.aborted) throw aborted();
    if (length === 0 || (this.knownSize !== undefined && offset >= this.knownSize)) return new Uint8Array(0);
    const last = offset + length - 1;
    let response: Response;
    this.stats.requests++;
    try {
      response = await this.fetchFn(this.url, {
        headers: { ...this.options.headers, Range: `bytes=${offset}-${last}` },
        // Header reads must not land in the browser's HTTP cache: Chromium then answers a later plain GET of the same
        // small file (a config.json that transformers.js fetches whole) with the cached 206, which libraries reject.
        cache: 'no-store',
        signal,
      });
    } catch (e) {
      if (signal?.aborted || isAbort(e)) throw aborted(e);
      throw unreachableError(this.url, e, 'Check the address and your connection. A server on another origin must allow CORS.');
    }

    if (response.status === 416) {
      // Past the end: the answer says how large the file is.
      await cancelBody(response);
      const total = parseTotal(response.headers.get('Content-Range'));
      if (total !== undefined) this.knownSize = total;
      return new Uint8Array(0);
    }
    if (response.status === 200) {
      const declared = Number(response.headers.get('Content-Length') ?? NaN);
      // A server without Range support sends the whole file. Accept it only when the whole file is no more than we
      // asked for anyway; otherwise stop the transfer now.
      if (!(Number.isSafeInteger(declared) && declared <= last + 1)) {
        await cancelBody(response);
        throw new RbeeError('no-range', `${this.url} does not support Range requests (it sent the whole file).`, {
          hint: 'Use a server that honours Range requests (Hugging Face, most CDNs, `npx serve`), or open the file from disk.',
        });
      }
      const whole = await this.body(response, last + 1, signal);
      this.knownSize = whole.byteLength;
      this.noteValidators(response);
      return whole.subarray(Math.min(offset, whole.byteLength), Math.min(last + 1, whole.byteLength));
    }
    if (response.status !== 206) {
      await cancelBody(response);
      throw statusError(this.url, response.status);
    }

    const contentRange = parseContentRange(response.headers.get('Content-Range'));
    if (!contentRange || contentRange.start !== offset || contentRange.end < contentRange.start) {
      await cancelBody(response);
      throw new RbeeError('http', `${this.url} answered a Range request with a different range (${response.headers.get('Content-Range') ?? 'none'}).`, {
        hint: 'The server does not handle Range requests correctly; open the file from disk instead.',
      });
    }
    if (contentRange.total !== undefined) this.knownSize = contentRange.total;
    this.noteValidators(response);
    // The confirmed range bounds the buffer too (a server may confirm fewer bytes than asked, near the end).
    const bytes = await this.body(response, Math.min(length, contentRange.end - contentRange.start + 1), signal);
    const expected = Math.min(length, (this.knownSize ?? Infinity) - offset);
    if (bytes.byteLength < expected) {
      throw new RbeeError('network', `The connection to ${this.url} closed after ${bytes.byteLength} of ${expected} bytes.`, {
        hint: 'Try again.',
      });
    }
    return bytes;
  }

  private noteValidators(response: Response): void {
    const etag = response.headers.get('ETag') ?? undefined;
    if (this.etag !== undefined && etag !== undefined && etag !== this.etag) {
      throw new RbeeError('http', `${this.url} changed while it was being read (its ETag changed).`, {
        hint: 'Open the model again to read the new version.',
      });
    }
    this.etag ??= etag;
    this.lastModified ??= response.headers.get('Last-Modified') ?? undefined;
  }

  /**
   * At most `limit` bytes of the body, read as they stream: a server that sends more than the range it confirmed
   * (a 206 with a correct Content-Range and a body hundreds of MB long) is cut off at `limit` and its body cancelled,
   * so what is read never exceeds what was asked for.
   */
  private async body(response: Response, limit: number, signal?: AbortSignal): Promise<Uint8Array> {
    const reader = response.body?.getReader();
    if (!reader) return new Uint8Array(0);
    const out = new Uint8Array(limit);
    let filled = 0;
    try {
      while (filled < limit) {
        const { done, value } = await reader.read();
        if (done) break;
        const take = Math.min(value.byteLength, limit - filled);
        out.set(take === value.byteLength ? value : value.subarray(0, take), filled);
        filled += take;
      }
      this.stats.bytesRead += filled;
      return filled === limit ? out : out.subarray(0, filled);
    } catch (e) {
      if (signal?.aborted || isAbort(e)) throw aborted(e);
      throw new RbeeError('network', `The connection to ${this.url} broke while reading: ${(e as Error)?.message ?? String(e)}`, {
        hint: 'Try again.',
        cause: e,
      });
    } finally {
      // Whatever is left (the rest of a body longer than asked, or after an error) is not wanted: stop the transfer.
      await reader.cancel().catch(() => {});
    }
  }
}

function aborted(cause?: unknown): RbeeError {
  return new RbeeError('aborted', 'Cancelled.', cause === undefined ? {} : { cause });
}

function isAbort(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}

async function cancelBody(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // The body is being discarded; a failure to cancel changes nothing for the caller.
  }
}

function statusError(url: string, status: number): RbeeError {
  if (status === 404) {
    return new RbeeError('not-found', `${url} was not found (HTTP 404).`, { hint: 'Check the address or file name.' });
  }
  if (status === 401 || status === 403) {
    return new RbeeError('gated', `${url} refused access (HTTP ${status}).`, {
      hint: 'The repository may be gated or private: accept its licence on Hugging Face and provide an access token.',
    });
  }
  return new RbeeError('http', `${url} answered HTTP ${status}.`, {
    hint: status >= 500 ? 'The server had a problem; try again later.' : 'Check the address.',
  });
}

function parseContentRange(header: string | null): { start: number; end: number; total?: number } | undefined {
  const m = header ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(header.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), ...(m[3] === '*' ? {} : { total: Number(m[3]) }) };
}

function parseTotal(header: string | null): number | undefined {
  const m = header ? /\/(\d+)\s*$/.exec(header) : null;
  return m ? Number(m[1]) : undefined;
}

function fileNameOf(url: string): string {
  try {
    const path = new URL(url).pathname;
    return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || url;
  } catch {
    return url;
  }
}
