/**
 * From "what was opened and what the verdict says" to the engine that runs it:
 *
 *   GGUF, SafeTensors      → rbee-web's WebGPU engine (the inference worker)
 *   verdict says wasm      → llama.cpp's WebAssembly build on the CPU (GGUF where WebGPU is missing or software)
 *   MLC build              → web-llm
 *   ONNX export            → transformers.js (WebGPU, WASM fallback)
 *   verdict says companion → the companion (a native rbee worker)
 *
 * routeModel() is pure (the unit tests check it); createEngine() builds the adapter, importing the big libraries
 * only for the engine chosen.
 */
import type { CompanionEndpoint } from '../companion/client.ts';
import type { Verdict } from '../compat/verdict.ts';
import { RbeeError } from '../errors.ts';
import type { ModelToLoad } from '../engine/worker-protocol.ts';
import { DEFAULT_HUB } from '../hub/hf.ts';
import type { InspectResult } from '../model/inspect.ts';
import { knownModel } from '../model/resolve.ts';
import type { ChatEngine } from './engine.ts';
import type { OnnxExportLocation } from './transformers-options.ts';
import type { MlcBuildLocation } from './web-llm-records.ts';

export type EngineTarget =
  | { engine: 'webgpu'; model: ModelToLoad }
  | { engine: 'wasm'; model: ModelToLoad }
  | { engine: 'web-llm'; build: MlcBuildLocation }
  | { engine: 'transformers.js'; location: OnnxExportLocation }
  | { engine: 'companion'; endpoint: CompanionEndpoint };

export interface RouteOptions {
  hubBase?: string;
  token?: string;
  /** The paired companion, when there is one. */
  companion?: CompanionEndpoint;
  /** The files the user dropped, when the model came from them. */
  files?: File[];
}

export function routeModel(result: InspectResult, verdict: Verdict, opts: RouteOptions = {}): EngineTarget {
  const d = result.descriptor;
  if (!verdict.runs) {
    throw new RbeeError('unsupported-weight-type', `${d.name} does not run here: ${verdict.reasons.join(' ') || 'no engine runs it'}`, {
      ...(verdict.recommendations[0] ? { hint: verdict.recommendations[0] } : {}),
    });
  }
  if (verdict.engine === 'companion') {
    if (!opts.companion) {
      throw new RbeeError('companion', `${d.name} runs on the companion, and none is paired.`, { hint: 'Start `rbee-web companion` and pair it in Settings.' });
    }
    return { engine: 'companion', endpoint: opts.companion };
  }
  const hubBase = opts.hubBase ?? DEFAULT_HUB;
  const candidate = result.candidates[result.chosen];
  const token = opts.token ? { token: opts.token } : {};

  if (d.format === 'mlc' || d.format === 'onnx') {
    const prebuilt = d.prebuilt;
    if (!result.hf || !prebuilt || !candidate) {
      throw new RbeeError('unknown-format', `${d.name}: ${d.format === 'mlc' ? 'web-llm' : 'transformers.js'} loads ${d.format.toUpperCase()} models from a Hugging Face repository, not from dropped files or a single URL.`, {
        hint: 'Open the model by its repository name (owner/name).',
      });
    }
    if (d.format === 'mlc') {
      const lib = candidate.files.find((p) => p.endsWith('.wasm'));
      return {
        engine: 'web-llm',
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
      engine: 'transformers.js',
      location: {
        hubBase,
        repo: result.hf.repo,
        revision: result.hf.revision,
        modelPath: prebuilt.primary,
        dtype: prebuilt.quantization,
        externalDataFiles: candidate.files.filter((p) => p.startsWith(`${prebuilt.primary}_data`)).length,
        requiredFeatures: prebuilt.requiredFeatures,
        ...token,
      },
    };
  }

  // GGUF / SafeTensors: rbee-web's own engine — or, where the verdict says so, llama.cpp's WebAssembly build — reading
  // the file where it is.
  const engine = verdict.engine === 'wasm' ? 'wasm' : 'webgpu';
  const known = knownModel(result);
  if (result.hf) {
    const path = candidate?.primary ?? d.files[0]?.location.split('/').pop() ?? '';
    const rev = result.hf.revision === 'main' ? '' : `@${result.hf.revision}`;
    return { engine, model: { model: { kind: 'remote', source: `${result.hf.repo}${rev}/${path}` }, reach: { hubBase, ...token }, known } };
  }
  if (opts.files && opts.files.length > 0) return { engine, model: { model: { kind: 'local', id: 'files' }, reach: { files: opts.files }, known } };
  if (/^https?:\/\//i.test(result.input)) return { engine, model: { model: { kind: 'remote', source: result.input }, reach: { hubBase }, known } };
  throw new RbeeError('not-found', `rbee-web does not know where to read ${d.name} from again.`, { hint: 'Open the model by URL, repository or file.' });
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

export async function createEngine(target: EngineTarget, opts: EngineFactoryOptions = {}): Promise<ChatEngine> {
  switch (target.engine) {
    case 'webgpu': {
      const { WebGpuEngine } = await import('./webgpu-engine.ts');
      const create = opts.createInferenceClient ?? (async () => (await import('./inference-client.ts')).InferenceClient.create());
      return new WebGpuEngine(target.model, create);
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
