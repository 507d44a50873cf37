/**
 * Runs inference jobs in headless Chromium through the app's own worker: bundles the harness page and the
 * inference worker (esbuild, ~1 s), serves them and any local model folders from a 127.0.0.1 server with Range,
 * starts Chromium with WebGPU (chromium.js: $CHROMIUM_PATH, /usr/bin/chromium, or Playwright's),
 * runs every job in one page and returns the results — on the WebGPU worker or on the CPU engine (llama.cpp's
 * WebAssembly build), per job. Used by `rbee-web generate`, the parity tests and the bench.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RbeeError } from '../../lib/errors.ts';
import type { HarnessEvent, HarnessJob, HarnessJobResult } from './harness-page.ts';
import { startHarnessServer, type HarnessServer } from './harness-server.ts';
import { wllamaWasmPath } from '../../lib/runtime/wasm-runtime-files.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '../../..');

export interface BrowserSession {
  /** URL prefix under which the files of local folder `dir` are served. */
  serveFolder(dir: string): string;
  run(jobs: HarnessJob[], options?: { onEvent?: (e: HarnessEvent) => void }): Promise<HarnessJobResult[]>;
  copyBandwidth(bytes?: number, repeats?: number): Promise<number>;
  /**
   * Samples the JS heap of the page's workers (the inference worker: where weights pass on their way to the GPU)
   * every ~50 ms through the DevTools protocol, until stop(): the peak of used heap + ArrayBuffer backing stores.
   */
  sampleWorkerHeap(): { stop(): Promise<number> };
  /**
   * Opens another page of the same browser at `url`, e.g. a benchmark page bundled into a folder given to
   * serveFolder: the same origin as the harness, so the same isolation headers and the same model URLs.
   */
  openPage(url: string): Promise<import('playwright').Page>;
  /** Whether the pages are cross-origin isolated (openBrowserSession's option, as the page itself reports it). */
  readonly crossOriginIsolated: boolean;
  /** Chromium's console output (errors from the page and the worker), for diagnostics. */
  readonly console: string[];
  close(): Promise<void>;
}

async function bundle(outDir: string): Promise<void> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (e) {
    throw new RbeeError('internal', 'esbuild (installed with tsx) is missing: cannot bundle the inference worker.', {
      hint: 'Run npm install in the repository.',
      cause: e,
    });
  }
  await esbuild.build({
    entryPoints: {
      'harness-page': join(HERE, 'harness-page.ts'),
      'inference.worker': join(REPO_ROOT, 'src/workers/inference.worker.ts'),
    },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  // llama.cpp's WebAssembly build for jobs on the CPU engine, at the path the app serves it from.
  await mkdir(join(outDir, 'wllama'), { recursive: true });
  await copyFile(wllamaWasmPath(REPO_ROOT), join(outDir, 'wllama', 'wllama.wasm'));
  await writeFile(
    join(outDir, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>rbee-web harness</title><script type="module" src="./harness-page.js"></script>\n',
  );
}

export interface BrowserSessionOptions {
  /** Serve every page with COOP/COEP (harness-server.ts): SharedArrayBuffer and WebAssembly threads in the pages. */
  crossOriginIsolated?: boolean;
}

export async function openBrowserSession(options: BrowserSessionOptions = {}): Promise<BrowserSession> {
  const dir = await mkdtemp(join(tmpdir(), 'rbee-harness-'));
  let server: HarnessServer | undefined;
  let browser: import('playwright').Browser | undefined;
  try {
    await bundle(dir);
    server = await startHarnessServer(dir, { crossOriginIsolated: options.crossOriginIsolated ?? false });
    const { chromium } = await import('playwright');
    const { chromiumArgs, chromiumPath } = (await import('./chromium.js')) as {
      chromiumArgs: string[];
      chromiumPath: () => string | undefined;
    };
    const executablePath = chromiumPath();
    try {
      browser = await chromium.launch({ headless: true, args: chromiumArgs, ...(executablePath ? { executablePath } : {}) });
    } catch (e) {
      throw new RbeeError('no-webgpu', `Could not start Chromium: ${(e as Error).message.split('\n')[0]}`, {
        hint: 'Install Chromium (apt-get install chromium) or set CHROMIUM_PATH to a Chromium binary.',
        cause: e,
      });
    }
    const page = await browser.newPage();
    const consoleLines: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
    let onEvent: ((e: HarnessEvent) => void) | undefined;
    await page.exposeFunction('rbeeHarnessEvent', (e: HarnessEvent) => onEvent?.(e));
    await page.goto(`${server.url}/index.html`);
    await page.waitForFunction(() => 'rbeeHarness' in window, undefined, { timeout: 30_000 });
    const isolated = await page.evaluate(() => self.crossOriginIsolated);
    const s = server;
    const b = browser;
    return {
      console: consoleLines,
      crossOriginIsolated: isolated,
      async openPage(url) {
        const p = await b.newPage();
        p.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
        await p.goto(url);
        return p;
      },
      serveFolder: (folder) => s.addModelFolder(folder),
      async run(jobs, options = {}) {
        onEvent = options.onEvent;
        try {
          // As JSON text: jobs from Node never hold Files (local models are served over HTTP instead).
          return await page.evaluate(([j, stream]) => window.rbeeHarness.run(JSON.parse(j) as HarnessJob[], { stream }), [
            JSON.stringify(jobs),
            options.onEvent !== undefined,
          ] as const);
        } finally {
          onEvent = undefined;
        }
      },
      sampleWorkerHeap: () => workerHeapSampler(b),
      copyBandwidth: (bytes = 256 << 20, repeats = 8) => page.evaluate(([n, r]) => window.rbeeHarness.copyBandwidth(n, r), [bytes, repeats] as const),
      async close() {
        await b.close().catch(() => undefined);
        await s.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await browser?.close().catch(() => undefined);
    await server?.close();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

interface HeapUsage {
  usedSize: number;
  backingStorageSize?: number;
}

function workerHeapSampler(browser: import('playwright').Browser): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const done = (async () => {
    const cdp = await browser.newBrowserCDPSession();
    // Workers are reached through the browser session's (non-flat) target messages: Playwright's CDPSession
    // speaks to pages only.
    const sessions = new Map<string, string>();
    const pending = new Map<number, (v: HeapUsage | undefined) => void>();
    let nextId = 0;
    cdp.on('Target.receivedMessageFromTarget', (e: { message: string }) => {
      const m = JSON.parse(e.message) as { id?: number; result?: HeapUsage };
      if (m.id !== undefined) pending.get(m.id)?.(m.result);
    });
    const ask = (sessionId: string): Promise<HeapUsage | undefined> =>
      new Promise((resolve) => {
        const id = ++nextId;
        pending.set(id, resolve);
        cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method: 'Runtime.getHeapUsage' }) }).catch(() => resolve(undefined));
        setTimeout(() => resolve(undefined), 1000);
      });
    try {
      while (running) {
        const { targetInfos } = await cdp.send('Target.getTargets');
        for (const t of targetInfos) {
          if (t.type !== 'worker' || sessions.has(t.targetId)) continue;
          try {
            const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: t.targetId, flatten: false });
            sessions.set(t.targetId, sessionId);
          } catch {
            // the worker ended between listing and attaching
          }
        }
        for (const sessionId of sessions.values()) {
          const usage = await ask(sessionId);
          if (usage) peak = Math.max(peak, usage.usedSize + (usage.backingStorageSize ?? 0));
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await cdp.detach().catch(() => undefined);
    }
  })();
  return {
    async stop() {
      running = false;
      await done.catch(() => undefined);
      return peak;
    },
  };
}
