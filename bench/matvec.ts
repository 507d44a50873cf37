/**
 * Where a decode step's matrix-vector time goes, by matrix class, on this machine's WebGPU adapter (headless
 * Chromium), for the shapes of bench/decode.ts's generated models (dim 1024, 12 layers, FFN 2816, KV 256, 32k
 * vocabulary), each layer in its own buffer:
 *
 *   npx tsx bench/matvec.ts [--types Q4_K,Q8_0] [--runs 5] [--layers 12] [--shape subgroup|shared|rows]
 *
 * Prints, per class and for all of them in one pass, the wall time and the CPU time of Chromium's GPU process (where
 * SwiftShader runs the kernels: the figure that holds on a busy machine), fastest of the runs.
 *
 *   npx tsx bench/matvec.ts --per-type [--types all|F32,Q4_K,…] [--rows 4096] [--k 4096] [--runs 5]
 *
 * The per-weight-type microbenchmark: for every weight type (default all 14), one rows × k matrix-vector product with
 * the engine's decode kernel, the matrix copied into enough buffers for ≥ 64 MB of weights per run (so a small 4-bit
 * matrix does not sit in a CPU cache), fastest of the runs: GB/s of weights and G weights/s by wall time (and GB/s per
 * CPU-second of Chromium's GPU process, steadier on a busy machine), with the plain matrix-vector kernel of matmul.ts
 * (the decode graph's fused kernels share its per-format unit dot), beside the
 * raw-kernel probe figures from environment.md (f32 7.4 GB/s ≈ 1.85 G/s with 16 rows per invocation; 4-bit nibbles
 * 0.64 GB/s ≈ 1.3 G/s), which bound what a kernel of that shape reaches on this adapter.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHarnessServer } from '../src/cli/browser-harness/harness-server.ts';
import { ggmlTypeByName } from '../src/lib/formats/ggml-types.ts';
import { GENERATED_WEIGHT_TYPES } from '../tests/support/model-generator.ts';
import type { MatvecBenchConfig } from './matvec-page.ts';

/** The GPU process of the Chromium this run started (a descendant of this process): SwiftShader runs there. */
function gpuProcess(): number | undefined {
  const parent = (pid: string): string => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]!;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('--type=gpu-process')) continue;
      for (let p = entry, depth = 0; depth < 6 && p !== '0'; depth++) {
        p = parent(p);
        if (Number(p) === process.pid) return Number(entry);
      }
    } catch {
      // The process went away while we looked.
    }
  }
  return undefined;
}

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const perType = args.includes('--per-type');
/** --shape subgroup|shared|rows: the decode matvec's shape; default the engine's choice for the adapter. */
const shapeArg = (): Pick<MatvecBenchConfig, 'shape'> => (args.includes('--shape') ? { shape: opt('--shape', 'rows') as MatvecBenchConfig['shape'] } : {});
const typesArg = opt('--types', perType ? 'all' : 'Q4_K,Q8_0');
const types = typesArg === 'all' ? [...GENERATED_WEIGHT_TYPES] : typesArg.split(',');
/** Weights per run in the per-type mode: past the CPU caches SwiftShader runs on. */
const PER_TYPE_MIN_BYTES = 64e6;
const HERE = dirname(fileURLToPath(import.meta.url));

const dir = await mkdtemp(join(tmpdir(), 'rbee-matvec-'));
const esbuild = await import('esbuild');
await esbuild.build({ entryPoints: { page: join(HERE, 'matvec-page.ts') }, outdir: dir, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'silent' });
await writeFile(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="./page.js"></script>\n');
const server = await startHarnessServer(dir);
const { chromium } = await import('playwright');
const { chromiumArgs, chromiumPath } = (await import('../src/cli/browser-harness/chromium.js')) as { chromiumArgs: string[]; chromiumPath: () => string | undefined };
const executablePath = chromiumPath();
const browser = await chromium.launch({ headless: true, args: chromiumArgs, ...(executablePath ? { executablePath } : {}) });
try {
  const page = await browser.newPage();
  page.on('console', (m) => process.stderr.write(`[page] ${m.text()}\n`));
  await page.goto(server.url);
  await page.waitForFunction(() => typeof window.matvecSetup === 'function');
  // SwiftShader runs the shaders on the CPU in Chromium's GPU process: its CPU time per run measures the work
  // whatever else the machine is doing (wall time on a shared machine mostly measures the other jobs).
  const gpuPid = gpuProcess();
  const cpuSeconds = (): number => {
    if (!gpuPid) return NaN;
    const fields = readFileSync(`/proc/${gpuPid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
  };
  if (perType) {
    const rows = Number(opt('--rows', '4096'));
    const k = Number(opt('--k', '4096'));
    const runs = Number(opt('--runs', '5'));
    const lines: string[] = [];
    let adapter = '';
    let shape = '';
    for (const name of types) {
      const type = ggmlTypeByName(name)?.id;
      if (type === undefined) throw new Error(`unknown type ${name}`);
      const format = ggmlTypeByName(name)!;
      const matrixBytes = (rows * k * format.typeSize) / format.blockSize;
      const copies = Math.max(1, Math.min(16, Math.ceil(PER_TYPE_MIN_BYTES / matrixBytes)));
      const config: MatvecBenchConfig = { type, dim: k, kvDim: k, ffn: k, vocab: rows, layers: 1, ...shapeArg(), square: { rows, k, copies } };
      try {
        const setup = await page.evaluate((c) => window.matvecSetup(c), config);
        adapter = setup.adapter;
        shape = setup.shape;
        let wall = Infinity;
        let cpu = Infinity;
        for (let r = 0; r < runs; r++) {
          const c0 = cpuSeconds();
          wall = Math.min(wall, await page.evaluate(() => window.matvecRun('matrix')));
          cpu = Math.min(cpu, cpuSeconds() - c0);
        }
        await page.evaluate(() => window.matvecClose());
        const weights = rows * k * copies;
        lines.push(
          `| ${name} | ${((8 * format.typeSize) / format.blockSize).toFixed(2)} | ${(setup.weightBytes / 1e6).toFixed(1)} | ${wall.toFixed(1)} | ` +
            `${(cpu * 1000).toFixed(0)} | ${(setup.weightBytes / (wall / 1000) / 1e9).toFixed(3)} | ${(weights / (wall / 1000) / 1e9).toFixed(3)} | ` +
            `${(setup.weightBytes / cpu / 1e9).toFixed(3)} |`,
        );
      } catch (e) {
        lines.push(`| ${name} | failed: ${(e as Error).message.split('\n')[0]} | | | | | | |`);
      }
      process.stderr.write(`${lines.at(-1)}\n`);
    }
    console.log(
      `Matrix-vector product per weight type: ${rows} rows × ${k}, the engine's decode kernel (decode-matvec, '${shape}' shape), ` +
        `≥ 64 MB of weights per run (the matrix in several buffers), fastest of ${runs}, on ${adapter}; ${new Date().toISOString().slice(0, 16)} UTC. ` +
        'Probe figures on this adapter (environment.md, a barrier-free kernel with 16 rows per invocation): f32 7.4 GB/s ≈ 1.85 G weights/s; 4-bit 0.64 GB/s ≈ 1.3 G weights/s.',
    );
    console.log('| type | bits/weight | MB per run | wall ms | GPU-process CPU ms | GB/s of weights | G weights/s | GB/s per CPU-second |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const l of lines) console.log(l);
  }
  for (const name of perType ? [] : types) {
    const type = ggmlTypeByName(name)?.id;
    if (type === undefined) throw new Error(`unknown type ${name}`);
    const config: MatvecBenchConfig = {
      type,
      dim: 1024,
      kvDim: 256,
      ffn: 2816,
      vocab: 32000,
      layers: Number(opt('--layers', '12')),
      ...shapeArg(),
    };
    const setup = await page.evaluate((c) => window.matvecSetup(c), config);
    const runs = Number(opt('--runs', '5'));
    const rows: [string, number, number][] = [];
    for (const c of setup.classes) {
      let wall = Infinity;
      let cpu = Infinity;
      for (let r = 0; r < runs; r++) {
        const c0 = cpuSeconds();
        wall = Math.min(wall, await page.evaluate((n) => window.matvecRun(n), c));
        cpu = Math.min(cpu, cpuSeconds() - c0);
      }
      rows.push([c, wall, cpu * 1000]);
    }
    await page.evaluate(() => window.matvecClose());
    const sumCpu = rows.filter(([c]) => c !== 'all').reduce((a, [, , ms]) => a + ms, 0);
    console.log(
      `${name} on ${setup.adapter} (timestamp-query: ${setup.timestampQuery}, packed_4x8_integer_dot_product: ${setup.packedDot}), ` +
        `${(setup.weightBytes / 1e6).toFixed(1)} MB of weights; fastest of ${runs} runs`,
    );
    console.log('| class | wall ms / step | GPU-process CPU ms / step | share of CPU |');
    console.log('|---|---|---|---|');
    for (const [c, wall, cpu] of rows) console.log(`| ${c} | ${wall.toFixed(1)} | ${cpu.toFixed(0)} | ${c === 'all' ? '' : `${((100 * cpu) / sumCpu).toFixed(0)}%`} |`);
  }
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
