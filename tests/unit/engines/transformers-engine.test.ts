import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { TransformersEngine, mapTransformersProgress, type TransformersImport } from '../../../src/lib/engines/transformers-engine.ts';
import type { EngineProgress } from '../../../src/lib/engines/engine.ts';
import { hubFiles } from '../../support/prebuilt-repos.ts';
import { startRangeServer, type RangeServer } from '../../support/range-server.ts';
import { tinyOnnxRepo } from '../../support/tiny-onnx-model.ts';

// The real library in Node (onnxruntime-node ships its Linux/macOS binaries in the package). In Node it hands the
// model to ONNX Runtime by path, through its file cache: a fresh temporary folder per run.
const cacheDir = mkdtempSync(join(tmpdir(), 'rbee-transformers-'));
const realLibrary: TransformersImport = async () => {
  const lib = await import('@huggingface/transformers');
  lib.env.cacheDir = cacheDir;
  return lib;
};

describe('transformers.js adapter, real library, tiny ONNX model on a local hub', () => {
  let hub: RangeServer;
  beforeAll(async () => {
    hub = await startRangeServer(hubFiles({ 'tests/tiny-bigram': tinyOnnxRepo() }));
  });
  afterAll(async () => {
    await hub.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const location = () => ({
    hubBase: hub.url,
    repo: 'tests/tiny-bigram',
    revision: 'main',
    modelPath: 'onnx/model.onnx',
    dtype: 'fp32',
    externalDataFiles: 0,
    requiredFeatures: [],
  });

  it('loads with structured progress and streams a greedy continuation', async () => {
    const engine = new TransformersEngine(location(), { forceDevice: 'cpu', import: realLibrary });
    const events: EngineProgress[] = [];
    const info = await engine.load({ onProgress: (p) => events.push(p) });
    expect(info).toMatchObject({ engine: 'transformers.js', name: 'tests/tiny-bigram', contextLength: 64 });
    expect(events.at(-1)).toMatchObject({ phase: 'ready', fraction: 1 });
    expect(events.some((e) => e.phase === 'fetching' && e.file === 'onnx/model.onnx')).toBe(true);
    const pieces: string[] = [];
    const r = await engine.generate({ prompt: 'the', maxTokens: 10, temperature: 0 }, { onText: (t) => pieces.push(t) });
    expect(r.text.trim().split(/\s+/)).toEqual(['cat', 'sat', 'on', 'mat']);
    expect(pieces.join('')).toBe(r.text);
    expect(r.stopReason).toBe('stop-token');
    await engine.unload();
  });
});
