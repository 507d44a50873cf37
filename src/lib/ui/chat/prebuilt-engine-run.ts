/**
 * The chat page's path for prebuilt browser models: MLC builds (web-llm) and ONNX exports (transformers.js) run through
 * the ChatEngine interface, not through rbee-web's WebGPU worker. This module decides when that path applies, starts the
 * engine the verdict names, and turns its structured load progress into what the progress bar shows.
 */
import type { EngineProgress, ChatEngine, EngineModelInfo } from '../../engines/engine.ts';
import { createEngine, routeModel } from '../../engines/routing.ts';
import { RbeeError, toRbeeError } from '../../errors.ts';
import type { OpenedModel } from '../open-model.ts';

export type PrebuiltEngineKind = 'web-llm' | 'transformers.js';

/** The prebuilt engine the verdict chose, or undefined when the page's own WebGPU path (or another) runs the model. */
export function prebuiltEngineOf(opened: Pick<OpenedModel, 'verdict' | 'result'>): PrebuiltEngineKind | undefined {
  const engine = opened.verdict.engine;
  const format = opened.result.descriptor.format;
  if (engine === 'web-llm' || engine === 'transformers.js') return engine;
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
): Promise<StartedEngine> {
  const target = routeModel(opened.result, opened.verdict, { hubBase });
  if (target.engine !== 'web-llm' && target.engine !== 'transformers.js') {
    throw new RbeeError('internal', `Expected web-llm or transformers.js for ${opened.result.descriptor.name}, the router chose ${target.engine}.`);
  }
  const engine = await createEngine(target);
  try {
    const info = await engine.load({ onProgress, ...(signal ? { signal } : {}) });
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
