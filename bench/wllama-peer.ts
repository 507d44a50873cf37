/**
 * wllama (llama.cpp → WebAssembly) as the peer in rbee-web's benchmarks: bundles bench/wllama-page.ts with wllama's
 * wasm into a folder, serves it from the browser session's harness server (same origin as rbee-web's worker, so the
 * same COOP/COEP isolation) and runs it in another page of the same Chromium.
 *
 *   const peer = await WllamaPeer.open(session);
 *   const r = await peer.run({ modelUrl, threads: 1, prompt, maxTokens, contextLength });
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserSession } from '../src/cli/browser-harness/run-in-browser.ts';
import type { WllamaBenchRequest, WllamaBenchResult } from './wllama-page.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

export class WllamaPeer {
  private constructor(
    private readonly session: BrowserSession,
    private readonly dir: string,
    private readonly baseUrl: string,
  ) {}

  static async open(session: BrowserSession): Promise<WllamaPeer> {
    const dir = await mkdtemp(join(tmpdir(), 'rbee-wllama-'));
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: { page: join(HERE, 'wllama-page.ts') },
      outdir: dir,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
    });
    // The package's own prebuilt wasm (its package.json 'main' is stale, so not resolved through it).
    const wasm = join(HERE, '../node_modules/@wllama/wllama/esm/wasm/wllama.wasm');
    await copyFile(wasm, join(dir, 'wllama.wasm'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><input type="file" id="model"><script type="module" src="./page.js"></script>\n');
    return new WllamaPeer(session, dir, session.serveFolder(dir));
  }

  /**
   * One load + warm-up + measured completion in a fresh page (wllama's threads and memory go with it). `modelPath`
   * instead of a URL: the local file is picked in the page's file input, as a user's dropped file (a disk-backed
   * File, never read whole into memory first) — how a file too large for a Blob in memory reaches wllama.
   */
  async run(r: Omit<WllamaBenchRequest, 'wasmUrl'> & { modelPath?: string }): Promise<WllamaBenchResult> {
    const page = await this.session.openPage(`${this.baseUrl}index.html`);
    // With llama.cpp's log on (verbose), its error lines explain a failure that wllama reports only as a broken
    // reply: they are added to the error.
    const said: string[] = [];
    if (r.verbose) page.on('console', (m) => (/error|fail|insufficient|unable/i.test(m.text()) && !/^\s*at |ggml_webgpu/.test(m.text()) ? said.push(m.text().split('\n')[0]!) : 0));
    try {
      await page.waitForFunction(() => typeof window.wllamaBench === 'function', undefined, { timeout: 30_000 });
      if (r.modelPath) await page.setInputFiles('#model', r.modelPath);
      delete r.modelPath;
      return await page.evaluate((req) => window.wllamaBench(req), { ...r, wasmUrl: `${this.baseUrl}wllama.wasm` });
    } catch (e) {
      if (said.length === 0) throw e;
      throw new Error(`${said.slice(0, 4).join(' · ')} (wllama: ${((e as Error).message ?? String(e)).split('\n')[0]})`);
    } finally {
      await page.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
