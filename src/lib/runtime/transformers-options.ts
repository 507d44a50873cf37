/**
 * What transformers.js needs to load one ONNX export from a repository, worked out without importing the library
 * (so the CLI and unit tests can check it): the pipeline's model id and options, and the library-wide settings —
 * where the hub is (a custom hub for tests and mirrors), no local-model lookups (a browser has no file system), and
 * ONNX Runtime's WASM files served by this app (ort/ beside the page) rather than from a CDN, so a cached app works
 * offline.
 */
import { RbeeError } from '../errors.ts';
import { ONNX_DTYPE_SUFFIXES } from '../model/prebuilt-candidates.ts';

/** The ONNX Runtime build transformers.js loads in browsers (its default: asyncify, for WebGPU + WASM). */
export const ORT_RUNTIME_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'] as const;
/** The folder the app serves them from (see onnx-runtime-files.ts, the Vite plugin). */
export const ORT_RUNTIME_FOLDER = 'ort/';

export interface OnnxExportLocation {
  hubBase: string;
  repo: string;
  revision: string;
  /** Path of the chosen decoder file, e.g. onnx/model_q4f16.onnx. */
  modelPath: string;
  /** transformers.js dtype of that file ('q4f16', 'q4', 'fp32', …). */
  dtype: string;
  /** External data files of that model (onnx/model.onnx_data, …_data_1): how many there are. */
  externalDataFiles: number;
  requiredFeatures: string[];
  token?: string;
}

/** 'cpu' is transformers.js' device in Node (onnxruntime-node): the CLI and the unit tests. */
export type TransformersDevice = 'webgpu' | 'wasm' | 'cpu';

export interface TransformersPlan {
  task: 'text-generation';
  model: string;
  options: {
    device: TransformersDevice;
    dtype: string;
    revision: string;
    subfolder: string;
    model_file_name: string;
    use_external_data_format: boolean | number;
  };
  env: {
    remoteHost: string;
    remotePathTemplate: string;
    allowLocalModels: false;
    allowRemoteModels: true;
    wasmPaths: { mjs: string; wasm: string };
  };
}

/**
 * The plan for `location` on a device: WebGPU when there is one with the features the dtype needs, WASM otherwise.
 * `appBase` is the URL the app is served from (document.baseURI in the page).
 */
export function planTransformersLoad(location: OnnxExportLocation, gpu: { available: boolean; shaderF16: boolean }, appBase: string): TransformersPlan {
  const m = /^(.*\/)?([^/]+)\.onnx$/.exec(location.modelPath);
  if (!m) throw new RbeeError('bad-value', `${location.modelPath} is not an .onnx file.`);
  const folder = (m[1] ?? '').replace(/\/$/, '');
  if (!/(^|\/)onnx$/.test(folder) || folder.includes('/')) {
    // transformers.js reads config.json at the repository root and the graph from a subfolder of it.
    throw new RbeeError('unknown-format', `${location.repo}: transformers.js loads ONNX exports from onnx/ at the repository root, not ${folder || 'the root'}.`, {
      hint: 'Open an export laid out as onnx/model*.onnx beside config.json (the onnx-community repositories are).',
    });
  }
  const suffix = ONNX_DTYPE_SUFFIXES[location.dtype];
  if (suffix === undefined || !m[2]!.endsWith(suffix)) {
    throw new RbeeError('bad-value', `${location.modelPath} is not a ${location.dtype} file (transformers.js names those model${suffix ?? '_<dtype>'}.onnx).`);
  }
  // transformers.js appends the dtype's suffix itself: it wants the name without it.
  const stem = m[2]!.slice(0, m[2]!.length - suffix.length);
  const needsF16 = location.requiredFeatures.includes('shader-f16');
  const device: TransformersDevice = gpu.available && (!needsF16 || gpu.shaderF16) ? 'webgpu' : 'wasm';
  const runtime = new URL(ORT_RUNTIME_FOLDER, appBase).href;
  return {
    task: 'text-generation',
    model: location.repo,
    options: {
      device,
      dtype: location.dtype,
      revision: location.revision,
      subfolder: folder,
      model_file_name: stem,
      use_external_data_format: location.externalDataFiles > 1 ? location.externalDataFiles : location.externalDataFiles === 1,
    },
    env: {
      remoteHost: `${location.hubBase.replace(/\/+$/, '')}/`,
      remotePathTemplate: '{model}/resolve/{revision}/',
      allowLocalModels: false,
      allowRemoteModels: true,
      wasmPaths: { mjs: `${runtime}${ORT_RUNTIME_FILES[0]}`, wasm: `${runtime}${ORT_RUNTIME_FILES[1]}` },
    },
  };
}
