/**
 * The download cache's own cost in Node: plain fetch vs download-to-cache vs cache read of a generated 100 MB file,
 * same run, on the local Range server. It runs with fake-indexeddb (an in-memory IndexedDB), so it measures our
 * downloader (requests, hashing, bookkeeping) without any real storage. The browser figures — Chromium's disk-backed
 * IndexedDB, and cache → GPU through the engine's WeightUploader — come from bench/cache-browser.ts.
 *
 *   npx tsx bench/cache.ts [sizeMB=100] [chunkMiB=32]
 */
import 'fake-indexeddb/auto';
import { randomBytes } from 'node:crypto';
import { CachedFileSource } from '../src/lib/cache/cached-source.ts';
import { startDownload } from '../src/lib/cache/downloader.ts';
import { CacheStore, idbKeyValueStore } from '../src/lib/cache/store.ts';
import { startRangeServer } from '../tests/support/range-server.ts';

const sizeMB = Number(process.argv[2] ?? 100);
const chunkMiB = Number(process.argv[3] ?? 32);
const file = new Uint8Array(randomBytes(sizeMB * 1e6));
const server = await startRangeServer({ '/bench.bin': file });
const url = `${server.url}/bench.bin`;
const mbps = (bytes: number, ms: number): string => ((bytes / 1e6) / (ms / 1000)).toFixed(0);

async function timed(run: () => Promise<number>): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const bytes = await run();
  return { ms: performance.now() - t, bytes };
}

const plain = await timed(async () => {
  const res = await fetch(url);
  let n = 0;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) n += c.byteLength;
  return n;
});
const store = new CacheStore(idbKeyValueStore('bench-cache'));
const download = await timed(async () => {
  const r = await startDownload({ url, id: 'bench', store, chunkSize: chunkMiB * 1024 ** 2, estimate: async () => ({ freeBytes: undefined, quotaBytes: undefined, usageBytes: undefined }) }).done;
  return r.manifest.size;
});
const read = await timed(async () => {
  const source = await CachedFileSource.open('bench', store);
  let n = 0;
  for await (const { bytes } of source.chunks()) n += bytes.byteLength;
  return n;
});
await server.close();

console.log(`\n${sizeMB} MB file, ${chunkMiB} MiB chunks, Node ${process.version} + fake-indexeddb (in memory)\n`);
console.log('| path | MB/s | time |');
console.log('|---|---:|---:|');
console.log(`| plain fetch (whole body) | ${mbps(plain.bytes, plain.ms)} | ${plain.ms.toFixed(0)} ms |`);
console.log(`| download to cache (Range chunks, SHA-256, store) | ${mbps(download.bytes, download.ms)} | ${download.ms.toFixed(0)} ms |`);
console.log(`| cache read, chunk by chunk | ${mbps(read.bytes, read.ms)} | ${read.ms.toFixed(0)} ms |`);
