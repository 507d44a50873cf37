/**
 * From "what was opened and what the verdict says" to the engine that runs it — the chat page's one path:
 *
 *   MLC build              → web-llm
 *   ONNX export            → transformers.js (WebGPU, WASM fallback)
 *   verdict says wasm      → llama.cpp's WebAssembly build on the CPU (GGUF where WebGPU is missing or software)
 *   companion picked       → the companion (a native rbee worker), when the verdict says it runs
 *   GGUF, SafeTensors      → rbee-web's WebGPU engine (the inference worker)
 *
 * engineKindFor() names the engine, blockedBy() says why it cannot run this model here (the verdict's reasons as the
 * error the chat shows), routeModel() is both plus where the engine reads the model; all three are pure (the unit
 * tests check them). createEngine() builds the adapter, importing the big libraries only for the engine chosen.
 */
import type { CompanionEndpoint } from '../companion/client.ts';
import { formatBytes } from '../quantities.ts';
import { matrixCell } from '../compat/matrix.ts';
import { isRunnable, type Verdict } from '../compat/verdict.ts';
import { RbeeError } from '../errors.ts';
import type { ModelToLoad } from '../engine/worker-protocol.ts';
import type { ModelDescriptor } from '../formats/descriptor.ts';
import { DEFAULT_HUB } from '../hub/hf.ts';
import type { InspectResult } from '../model/inspect.ts';
import type { ChatEngine, EngineKind } from './engine.ts';
import type { OnnxExportLocation } from './transformers-options.ts';
import type { MlcBuildLocation } from './web-llm-records.ts';

export type EngineRoute =
  | { engine: 'webgpu'; model: ModelToLoad }
  | { engine: 'wasm'; model: ModelToLoad }
  | { engine: 'web-llm'; build: MlcBuildLocation }
  | { engine: 'transformers.js'; location: OnnxExportLocation }
  | { engine: 'companion'; endpoint: CompanionEndpoint };

export interface RouteOptions {
  hubBase?: string;
  token?: string;
  /** The engine the user picked (`&engine=`, Settings); the companion runs only when picked. */
  picked?: string;
  /** The paired companion, when there is one. */
  companion?: CompanionEndpoint;
  /** Where the WebGPU and CPU engines read a GGUF / SafeTensors model: what the page opened (the cache, files, a URL). */
  model?: ModelToLoad;
}

/**
 * The engine that runs the chat. MLC builds and ONNX exports have one engine each, even when the verdict says they do
 * not run (so the reason is theirs, and they never fall through to the GGUF worker); GGUF goes to the CPU engine where
 * the verdict names it, to the companion when the user picked it and it runs, else to rbee-web's WebGPU engine.
 */
export function engineKindFor(format: ModelDescriptor['format'], verdict: Pick<Verdict, 'engine' | 'runs'>, picked?: string): EngineKind {
  if (format === 'mlc') return 'web-llm';
  if (format === 'onnx') return 'transformers.js';
  if (verdict.engine === 'wasm') return 'wasm';
  if (verdict.engine === 'companion' && picked === 'companion' && verdict.runs) return 'companion';
  return 'webgpu';
}

/** Why `engine` cannot run this model here, as the error the chat shows (null: it runs). */
export function blockedBy(engine: EngineKind, v: Verdict, d: ModelDescriptor): RbeeError | null {
  const hint = v.recommendations[0] ? { hint: v.recommendations[0] } : {};
  if (engine === 'webgpu') {
    // rbee-web's engine: its own backend's confidence and the memory estimate, whatever the verdict chose overall.
    const webgpu = v.backends.find((b) => b.backend === 'webgpu');
    if (webgpu && isRunnable(webgpu.confidence)) {
      if (v.memory.fits) return null;
      return new RbeeError('out-of-memory', `This model needs about ${formatBytes(v.memory.totalBytes)} of GPU memory; this device is assumed to offer ${formatBytes(v.memory.budgetBytes)}.`, hint);
    }
    const reason = webgpu?.reasons[0] ?? v.reasons[0] ?? 'This model does not run in this browser.';
    const weightTypeBlocks = d.weightTypes.some((w) => !isRunnable(matrixCell(d.architecture, 'gguf', w.type, 'webgpu').confidence));
    return new RbeeError(d.format === 'gguf' && weightTypeBlocks ? 'unsupported-weight-type' : 'unsupported-architecture', reason, hint);
  }
  if (v.runs) return null;
  // The CPU engine named but over its limits (one file ≤ 2 GiB, 4 GiB of wasm memory): the verdict says which.
  if (engine === 'wasm') return new RbeeError('out-of-memory', v.reasons.join(' '), hint);
  return new RbeeError('unsupported-weight-type', `${d.name} does not run here: ${v.reasons.join(' ') || 'no engine runs it'}`, hint);
}

/** The engine for this model and where it reads it; throws blockedBy's error when it cannot run here. */
export function routeModel(result: InspectResult, verdict: Verdict, opts: RouteOptions = {}): EngineRoute {
  const d = result.descriptor;
  const engine = engineKindFor(d.format, verdict, opts.picked);
  const blocked = blockedBy(engine, verdict, d);
  if (blocked) throw blocked;
  if (engine === 'companion') {
    if (!opts.companion) {
      throw new RbeeError('companion', 'You picked the companion, and none is paired.', { hint: 'Start `rbee-web companion` and pair it in Settings, or pick another engine.' });
    }
    return { engine, endpoint: opts.companion };
  }
  if (engine === 'webgpu' || engine === 'wasm') {
    // GGUF / SafeTensors: read where the page opened it (the download cache, dropped files, a URL, the hub).
    if (!opts.model) throw new RbeeError('internal', `No model input was given for ${d.name} on the ${engine} engine.`);
    return { engine, model: opts.model };
  }
  const hubBase = opts.hubBase ?? DEFAULT_HUB;
  const candidate = result.candidates[result.chosen];
  const prebuilt = d.prebuilt;
  if (!result.hf || !prebuilt || !candidate) {
    throw new RbeeError('unknown-format', `${d.name}: ${engine} loads ${d.format.toUpperCase()} models from a Hugging Face repository, not from dropped files or a single URL.`, {
      hint: 'Open the model by its repository name (owner/name).',
    });
  }
  if (engine === 'web-llm') {
    const lib = candidate.files.find((p) => p.endsWith('.wasm'));
    return {
      engine,
      build: {
        hubBase,
        repo: result.hf.repo,
        revision: result.hf.revision,
        folder: prebuilt.folder,
        ...(lib ? { modelLibPath: lib } : {}),
        requiredFeatures: prebuilt.requiredFeatures,
        ...(d.contextLength !== undefined ? { contextLength: d.contextLength } : {}),
      },
    };
  }
  return {
    engine,
    location: {
      hubBase,
      repo: result.hf.repo,
      revision: result.hf.revision,
      modelPath: prebuilt.primary,
      dtype: prebuilt.quantization,
      externalDataFiles: candidate.files.filter((p) => p.startsWith(`${prebuilt.primary}_data`)).length,
      requiredFeatures: prebuilt.requiredFeatures,
      ...(opts.token ? { token: opts.token } : {}),
    },
  };
}

export interface EngineFactoryOptions {
  /** The WebGPU engine's worker client (the page passes InferenceClient.create). */
  createInferenceClient?: () => import('./inference-client.ts').InferenceClient;
  /** For the companion: renders a conversation with the model's template. */
  renderChat?: ConstructorParameters<typeof import('./companion-engine.ts').CompanionEngine>[1];
  /** transformers.js: the app's URL (ORT's WASM files are under ort/), forced device. */
  transformers?: import('./transformers-engine.ts').TransformersEngineOptions;
  /** The CPU engine: where its wasm is, how many threads. */
  wasm?: import('./wasm-engine.ts').WasmEngineOptions;
}

export async function createEngine(target: EngineRoute, opts: EngineFactoryOptions = {}): Promise<ChatEngine> {
  switch (target.engine) {
    case 'webgpu': {
      const { WebGpuWorkerEngine } = await import('./webgpu-worker-engine.ts');
      const create = opts.createInferenceClient ?? (async () => (await import('./inference-client.ts')).InferenceClient.create());
      return new WebGpuWorkerEngine(target.model, create);
    }
    case 'wasm': {
      const { WasmEngine } = await import('./wasm-engine.ts');
      return new WasmEngine(target.model, opts.wasm);
    }
    case 'companion': {
      const { CompanionEngine } = await import('./companion-engine.ts');
      return new CompanionEngine(target.endpoint, opts.renderChat);
    }
    case 'web-llm': {
      const [{ WebLlmEngine }, { buildMlcRecord }, lib] = await Promise.all([
        import('./web-llm-engine.ts'),
        import('./web-llm-records.ts'),
        import('@mlc-ai/web-llm'),
      ]);
      return new WebLlmEngine(buildMlcRecord(target.build, lib.prebuiltAppConfig.model_list), async () => lib);
    }
    case 'transformers.js': {
      const { TransformersEngine } = await import('./transformers-engine.ts');
      return new TransformersEngine(target.location, opts.transformers);
    }
  }
}
