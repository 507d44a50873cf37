// The byte sources (HTTP with Range, Blob, Node file, memory) against the test Range server and real files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { startRangeServer, type RangeServer } from '../../support/range-server.ts';
import { HttpByteSource } from '../../../src/lib/formats/http-source.ts';
import { BlobByteSource } from '../../../src/lib/formats/blob-source.ts';
import { MemoryByteSource } from '../../../src/lib/formats/memory-source.ts';
import { NodeFileSource } from '../../../src/lib/formats/node-file-source.ts';
import { isRbeeError, type RbeeErrorCode } from '../../../src/lib/errors.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';

const big = new Uint8Array(3 << 20).map((_, i) => (i * 7919) & 0xff);
const small = new Uint8Array([1, 2, 3, 4, 5]);
// Large enough that loopback socket buffers cannot swallow it whole before the client cancels.
const huge = new Uint8Array(64 << 20);

async function codeOf(p: Promise<unknown>): Promise<RbeeErrorCode | 'resolved' | 'other'> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isRbeeError(e) ? e.code : 'other';
  }
}

describe('range server + HttpByteSource', () => {
  let server: RangeServer;
  let plain: RangeServer;
  beforeAll(async () => {
    server = await startRangeServer(
      { '/big.bin': big, '/small.bin': small, '/gated.bin': small, '/broken.bin': small },
      { status: { '/gated.bin': 403, '/broken.bin': 500 } },
    );
    plain = await startRangeServer({ '/huge.bin': huge, '/small.bin': small }, { noRange: true });
  });
  afterAll(async () => {
    await server.close();
    await plain.close();
  });

  it('reads exact ranges and learns the size from Content-Range', async () => {
    const src = new HttpByteSource(`${server.url}/big.bin`);
    const a = await src.read(1000, 5000);
    expect(a).toEqual(big.subarray(1000, 6000));
    expect(await src.size()).toBe(big.byteLength);
    expect(src.stats).toEqual({ requests: 1, bytesRead: 5000 });
    expect(server.stats.get('/big.bin')).toMatchObject({ requests: 1, rangeRequests: 1, bytesSent: 5000 });
    expect(src.etag).toMatch(/^"v\d+-/);
  });

  it('returns fewer bytes only at the end, and nothing past it', async () => {
    const src = new HttpByteSource(`${server.url}/big.bin`);
    expect((await src.read(big.byteLength - 10, 100)).byteLength).toBe(10);
    expect((await src.read(big.byteLength + 10, 100)).byteLength).toBe(0);
    const fresh = new HttpByteSource(`${server.url}/small.bin`);
    expect((await fresh.read(50, 10)).byteLength).toBe(0); // 416 → empty, size learnt
    expect(await fresh.size()).toBe(5);
  });

  it('size() alone costs one small request', async () => {
    server.resetStats();
    const src = new HttpByteSource(`${server.url}/big.bin`);
    expect(await src.size()).toBe(big.byteLength);
    expect(server.stats.get('/big.bin')!.bytesSent).toBe(1);
  });

  it('maps statuses to error codes', async () => {
    expect(await codeOf(new HttpByteSource(`${server.url}/nope.bin`).read(0, 10))).toBe('not-found');
    expect(await codeOf(new HttpByteSource(`${server.url}/gated.bin`).read(0, 10))).toBe('gated');
    expect(await codeOf(new HttpByteSource(`${server.url}/broken.bin`).read(0, 10))).toBe('http');
    expect(await codeOf(new HttpByteSource('http://127.0.0.1:1/x.gguf').read(0, 10))).toBe('network');
    const ctl = new AbortController();
    ctl.abort();
    expect(await codeOf(new HttpByteSource(`${server.url}/big.bin`).read(0, 10, ctl.signal))).toBe('aborted');
  });

  it('refuses a server that ignores Range without downloading the file', async () => {
    const src = new HttpByteSource(`${plain.url}/huge.bin`);
    expect(await codeOf(src.read(0, 1024))).toBe('no-range');
    // The body was cancelled: far less than the 64 MiB file went over the wire... give the socket a moment.
    await new Promise((r) => setTimeout(r, 50));
    expect(plain.stats.get('/huge.bin')!.bytesSent).toBeLessThan(huge.byteLength / 4);
    expect(src.stats.bytesRead).toBe(0);
    // A whole file no larger than the request is fine even without Range support.
    expect(await new HttpByteSource(`${plain.url}/small.bin`).read(1, 100)).toEqual(small.subarray(1));
  });

  it('reports a connection cut mid-body as network', async () => {
    const cut = await startRangeServer({ '/big.bin': big }, { failAfterBytes: 1000 });
    try {
      expect(await codeOf(new HttpByteSource(`${cut.url}/big.bin`).read(0, 100_000))).toBe('network');
      cut.options.failAfterBytes = undefined;
      expect((await new HttpByteSource(`${cut.url}/big.bin`).read(0, 100_000)).byteLength).toBe(100_000);
    } finally {
      await cut.close();
    }
  });

  it('detects a file that changed between reads (ETag)', async () => {
    const s = await startRangeServer({ '/m.bin': big });
    try {
      const src = new HttpByteSource(`${s.url}/m.bin`);
      await src.read(0, 10);
      s.setFile('/m.bin', big.slice(0, 1 << 20));
      expect(await codeOf(src.read(10, 10))).toBe('http');
    } finally {
      await s.close();
    }
  });

  it('serves HEAD, suffix ranges, 416 and CORS preflight', async () => {
    const head = await fetch(`${server.url}/big.bin`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(big.byteLength));
    expect(head.headers.get('accept-ranges')).toBe('bytes');
    expect(head.headers.get('access-control-expose-headers')).toContain('Content-Range');
    const suffix = await fetch(`${server.url}/small.bin`, { headers: { Range: 'bytes=-2' } });
    expect(suffix.status).toBe(206);
    expect(suffix.headers.get('content-range')).toBe('bytes 3-4/5');
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(new Uint8Array([4, 5]));
    const past = await fetch(`${server.url}/small.bin`, { headers: { Range: 'bytes=9-' } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */5');
    const pre = await fetch(`${server.url}/big.bin`, {
      method: 'OPTIONS',
      headers: { 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toBe('range');
  });
});

describe('local sources', () => {
  it('BlobByteSource, MemoryByteSource read exact slices', async () => {
    for (const src of [new BlobByteSource(new Blob([big]), 'b.bin'), new MemoryByteSource(big)]) {
      expect(await src.size()).toBe(big.byteLength);
      expect(await src.read(5, 10)).toEqual(big.subarray(5, 15));
      expect((await src.read(big.byteLength - 3, 10)).byteLength).toBe(3);
      expect(src.stats.requests).toBe(2);
      expect(await codeOf(src.read(-1, 10))).toBe('bad-offset');
    }
  });

  it.runIf(HAS_FIXTURES)('NodeFileSource reads a real file', async () => {
    const path = fixture('models/stories260K.gguf');
    const src = await NodeFileSource.open(path);
    try {
      const want = readFileSync(path);
      expect(await src.size()).toBe(want.byteLength);
      expect(await src.read(100, 1000)).toEqual(new Uint8Array(want.subarray(100, 1100)));
      expect(src.name).toBe('stories260K.gguf');
    } finally {
      await src.close();
    }
    expect(await codeOf(NodeFileSource.open('/nonexistent/x.gguf'))).toBe('not-found');
  });
});
