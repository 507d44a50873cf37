/**
 * The browser side of the CLI's harness: a blank page that runs jobs (load a model, run generations) through the
 * same InferenceClient and inference worker as the app, and hands plain JSON results back to Node (Playwright's
 * page.evaluate). Events (progress, tokens) go to Node through `rbeeHarnessEvent` when the CLI asked for a stream.
 */
import { check } from '../../lib/compat/check.ts';
import { probeDeviceCaps } from '../../lib/compat/device-caps.ts';
import { WasmEngine } from '../../lib/runtime/wasm-engine.ts';
import { InferenceClient } from '../../lib/runtime/inference-client.ts';
import { inspectRef, knownModel } from '../../lib/model/resolve.ts';
import type {
  GenerateRequestOptions,
  GenerationResult,
  LoadedModelInfo,
  ModelToLoad,
  ScoreRequestOptions,
  ScoreResult,
  SerializedError,
} from '../../lib/engine/worker-protocol.ts';
import type { DecodeProfile } from '../../lib/engine/decode-profile.ts';

/** The engines the harness runs: rbee-web's WebGPU engine (the inference worker) or llama.cpp's WebAssembly build. */
export type HarnessEngine = 'webgpu' | 'wasm';

export interface HarnessJob {
  model: ModelToLoad;
  contextLength?: number;
  generations: GenerateRequestOptions[];
  /**
   * 'auto': what the app would choose on this browser's adapter (check(): a software adapter → wasm for GGUF), as
   * `rbee-web generate` does without --engine. Default 'webgpu': a job that names no engine measures rbee-web's own
   * engine, as every job did before the CPU engine existed (parity tests and benchmarks still name it).
   */
  engine?: HarnessEngine | 'auto';
  /** The CPU engine's threads (default 1: the harness page is not cross-origin isolated). */
  threads?: number;
  /** Scorings (teacher-forced log-probabilities), run after the generations (WebGPU engine only). */
  scores?: ScoreRequestOptions[];
  /** The engine's decode profile (`steps` decode steps after what the generations left in the cache; WebGPU only). */
  profile?: { steps: number };
}

export type HarnessJobResult =
  | {
      engine: HarnessEngine;
      model: LoadedModelInfo;
      results: (GenerationResult | { error: SerializedError })[];
      scores?: (ScoreResult | { error: SerializedError })[];
      profile?: DecodeProfile | { error: SerializedError };
      peakHeapBytes?: number;
    }
  | { error: SerializedError };

export type HarnessEvent =
  | { type: 'progress'; job: number; bytesUploaded: number; totalBytes: number; tensorsUploaded: number; totalTensors: number }
  | { type: 'token'; job: number; generation: number; token: number; text: string };

export interface HarnessApi {
  run(jobs: HarnessJob[], options: { stream: boolean }): Promise<HarnessJobResult[]>;
  /** Buffer-to-buffer copy bandwidth of this adapter, bytes read + written per second (for the roofline). */
  copyBandwidth(bytes: number, repeats: number): Promise<number>;
}

declare global {
  interface Window {
    rbeeHarness: HarnessApi;
    rbeeHarnessEvent?: (event: HarnessEvent) => Promise<void>;
  }
}

function serialise(e: unknown): SerializedError {
  const x = e as { code?: string; message?: string; hint?: string };
  return { code: (x.code ?? 'internal') as SerializedError['code'], message: x.message ?? String(e), ...(x.hint ? { hint: x.hint } : {}) };
}

/** Main-thread heap of this page, where Chromium reports it (performance.memory), sampled during a load. */
function heapSampler(): { stop(): number | undefined } {
  const memory = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
  if (!memory) return { stop: () => undefined };
  let peak = memory.usedJSHeapSize;
  const timer = setInterval(() => (peak = Math.max(peak, memory.usedJSHeapSize)), 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, memory.usedJSHeapSize);
    },
  };
}

/**
 * The engine the app would pick for this model on this browser's adapter (the verdict's, WebGPU otherwise), and the
 * model with its header handed on, as the chat page does (read once).
 */
async function appEngine(model: ModelToLoad): Promise<{ engine: HarnessEngine; model: ModelToLoad }> {
  const [caps, result] = await Promise.all([probeDeviceCaps(), inspectRef(model.model, model.reach)]);
  return { engine: check(result.descriptor, caps).engine === 'wasm' ? 'wasm' : 'webgpu', model: { ...model, known: knownModel(result) } };
}

/** One job on the CPU engine: the same request and result shapes as the worker's. */
async function runOnWasm(job: HarnessJob, j: number, emit: (e: HarnessEvent) => void): Promise<HarnessJobResult> {
  const engine = new WasmEngine(job.model, { wasmUrl: new URL('./wllama/wllama.wasm', location.href).href, threads: { threads: job.threads ?? 1 } });
  try {
    const heap = heapSampler();
    await engine.load({
      ...(job.contextLength !== undefined ? { contextLength: job.contextLength } : {}),
      onProgress: (p) => emit({ type: 'progress', job: j, bytesUploaded: p.loadedBytes ?? 0, totalBytes: p.totalBytes ?? 0, tensorsUploaded: 0, totalTensors: 0 }),
    });
    const peakHeapBytes = heap.stop();
    const results: (GenerationResult | { error: SerializedError })[] = [];
    for (const [g, request] of job.generations.entries()) {
      try {
        results.push(await engine.run(request, { onStep: (s) => emit({ type: 'token', job: j, generation: g, token: s.token, text: s.text }) }));
      } catch (e) {
        results.push({ error: serialise(e) });
      }
    }
    // Scoring and the decode profile are the WebGPU worker's requests: said per request, not silently skipped.
    const webgpuOnly = (what: string): { error: SerializedError } => ({
      error: { code: 'bad-value', message: `${what} runs on the WebGPU engine only.`, hint: "Run the job with engine: 'webgpu'." },
    });
    return {
      engine: 'wasm',
      model: engine.modelInfo!,
      results,
      ...(job.scores ? { scores: job.scores.map(() => webgpuOnly('Scoring')) } : {}),
      ...(job.profile ? { profile: webgpuOnly('The decode profile') } : {}),
      ...(peakHeapBytes !== undefined ? { peakHeapBytes } : {}),
    };
  } catch (e) {
    return { error: serialise(e) };
  } finally {
    await engine.unload();
  }
}

window.rbeeHarness = {
  async run(jobs, { stream }) {
    const emit = (e: HarnessEvent) => (stream ? void window.rbeeHarnessEvent?.(e) : undefined);
    const client = InferenceClient.create({
      createWorker: () => new Worker(new URL('./inference.worker.js', location.href), { type: 'module', name: 'rbee-inference' }),
    });
    const out: HarnessJobResult[] = [];
    try {
      for (const [j, given] of jobs.entries()) {
        let engine: HarnessEngine;
        let job = given;
        try {
          if (given.engine === 'auto') {
            const chosen = await appEngine(given.model);
            engine = chosen.engine;
            job = { ...given, model: chosen.model };
          } else engine = given.engine ?? 'webgpu';
        } catch (e) {
          out.push({ error: serialise(e) });
          continue;
        }
        if (engine === 'wasm') {
          out.push(await runOnWasm(job, j, emit));
          continue;
        }
        const heap = heapSampler();
        let model: LoadedModelInfo;
        try {
          model = await client.load(job.model, {
            ...(job.contextLength !== undefined ? { contextLength: job.contextLength } : {}),
            onProgress: (p) => emit({ type: 'progress', job: j, ...p }),
          });
        } catch (e) {
          heap.stop();
          out.push({ error: serialise(e) });
          continue;
        }
        const peakHeapBytes = heap.stop();
        const results: (GenerationResult | { error: SerializedError })[] = [];
        for (const [g, request] of job.generations.entries()) {
          try {
            results.push(await client.generate(request, { onToken: (s) => emit({ type: 'token', job: j, generation: g, token: s.token, text: s.text }) }));
          } catch (e) {
            results.push({ error: serialise(e) });
          }
        }
        const scores: (ScoreResult | { error: SerializedError })[] = [];
        for (const request of job.scores ?? []) {
          try {
            scores.push(await client.score(request));
          } catch (e) {
            scores.push({ error: serialise(e) });
          }
        }
        let profile: DecodeProfile | { error: SerializedError } | undefined;
        if (job.profile) profile = await client.profileDecode(job.profile.steps).catch((e: unknown) => ({ error: serialise(e) }));
        out.push({
          engine: 'webgpu',
          model,
          results,
          ...(job.scores ? { scores } : {}),
          ...(profile ? { profile } : {}),
          ...(peakHeapBytes !== undefined ? { peakHeapBytes } : {}),
        });
      }
    } finally {
      client.terminate();
    }
    return out;
  },

  async copyBandwidth(bytes, repeats) {
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter');
    const device = await adapter.requestDevice({
      requiredLimits: { maxBufferSize: Math.min(adapter.limits.maxBufferSize, bytes), maxStorageBufferBindingSize: Math.min(adapter.limits.maxStorageBufferBindingSize, bytes) },
    });
    const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE;
    const a = device.createBuffer({ size: bytes, usage });
    const b = device.createBuffer({ size: bytes, usage });
    const run = async (n: number) => {
      const enc = device.createCommandEncoder();
      for (let i = 0; i < n; i++) enc.copyBufferToBuffer(i % 2 ? b : a, 0, i % 2 ? a : b, 0, bytes);
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
    };
    await run(2); // warm-up: first touches allocate
    const t0 = performance.now();
    await run(repeats);
    const seconds = (performance.now() - t0) / 1000;
    a.destroy();
    b.destroy();
    device.destroy();
    return (2 * bytes * repeats) / seconds;
  },
};
