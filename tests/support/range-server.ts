/**
 * A small HTTP file server for tests and benchmarks that behaves like a CDN / the Hugging Face hub does for
 * Range reads: `Range: bytes=a-b` / `bytes=a-` / `bytes=-n` → 206 with Content-Range, HEAD, ETag and
 * Last-Modified, permissive CORS (the headers a browser must be allowed to read are exposed) and OPTIONS preflight.
 *
 *   const server = await startRangeServer({ '/m.gguf': '/path/to/m.gguf', '/x.bin': new Uint8Array([1, 2]) });
 *   fetch(`${server.url}/m.gguf`, { headers: { Range: 'bytes=0-99' } });
 *   server.stats.get('/m.gguf')  // { requests, bytesSent, rangeRequests }
 *   server.setFile('/x.bin', new Uint8Array([3]))  // new content and a new ETag
 *   await server.close();
 *
 * Options:
 * - `noRange`: ignore Range and answer 200 with the whole body (a server without Range support).
 * - `failAfterBytes`: cut the connection after sending this many body bytes of a response (resume tests).
 * - `status`: answer every request for these paths with this status (401/403/500 tests).
 * - `latencyMs`: wait this long before answering (to make request counts matter in benchmarks).
 * - `route`: answers a request itself (query-aware routes such as a stand-in hub's search API) by returning true;
 *   false falls through to the files. Runs after CORS headers and stats, before `status` and the files.
 *
 * Files given as paths are read from disk per request with a file handle (no whole-file buffering), so large sparse
 * files can be served.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { open, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';

export type RangeServerFile = string | Uint8Array;

export interface RangeServerOptions {
  noRange?: boolean;
  failAfterBytes?: number;
  status?: Record<string, number>;
  latencyMs?: number;
  route?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;
}

export interface PathStats {
  requests: number;
  /** Requests carrying a Range header. */
  rangeRequests: number;
  /** What each GET or HEAD asked for, in order: its Range header (`bytes=0-1048575`), or `HEAD` / `whole` without one. */
  reads: string[];
  /** Body bytes written (for a cut connection: what was written before the cut). */
  bytesSent: number;
}

export interface RangeServer {
  /** Base URL without trailing slash, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Per-path counters (keyed by URL path, e.g. '/m.gguf'). Missing path → no requests yet. */
  readonly stats: Map<string, PathStats>;
  /** Totals over all paths. */
  totals(): PathStats;
  resetStats(): void;
  /** Replace (or add) a file; its ETag and Last-Modified change. */
  setFile(path: string, file: RangeServerFile): void;
  /** Change options at run time (e.g. turn failAfterBytes off after the first attempt). */
  readonly options: RangeServerOptions;
  close(): Promise<void>;
}

interface Entry {
  file: RangeServerFile;
  version: number;
  modified: Date;
}

const EXPOSED = 'Content-Range, Content-Length, ETag, Accept-Ranges, Last-Modified, Content-Type';

export async function startRangeServer(
  files: Record<string, RangeServerFile>,
  options: RangeServerOptions = {},
): Promise<RangeServer> {
  const entries = new Map<string, Entry>();
  let versionCounter = 0;
  const put = (path: string, file: RangeServerFile): void => {
    entries.set(path, { file, version: ++versionCounter, modified: new Date(Math.floor(Date.now() / 1000) * 1000) });
  };
  for (const [path, file] of Object.entries(files)) put(path, file);

  const stats = new Map<string, PathStats>();
  const statFor = (path: string): PathStats => {
    let s = stats.get(path);
    if (!s) stats.set(path, (s = { requests: 0, rangeRequests: 0, reads: [], bytesSent: 0 }));
    return s;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', EXPOSED);
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? '*');
      res.setHeader('Access-Control-Max-Age', '600');
      res.writeHead(204).end();
      return;
    }
    const s = statFor(path);
    s.requests++;
    if (req.headers.range) s.rangeRequests++;
    s.reads.push(req.headers.range ?? (req.method === 'HEAD' ? 'HEAD' : 'whole'));
    if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
    if (options.route && (await options.route(req, res, new URL(req.url ?? '/', 'http://x')))) return;

    const forced = options.status?.[path];
    if (forced !== undefined) {
      res.writeHead(forced, { 'Content-Type': 'text/plain' }).end(`status ${forced}`);
      return;
    }
    const entry = entries.get(path);
    if (!entry) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD, OPTIONS' }).end();
      return;
    }
    const size = typeof entry.file === 'string' ? (await stat(entry.file)).size : entry.file.byteLength;
    const etag = `"v${entry.version}-${size}"`;
    res.setHeader('ETag', etag);
    res.setHeader('Last-Modified', entry.modified.toUTCString());
    res.setHeader('Content-Type', 'application/octet-stream');
    if (!options.noRange) res.setHeader('Accept-Ranges', 'bytes');

    let start = 0;
    let end = size - 1; // inclusive
    let status = 200;
    const range = options.noRange ? undefined : req.headers.range;
    const ifRange = req.headers['if-range'];
    if (range && (ifRange === undefined || ifRange === etag)) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (!m || (m[1] === '' && m[2] === '')) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
        return;
      }
      if (m[1] === '') {
        const n = Number(m[2]);
        start = Math.max(0, size - n);
      } else {
        start = Number(m[1]);
        if (m[2] !== '') end = Math.min(Number(m[2]), size - 1);
      }
      if (start >= size || start > end) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
        return;
      }
      status = 206;
      res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    }
    const length = Math.max(0, end - start + 1);
    res.setHeader('Content-Length', String(length));
    res.writeHead(status);
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    await sendBody(res, entry.file, start, length, s);
  };

  const sendBody = async (
    res: ServerResponse,
    file: RangeServerFile,
    start: number,
    length: number,
    s: PathStats,
  ): Promise<void> => {
    const limit = options.failAfterBytes;
    let sent = 0;
    const write = async (chunk: Uint8Array): Promise<boolean> => {
      if (limit !== undefined && sent + chunk.byteLength > limit) {
        const part = chunk.subarray(0, Math.max(0, limit - sent));
        if (part.byteLength) {
          res.write(part);
          s.bytesSent += part.byteLength;
        }
        // Let the partial chunk reach the socket, then cut the connection without ending the response.
        await new Promise((r) => setTimeout(r, 10));
        res.socket?.destroy();
        return false;
      }
      sent += chunk.byteLength;
      s.bytesSent += chunk.byteLength;
      if (!res.write(chunk)) {
        // Wait for the client to take the bytes — or to go away (a cancelled body closes the socket).
        await new Promise<void>((r) => {
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            r();
          };
          res.once('drain', done);
          res.once('close', done);
        });
      }
      return !res.destroyed && !res.socket?.destroyed;
    };
    if (typeof file !== 'string') {
      const CHUNK = 64 << 10;
      for (let off = 0; off < length; off += CHUNK) {
        if (!(await write(file.subarray(start + off, start + Math.min(length, off + CHUNK))))) return;
      }
      res.end();
      return;
    }
    const fh = await open(file, 'r');
    try {
      const buf = new Uint8Array(Math.min(length, 64 << 10));
      let off = 0;
      while (off < length) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.byteLength, length - off), start + off);
        if (bytesRead === 0) break;
        // Copy: the buffer is reused for the next read while this chunk may still be queued.
        if (!(await write(buf.slice(0, bytesRead)))) return;
        off += bytesRead;
      }
      res.end();
    } finally {
      await fh.close();
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(e));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    options,
    totals() {
      const t: PathStats = { requests: 0, rangeRequests: 0, reads: [], bytesSent: 0 };
      for (const s of stats.values()) {
        t.requests += s.requests;
        t.rangeRequests += s.rangeRequests;
        t.reads.push(...s.reads);
        t.bytesSent += s.bytesSent;
      }
      return t;
    },
    resetStats() {
      stats.clear();
    },
    setFile: put,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
