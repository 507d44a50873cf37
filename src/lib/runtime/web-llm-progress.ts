/**
 * web-llm reports loading as free text plus a fraction (`initProgressCallback({ progress, timeElapsed, text })`).
 * These are the sentences its sources write (web-llm 0.2.86, lib/index.js: the TVM runtime's fetchTensorCache and
 * shader compilation, and MLCEngine.reload), parsed into EngineProgress:
 *
 *   "Start to fetch params"
 *   "Fetching param cache[3/20]: 120MB fetched. 40% completed, 5 secs elapsed. It can take a while …"
 *   "Loading model from cache[3/20]: 120MB loaded. 40% completed, 5 secs elapsed."
 *   "Loading GPU shader modules[10/50]: 20% completed, 3 secs elapsed."
 *   "Finish loading on WebGPU - <adapter>"
 *
 * Text in another shape (a later web-llm) still gives an event: phase 'loading' with the reported fraction.
 */
import type { EngineProgress } from './engine.ts';

export interface WebLlmProgressReport {
  progress: number;
  timeElapsed: number;
  text: string;
}

const MiB = 1024 * 1024;
const SHARDS = /^(Fetching param cache|Loading model from cache)\[(\d+)\/(\d+)\]:\s*(\d+)MB (?:fetched|loaded)\.\s*(\d+)% completed,\s*(\d+) secs elapsed/;
const SHADERS = /^Loading GPU shader modules\[(\d+)\/(\d+)\]:\s*(\d+)% completed,\s*(\d+) secs elapsed/;
const FINISHED = /^Finish loading on (.+)$/;

const clamp01 = (x: number): number | undefined => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : undefined);

export function mapWebLlmProgress(report: WebLlmProgressReport): EngineProgress {
  const text = report.text.trim();
  const elapsed = Number.isFinite(report.timeElapsed) ? { elapsedSeconds: report.timeElapsed } : {};
  const reported = clamp01(report.progress);
  const fraction = reported !== undefined ? { fraction: reported } : {};

  const shards = SHARDS.exec(text);
  if (shards) {
    const [, what, done, total, mb, percent, secs] = shards;
    return {
      phase: what === 'Fetching param cache' ? 'fetching' : 'loading',
      fraction: reported ?? Number(percent) / 100,
      done: Number(done),
      total: Number(total),
      // web-llm rounds the megabytes up; the fraction is exact.
      loadedBytes: Number(mb) * MiB,
      elapsedSeconds: Number(secs),
      text,
    };
  }
  const shaders = SHADERS.exec(text);
  if (shaders) {
    const [, done, total, percent, secs] = shaders;
    return { phase: 'compiling', fraction: reported ?? Number(percent) / 100, done: Number(done), total: Number(total), elapsedSeconds: Number(secs), text };
  }
  if (text === 'Start to fetch params') return { phase: 'fetching', fraction: 0, ...elapsed, text };
  if (FINISHED.test(text)) return { phase: 'ready', fraction: 1, ...elapsed, text };
  return { phase: 'loading', ...fraction, ...elapsed, text };
}
