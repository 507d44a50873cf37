// A Range server that lies: it answers 206 with a correct Content-Range for the bytes asked, then streams far more
// body than that (hundreds of MB, on loopback). HttpByteSource must stop reading at the requested length and cancel
// the body, never read it to the end (issue 13, item 2).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpByteSource } from '../../../src/lib/formats/http-source.ts';

/** Bytes the server offers after the ones asked for: far more than any header read could need. */
const FLOOD_BYTES = 512 * 1024 * 1024;
const CHUNK = new Uint8Array(64 * 1024).fill(0x41);

let server: Server;
let url: string;
/** Bytes the server managed to hand to the socket per request, and whether the client hung up early. */
const sent: { bytes: number; closedEarly: boolean }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '');
    const start = Number(m?.[1] ?? 0);
    const end = Number(m?.[2] ?? 0);
    const record = { bytes: 0, closedEarly: false };
    sent.push(record);
    // No Content-Length: the body is chunked, so only the reader decides when to stop.
    res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${FLOOD_BYTES}`, 'Content-Type': 'application/octet-stream' });
    let left = FLOOD_BYTES;
    res.on('close', () => {
      if (left > 0) record.closedEarly = true;
    });
    const pump = (): void => {
      // A bounded loop: at most FLOOD_BYTES, and it stops when the socket closes.
      while (left > 0 && !res.destroyed) {
        const n = Math.min(left, CHUNK.byteLength);
        left -= n;
        record.bytes += n;
        if (!res.write(n === CHUNK.byteLength ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
      }
      if (left === 0) res.end();
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.gguf`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('a 206 with more body than the Content-Range says', () => {
  it('is cut at the requested length while streaming, and the rest is never read', async () => {
    const source = new HttpByteSource(url);
    const started = performance.now();
    const bytes = await source.read(0, 1024 * 1024);
    const ms = performance.now() - started;
    expect(bytes.byteLength).toBe(1024 * 1024);
    expect(bytes.every((b) => b === 0x41)).toBe(true);
    // What this source counts as read is what it keeps, not what the server pushed.
    expect(source.stats.bytesRead).toBe(1024 * 1024);
    await new Promise((r) => setTimeout(r, 100));
    const record = sent.at(-1)!;
    expect(record.closedEarly).toBe(true);
    // Socket buffers let the server write a little ahead; nothing near the 512 MiB it offered.
    expect(record.bytes).toBeLessThan(64 * 1024 * 1024);
    expect(ms).toBeLessThan(20_000);
  });
});
