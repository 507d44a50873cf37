/**
 * Download cache and weight upload in real headless Chromium, against plain fetch of the same file, same page, same
 * run: a generated file (random bytes) on the local Range server (tests/support/range-server.ts), and the app's own
 * code in the page (bench/cache-browser-page.ts, bundled with esbuild):
 *   plain fetch · download to cache (startDownload into Chromium's disk-backed IndexedDB through idb-keyval; default
 *   chunk size and parallelism, and other chunk sizes; with the hub's SHA-256 as the app passes it, and without) ·
 *   cache read (CachedFileSource, chunk by chunk) · stored-file check (verifyStoredFile: every chunk read back and
 *   hashed, as a library recheck does and as every hub-checked download did before hashing moved into it) · cache to GPU (the engine's WeightUploader from the cached file,
 *   until queue.onSubmittedWorkDone) · fetch to GPU (the same upload fed by one plain fetch: its baseline) · Range
 *   to GPU (the same upload from HttpByteSource: running a URL without the cache).
 * Each repetition deletes the cached file and uses a fresh database; the table gives the median of the runs, and the
 * last line is one JSON object with the ratios the cache is held to (downloadToCacheRatio: hub-checked download ÷
 * plain fetch; cacheReadRatio: cache read ÷ plain fetch; cacheToGpuRatio: cache → GPU ÷ fetch → GPU).
 *
 *   npx tsx bench/cache-browser.ts [--mb 200] [--runs 3] [--chunk-mib 32,8] [--parallel 3]
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright';
import { DEFAULT_CHUNK_SIZE, DEFAULT_PARALLEL } from '../src/lib/cache/downloader.ts';
import { chromiumArgs, chromiumPath } from '../src/cli/browser-harness/chromium.js';
import { startRangeServer } from '../tests/support/range-server.ts';
import type { CacheBenchApi, Timing } from './cache-browser-page.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const MiB = 1024 ** 2;

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '200' },
    runs: { type: 'string', default: '3' },
    'chunk-mib': { type: 'string', default: `${DEFAULT_CHUNK_SIZE / MiB},8` },
    parallel: { type: 'string', default: String(DEFAULT_PARALLEL) },
  },
});
const sizeMB = Number(args.mb);
const runs = Number(args.runs);
const chunkSizes = args['chunk-mib'].split(',').map((s) => Number(s) * MiB);
const parallel = Number(args.parallel);
if (!Number.isInteger(sizeMB) || sizeMB <= 0) throw new Error('--mb must be a whole number of MB (the upload cuts the file into 16-byte rows)');

const file = new Uint8Array(randomBytes(sizeMB * 1e6));
const sha256 = createHash('sha256').update(file).digest('hex');

/** One browser ES module, bundled in memory. */
async function bundle(entry: string): Promise<string> {
  const built = await esbuild.build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' });
  return built.outputFiles[0]!.text;
}
const pageJs = await bundle(join(HERE, 'cache-browser-page.ts'));
// The download's whole-file hash runs in a module worker (src/workers/file-hash.worker.ts), which Vite emits for
// the app; here esbuild bundles it too and the page gets it where the library's URL points.
const hashWorkerJs = await bundle(join(HERE, '../src/workers/file-hash.worker.ts'));

const server = await startRangeServer({ '/bench.bin': file });
const url = `${server.url}/bench.bin`;
const executablePath = chromiumPath();
const browser = await chromium.launch({ headless: true, args: chromiumArgs, ...(executablePath ? { executablePath } : {}) });
const loadBefore = loadavg()[0]!;

type Row = { path: string; times: Timing[] };
const rows = new Map<string, Row>();
const record = (path: string, t: Timing): void => {
  const r = rows.get(path) ?? { path, times: [] };
  r.times.push(t);
  rows.set(path, r);
  process.stderr.write(`  ${path}: ${mbps(t).toFixed(0)} MB/s (${t.ms.toFixed(0)} ms)\n`);
};

try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => process.stderr.write(`pageerror: ${e.message}\n`));
  // The page comes from the file's origin (no CORS preflights in the measurement); the route is dropped once the
  // page has loaded so no measured request passes through Playwright's interception.
  await page.route(`${server.url}/bench/**`, (route) => {
    const html = '<!doctype html><meta charset="utf-8"><title>rbee-web cache bench</title><script type="module" src="./page.js"></script>';
    const isJs = route.request().url().endsWith('.js');
    return route.fulfill({ status: 200, contentType: isJs ? 'text/javascript' : 'text/html', body: isJs ? pageJs : html });
  });
  await page.goto(`${server.url}/bench/index.html`);
  await page.waitForFunction(() => 'rbeeCacheBench' in globalThis, undefined, { timeout: 60_000 });
  await page.unrouteAll();
  await page.route('**/workers/file-hash.worker.ts', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: hashWorkerJs }));

  const call = <K extends keyof CacheBenchApi>(name: K, ...a: Parameters<CacheBenchApi[K]>): Promise<Awaited<ReturnType<CacheBenchApi[K]>>> =>
    page.evaluate(
      ([n, a2]) => (globalThis as unknown as { rbeeCacheBench: Record<string, (...x: unknown[]) => unknown> }).rbeeCacheBench[n]!(...a2),
      [name, a] as const,
    ) as Promise<Awaited<ReturnType<CacheBenchApi[K]>>>;

  const info = await call('machine');
  const hashWhere = (await call('hashOffThread')) ? 'in a worker' : 'on the page thread (the worker did not start)';
  let db = 0;
  const chunkLabel = (c: number): string => `${c / MiB} MiB chunks${c === DEFAULT_CHUNK_SIZE ? ' (default)' : ''}`;
  for (let run = 1; run <= runs; run++) {
    process.stderr.write(`run ${run}/${runs}\n`);
    record('plain fetch (whole body, discarded)', await call('plainFetch', url));
    for (const chunkSize of chunkSizes) {
      const settings = { dbName: `rbee-bench-${run}-${db++}`, chunkSize, parallel, sha256 };
      const copy = await call('downloadToCache', url, settings);
      record(`download to cache, ${chunkLabel(chunkSize)}, hub SHA-256 checked`, copy);
      record(`cache read (CachedFileSource.chunks), ${chunkLabel(chunkSize)}`, await call('cacheRead', copy));
      if (chunkSize === chunkSizes[0]) record(`stored-file check (verifyStoredFile: read back + hash), ${chunkLabel(chunkSize)}`, await call('cacheCheck', copy));
      record(`cache → GPU (WeightUploader, 8 MiB writeBuffer), ${chunkLabel(chunkSize)}`, await call('cacheToGpu', copy));
      await call('clearCache', copy);
    }
    const noHash = await call('downloadToCache', url, { dbName: `rbee-bench-${run}-${db++}`, chunkSize: chunkSizes[0]!, parallel });
    record(`download to cache, ${chunkLabel(chunkSizes[0]!)}, no hub SHA-256 (plain URL)`, noHash);
    await call('clearCache', noHash);
    record('fetch → GPU (same upload fed by one plain fetch)', await call('fetchToGpu', url));
    record('Range → GPU (same upload from HttpByteSource, 8 MiB requests)', await call('rangeToGpu', url));
  }

  const median = (r: Row): number => {
    const v = r.times.map(mbps).sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  const byPath = [...rows.values()];
  const fetchRate = median(byPath.find((r) => r.path.startsWith('plain fetch'))!);
  const fetchGpuRate = median(byPath.find((r) => r.path.startsWith('fetch → GPU'))!);
  // The user agent says 156.0.0.0 (reduced); the browser process gives the full version.
  const ua = browser.version();
  const a = info.adapter;
  console.log(`\nCache and upload throughput in headless Chromium ${ua}: a ${sizeMB} MB file of random bytes from the local Range server,`);
  console.log(`parallel ${parallel}, median of ${runs} runs (MB = 10^6 bytes). Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), page sees ${info.hardwareConcurrency};`);
  console.log(`WebGPU adapter: ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || '(no info)'}, binding limit ${(info.maxBinding / MiB).toFixed(0)} MiB;`);
  console.log(`Whole-file SHA-256 of hub-checked downloads: hash-wasm ${hashWhere}; chunks stored as Blobs in IndexedDB.`);
  console.log(`load average ${loadBefore.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end (other jobs share the machine).\n`);
  console.log('| path | MB/s (median) | runs (MB/s) | × plain fetch | × fetch → GPU |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of byPath) {
    const m = median(r);
    const runsText = r.times.map((t) => mbps(t).toFixed(0)).join(' / ');
    console.log(`| ${r.path} | ${m.toFixed(0)} | ${runsText} | ${(m / fetchRate).toFixed(2)} | ${r.path.includes('GPU') ? (m / fetchGpuRate).toFixed(2) : ''} |`);
  }
  // The last line: the three ratios the cache is held to (issue "Downloads at network speed"), for the README and
  // later runs to quote. Default chunk size; medians.
  const rate = (prefix: string): number => median(byPath.find((r) => r.path.startsWith(prefix))!);
  const defaultChunks = chunkLabel(chunkSizes[0]!);
  const ratio = (x: number): number => Number(x.toFixed(3));
  console.log(
    JSON.stringify({
      sizeMB,
      runs,
      plainFetchMBps: Math.round(fetchRate),
      fetchToGpuMBps: Math.round(fetchGpuRate),
      downloadToCacheRatio: ratio(rate(`download to cache, ${defaultChunks}, hub SHA-256 checked`) / fetchRate),
      cacheReadRatio: ratio(rate(`cache read (CachedFileSource.chunks), ${defaultChunks}`) / fetchRate),
      cacheToGpuRatio: ratio(rate(`cache → GPU (WeightUploader, 8 MiB writeBuffer), ${defaultChunks}`) / fetchGpuRate),
      rangeToGpuRatio: ratio(rate('Range → GPU') / fetchGpuRate),
      loadAverage: [Number(loadBefore.toFixed(1)), Number(loadavg()[0]!.toFixed(1))],
    }),
  );
} finally {
  await browser.close();
  await server.close();
}

function mbps(t: Timing): number {
  return t.bytes / 1e6 / (t.ms / 1000);
}
