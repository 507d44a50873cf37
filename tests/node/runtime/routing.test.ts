import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check } from '../../../src/lib/compat/check.ts';
import { DEFAULT_DESKTOP_CAPS, type DeviceCaps } from '../../../src/lib/compat/device-caps.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { CompanionEngine, plainChatPrompt } from '../../../src/lib/runtime/companion-engine.ts';
import { blockedBy, createEngine, engineKindFor, routeModel } from '../../../src/lib/runtime/routing.ts';
import type { Verdict } from '../../../src/lib/compat/verdict.ts';
import type { InferenceClient } from '../../../src/lib/runtime/inference-client.ts';
import { inspect } from '../../../src/lib/model/inspect.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';
import { hubFiles, mlcRepo, onnxRepo } from '../../support/prebuilt-repos.ts';
import { startRangeServer, type RangeServer } from '../../support/range-server.ts';

const gpu = (shaderF16: boolean): DeviceCaps => ({ ...DEFAULT_DESKTOP_CAPS, assumed: false, features: { shaderF16, subgroups: true } });

describe('routing from the verdict', () => {
  let hub: RangeServer;
  beforeAll(async () => {
    const repos: Record<string, Record<string, Uint8Array>> = {
      'mlc-ai/Llama-3.2-1B-Instruct-q4f16_1-MLC': mlcRepo('q4f16_1'),
      'onnx-community/Qwen2.5-0.5B-Instruct': onnxRepo(),
    };
    if (HAS_FIXTURES) repos['ggml-org/models'] = { 'tinyllamas/stories260K.gguf': readFileSync(fixture('models/stories260K.gguf')) };
    hub = await startRangeServer(hubFiles(repos));
  });
  afterAll(() => hub.close());

  it('an MLC repository goes to web-llm with its build location', async () => {
    const r = await inspect('mlc-ai/Llama-3.2-1B-Instruct-q4f16_1-MLC', { hubBase: hub.url });
    const target = routeModel(r, check(r.descriptor, gpu(true)), { hubBase: hub.url });
    expect(target).toEqual({
      engine: 'web-llm',
      build: { hubBase: hub.url, repo: 'mlc-ai/Llama-3.2-1B-Instruct-q4f16_1-MLC', revision: 'main', folder: '', requiredFeatures: ['shader-f16'], contextLength: 4096 },
    });
    // createEngine builds the record against web-llm's catalogue: the weights from this hub, the library from web-llm's.
    const engine = await createEngine(target);
    expect(engine.kind).toBe('web-llm');
    expect((engine as unknown as { record: { model: string; model_lib: string } }).record.model).toBe(`${hub.url}/mlc-ai/Llama-3.2-1B-Instruct-q4f16_1-MLC/resolve/main/`);
  });

  it('on a GPU without shader-f16 the q4f16 build is refused with the q4f32 build as the hint', async () => {
    const r = await inspect('mlc-ai/Llama-3.2-1B-Instruct-q4f16_1-MLC', { hubBase: hub.url });
    const e = (() => {
      try {
        routeModel(r, check(r.descriptor, gpu(false)));
      } catch (x) {
        return x;
      }
    })();
    expect(isRbeeError(e)).toBe(true);
    expect((e as Error).message).toMatch(/needs the GPU feature shader-f16/);
    expect((e as { hint?: string }).hint).toMatch(/q4f32_1 build/);
  });

  it('an ONNX repository goes to transformers.js with its dtype, file and token', async () => {
    const r = await inspect('onnx-community/Qwen2.5-0.5B-Instruct/onnx/model.onnx', { hubBase: hub.url });
    const target = routeModel(r, check(r.descriptor, gpu(false)), { hubBase: hub.url, token: 'hf_x' });
    expect(target).toEqual({
      engine: 'transformers.js',
      location: {
        hubBase: hub.url,
        repo: 'onnx-community/Qwen2.5-0.5B-Instruct',
        revision: 'main',
        modelPath: 'onnx/model.onnx',
        dtype: 'fp32',
        externalDataFiles: 1,
        requiredFeatures: [],
        token: 'hf_x',
      },
    });
    expect((await createEngine(target)).kind).toBe('transformers.js');
  });

  it.runIf(HAS_FIXTURES)('a GGUF file goes to the WebGPU engine (or the CPU engine the verdict names), read where the page opened it', async () => {
    const r = await inspect('ggml-org/models/tinyllamas/stories260K.gguf', { hubBase: hub.url });
    const model = { model: { kind: 'remote' as const, source: 'ggml-org/models/tinyllamas/stories260K.gguf' }, reach: { hubBase: hub.url } };
    const target = routeModel(r, check(r.descriptor, gpu(true)), { hubBase: hub.url, model });
    expect(target).toEqual({ engine: 'webgpu', model });
    expect((await createEngine(target, { createInferenceClient: () => ({}) as InferenceClient })).kind).toBe('webgpu');
    const noGpu = check(r.descriptor, { ...DEFAULT_DESKTOP_CAPS, assumed: false, available: false });
    expect(noGpu.engine).toBe('wasm');
    expect(routeModel(r, noGpu, { model })).toEqual({ engine: 'wasm', model });
    // The page always says where it opened the file; a route without it is a bug, said as one.
    expect(() => routeModel(r, check(r.descriptor, gpu(true)))).toThrow(/No model input/);
  });

  it.runIf(HAS_FIXTURES)('the companion runs only when picked, and needs a paired one', async () => {
    const r = await inspect('ggml-org/models/tinyllamas/stories260K.gguf', { hubBase: hub.url });
    const verdict: Verdict = { ...check(r.descriptor, gpu(true)), engine: 'companion', runs: true };
    const model = { model: { kind: 'remote' as const, source: 'http://x/stories260K.gguf' } };
    expect(routeModel(r, verdict, { model })).toEqual({ engine: 'webgpu', model });
    expect(() => routeModel(r, verdict, { picked: 'companion', model })).toThrow(/none is paired/);
    expect(routeModel(r, verdict, { picked: 'companion', companion: { url: 'http://127.0.0.1:7855', token: 't' } })).toEqual({
      engine: 'companion',
      endpoint: { url: 'http://127.0.0.1:7855', token: 't' },
    });
    // Picked but not running (none started): the model goes to WebGPU, where it runs.
    expect(routeModel(r, { ...verdict, runs: false }, { picked: 'companion', model })).toEqual({ engine: 'webgpu', model });
  });
});

describe('which engine, and why not', () => {
  const verdict = (engine: Verdict['engine'], runs: boolean) => ({ engine, runs });
  it('MLC and ONNX have one engine each, even when the verdict names none; GGUF follows the verdict and the pick', () => {
    expect(engineKindFor('onnx', verdict('transformers.js', true))).toBe('transformers.js');
    expect(engineKindFor('mlc', verdict('web-llm', true))).toBe('web-llm');
    expect(engineKindFor('mlc', verdict('none', false))).toBe('web-llm');
    expect(engineKindFor('gguf', verdict('webgpu', true))).toBe('webgpu');
    expect(engineKindFor('gguf', verdict('wasm', false))).toBe('wasm');
    expect(engineKindFor('safetensors', verdict('companion', true))).toBe('webgpu');
    expect(engineKindFor('safetensors', verdict('companion', true), 'companion')).toBe('companion');
  });

  it("a build that cannot run here fails with the verdict's reason and recommendation, before any engine is built", () => {
    const v = { engine: 'none', runs: false, reasons: ['This build needs shader-f16.'], recommendations: ['Open the q4f32 build.'], backends: [] } as unknown as Verdict;
    const d = { format: 'mlc', name: 'm.mlc', weightTypes: [] } as unknown as Parameters<typeof blockedBy>[2];
    const e = blockedBy('web-llm', v, d);
    expect(isRbeeError(e)).toBe(true);
    expect(e!.message).toContain('shader-f16');
    expect(e!.hint).toBe('Open the q4f32 build.');
    // The CPU engine over its limits is out of memory, in the verdict's words.
    expect(blockedBy('wasm', { ...v, engine: 'wasm', reasons: ['It does not fit.'] } as Verdict, d)).toMatchObject({ code: 'out-of-memory', message: 'It does not fit.' });
    expect(blockedBy('web-llm', { ...v, runs: true } as Verdict, d)).toBeNull();
  });
});

describe('the companion behind the interface', () => {
  let server: Server;
  let url = '';
  let lastPrompt = '';
  beforeAll(async () => {
    // A worker-protocol server: /v1/info, POST /v1/jobs, the job's SSE stream.
    server = createServer((req, res) => {
      if (req.headers.authorization !== 'Bearer pair') {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unauthorized', message: 'bad token' }));
        return;
      }
      if (req.url === '/v1/info') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ service: 'rbee-web-companion', version: '1', mode: 'llama', model: 'stories260K', backend: 'cpu', context_size: 512, busy: false, tokens_generated: 0 }));
      } else if (req.url === '/v1/jobs' && req.method === 'POST') {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          lastPrompt = (JSON.parse(body) as { prompt: string }).prompt;
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ job_id: 'j1', sse_url: '/v1/jobs/j1/stream' }));
        });
      } else if (req.url === '/v1/jobs/j1/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify({ type: 'started', prompt_tokens: 5, max_tokens: 2 })}\n\n`);
        res.write(`data: ${JSON.stringify({ type: 'token', t: 'Hel', i: 0 })}\n\n`);
        res.write(`data: ${JSON.stringify({ type: 'token', t: 'lo', i: 1 })}\n\n`);
        res.end('data: [DONE]\n\n');
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('load asks what it runs; generate streams its tokens; a bad token is an RbeeError', async () => {
    const engine = new CompanionEngine({ url, token: 'pair' });
    expect(await engine.load()).toMatchObject({ engine: 'companion', name: 'stories260K', device: 'companion cpu', contextLength: 512 });
    const pieces: string[] = [];
    const r = await engine.generate({ messages: [{ role: 'user', content: 'Hi' }], maxTokens: 2, sampling: { temperature: 0 } }, { onText: (t) => pieces.push(t) });
    expect(pieces).toEqual(['Hel', 'lo']);
    expect(r).toMatchObject({ text: 'Hello', tokens: 2, promptTokens: 5, stopReason: 'max-tokens' });
    expect(r.timings).toMatchObject({ promptTokens: 5, generatedTokens: 2 });
    expect(lastPrompt).toBe(plainChatPrompt([{ role: 'user', content: 'Hi' }]));
    const refused = await new CompanionEngine({ url, token: 'wrong' }).load().catch((e) => e);
    expect(isRbeeError(refused) && refused.code).toBe('companion');
  });
});
