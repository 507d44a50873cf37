/**
 * The chat view's engine, whichever it is: what the view calls it, what it is doing while it loads, building and
 * loading it from its route (runtime/routing.ts), and its structured load progress as the progress bar and its line.
 */
import type { ChatEngine, EngineKind, EngineModelInfo, EngineProgress } from '../../runtime/engine.ts';
import { createEngine, type EngineRoute } from '../../runtime/routing.ts';
import { toRbeeError } from '../../errors.ts';
import { companionPrompt } from './native-run.ts';

/** What the chat shows as the engine's name. */
export const ENGINE_LABELS: Readonly<Record<EngineKind, string>> = {
  webgpu: "rbee-web's WebGPU engine",
  'web-llm': 'web-llm',
  'transformers.js': 'transformers.js',
  wasm: 'CPU (WebAssembly, llama.cpp)',
  companion: 'the companion',
};

/** What the loading view says is happening, by engine. */
export function loadingActivity(engine: EngineKind): string {
  switch (engine) {
    case 'webgpu':
      return 'Loading the weights onto the GPU…';
    case 'wasm':
      return "Loading the model for the CPU engine (llama.cpp's WebAssembly build)…";
    case 'companion':
      return 'Asking the companion which model it runs…';
    default:
      return `Starting ${ENGINE_LABELS[engine]} (the first load downloads the model into this browser's cache)…`;
  }
}

export interface StartedEngine {
  engine: ChatEngine;
  info: EngineModelInfo;
}

/** Builds the routed engine and loads it; a failed load leaves nothing behind (the engine is unloaded). */
export async function startChatEngine(
  target: EngineRoute,
  options: { onProgress: (p: EngineProgress) => void; signal?: AbortSignal; contextLength?: number },
): Promise<StartedEngine> {
  const engine = await createEngine(target, { renderChat: companionPrompt });
  try {
    const info = await engine.load({
      onProgress: options.onProgress,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.contextLength !== undefined ? { contextLength: options.contextLength } : {}),
    });
    return { engine, info };
  } catch (e) {
    await engine.unload().catch(() => undefined);
    throw toRbeeError(e);
  }
}

/** 0…100 for the progress bar: the back end's fraction, else bytes, else files/shards counted. */
export function progressPercent(p: EngineProgress | undefined): number {
  if (!p) return 0;
  if (p.phase === 'ready') return 100;
  if (typeof p.fraction === 'number') return Math.min(100, Math.max(0, 100 * p.fraction));
  if (p.totalBytes && p.loadedBytes !== undefined) return Math.min(100, (100 * p.loadedBytes) / p.totalBytes);
  if (p.total && p.done !== undefined) return Math.min(100, (100 * p.done) / p.total);
  return 0;
}

const PHASE_WORDS: Record<EngineProgress['phase'], string> = {
  fetching: 'Downloading',
  loading: 'Loading',
  compiling: 'Compiling shaders',
  ready: 'Ready',
};

/** One line under the bar: the phase, the amounts when known, and the back end's own words. */
export function progressLine(p: EngineProgress | undefined, formatBytes: (n: number) => string): string {
  if (!p) return 'Starting the engine…';
  const parts = [PHASE_WORDS[p.phase]];
  if (p.totalBytes && p.loadedBytes !== undefined) parts.push(`${formatBytes(p.loadedBytes)} of ${formatBytes(p.totalBytes)}`);
  if (p.total && p.done !== undefined) parts.push(`${p.done} of ${p.total}`);
  if (p.file) parts.push(p.file);
  return `${parts.join(' · ')} — ${p.text}`;
}
