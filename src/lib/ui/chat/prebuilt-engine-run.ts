/**
 * The chat page's path for models that run through the ChatEngine interface rather than rbee-web's WebGPU worker:
 * prebuilt browser models — MLC builds (web-llm) and ONNX exports (transformers.js) —, GGUF on the CPU (llama.cpp's
 * WebAssembly build, where WebGPU is missing or software, or when picked) and GGUF on the companion when the user picked
 * it. This module decides when that path applies, starts the engine the verdict names, and turns its structured load
 * progress into what the progress bar shows.
 */
import { loadCompanionSettings } from '../../companion/pairing.ts';
import type { EngineProgress, ChatEngine, EngineModelInfo } from '../../runtime/engine.ts';
import { createEngine, routeModel, type EngineTarget } from '../../runtime/routing.ts';
import { RbeeError, toRbeeError } from '../../errors.ts';
import type { ModelToLoad } from '../../engine/worker-protocol.ts';
import type { OpenedModel } from '../open-model.ts';
import { companionPrompt } from './native-run.ts';

export type PrebuiltEngineKind = 'web-llm' | 'transformers.js' | 'wasm' | 'companion';

/** What the chat shows as the engine's name. */
export const ENGINE_LABELS: Readonly<Record<PrebuiltEngineKind, string>> = {
  'web-llm': 'web-llm',
  'transformers.js': 'transformers.js',
  wasm: 'CPU (WebAssembly, llama.cpp)',
  companion: 'the companion',
};

/**
 * The engine the verdict chose when it is not the page's own WebGPU path: web-llm, transformers.js, the CPU engine, or
 * the companion when the user picked it (`picked`). Undefined: the WebGPU worker runs the model.
 */
export function prebuiltEngineOf(opened: Pick<OpenedModel, 'verdict' | 'result'>, picked?: string): PrebuiltEngineKind | undefined {
  const engine = opened.verdict.engine;
  const format = opened.result.descriptor.format;
  if (engine === 'web-llm' || engine === 'transformers.js' || engine === 'wasm') return engine;
  if (engine === 'companion' && picked === 'companion' && opened.verdict.runs !== false) return 'companion';
  // A verdict that says "does not run" still names no engine; MLC/ONNX must not fall through to the GGUF worker.
  if (format === 'mlc' || format === 'onnx') return format === 'mlc' ? 'web-llm' : 'transformers.js';
  return undefined;
}

export interface StartedEngine {
  engine: ChatEngine;
  info: EngineModelInfo;
}

/** Routes the opened model (throws the verdict's reason when it cannot run), builds the adapter and loads it. */
export async function startPrebuiltEngine(
  opened: Pick<OpenedModel, 'verdict' | 'result'>,
  hubBase: string,
  onProgress: (p: EngineProgress) => void,
  signal?: AbortSignal,
  /** What the page opened (GGUF on the CPU engine reads it where it is: the cache, a dropped file, a URL). */
  model?: ModelToLoad,
  /** The context to allocate (`&ctx=`), where the engine lets us choose. */
  contextLength?: number,
): Promise<StartedEngine> {
  let target: EngineTarget;
  if (opened.verdict.engine === 'wasm' && model) {
    target = { engine: 'wasm', model };
  } else if (opened.verdict.engine === 'companion') {
    const endpoint = loadCompanionSettings();
    if (!endpoint) throw new RbeeError('companion', 'You picked the companion, and none is paired.', { hint: 'Start `rbee-web companion` and pair it in Settings, or pick another engine.' });
    target = { engine: 'companion', endpoint };
  } else {
    target = routeModel(opened.result, opened.verdict, { hubBase });
  }
  if (target.engine === 'webgpu') {
    throw new RbeeError('internal', `${opened.result.descriptor.name} runs on the WebGPU worker, not through this path.`);
  }
  const engine = await createEngine(target, { renderChat: companionPrompt });
  try {
    const info = await engine.load({ onProgress, ...(signal ? { signal } : {}), ...(contextLength !== undefined ? { contextLength } : {}) });
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
