/**
 * The CLI's local web server for the browser harness: the harness page and its bundles, and local model files
 * served with HTTP Range (the worker reads weights in chunks through HttpByteSource, exactly as from a web server).
 * Listens on 127.0.0.1 only, on a free port; files are read per request with a file handle (never whole into memory).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve, relative } from 'node:path';

export interface HarnessServer {
  readonly url: string;
  /** Serves the folder `dir` under `/models/<n>/` and returns that URL prefix. */
  addModelFolder(dir: string): string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
};

export async function startHarnessServer(staticDir: string): Promise<HarnessServer> {
  const folders: string[] = [];
  const server = createServer((req, res) => {
    try {
      route(req, res);
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });

  function route(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, ETag, Accept-Ranges');
    res.setHeader('Cache-Control', 'no-store');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Headers', 'Range');
      res.writeHead(204).end();
      return;
    }
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const model = /^\/models\/(\d+)\/(.+)$/.exec(path);
    let file: string | undefined;
    if (model) {
      const root = folders[Number(model[1])];
      if (root) file = inside(root, model[2]!);
    } else {
      file = inside(staticDir, path === '/' ? 'index.html' : path.slice(1));
    }
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    sendFile(req, res, file);
  }

  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    addModelFolder(dir) {
      folders.push(resolve(dir));
      return `${url}/models/${folders.length - 1}/`;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** `rel` resolved inside `root`, or undefined when it would leave it. */
function inside(root: string, rel: string): string | undefined {
  const target = resolve(root, rel);
  return relative(root, target).startsWith('..') ? undefined : target;
}

function sendFile(req: IncomingMessage, res: ServerResponse, file: string): void {
  const { size, mtimeMs } = statSync(file);
  const ext = file.slice(file.lastIndexOf('.'));
  res.setHeader('Content-Type', TYPES[ext] ?? 'application/octet-stream');
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('ETag', `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`);
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0;
  let end = size - 1;
  if (range) {
    if (range[1] === '' && range[2] !== '') start = Math.max(0, size - Number(range[2]));
    else {
      start = Number(range[1]);
      if (range[2] !== '') end = Math.min(size - 1, Number(range[2]));
    }
    if (start >= size || start > end) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1 });
  } else {
    res.writeHead(200, { 'Content-Length': size });
  }
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file, { start, end }).pipe(res);
}
