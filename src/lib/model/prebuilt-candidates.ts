/**
 * Models built for another browser engine, found in a repository's file list:
 *
 * - MLC builds (web-llm): a folder with `mlc-chat-config.json` and its tensor cache (`tensor-cache.json`, called
 *   `ndarray-cache.json` before web-llm 0.2.80) next to the `params_shard_*.bin` weights. The quantization is in
 *   the config and, by convention, in the repository name (`…-q4f16_1-MLC`).
 * - ONNX exports (transformers.js): `onnx/model{_dtype}.onnx` (older exports: `decoder_model_merged{_dtype}.onnx`)
 *   with `config.json` one folder up; each dtype variant (`model_q4f16.onnx`, `model_q4.onnx`, …) is one candidate,
 *   with its external-data files (`model_q4.onnx_data`, `…_data_1`).
 *
 * A "16" float type (q4f16_1, fp16, q4f16) needs the GPU's shader-f16 feature: the candidate says so.
 */
import type { ListedFile, ModelCandidate } from './model-candidates.ts';

const baseOf = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
const dirOf = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/') + 1) : '');

/** MLC quantization codes: q{bits}f{float bits}[_{variant}], e.g. q4f16_1, q4f32_1, q0f16, q3f16_0, q4f16_ft. */
const MLC_QUANT = /(?:^|[-_./])(q\d+f(?:16|32)(?:_[a-z0-9]+)?)(?=[-./]|$)/i;

/** The MLC quantization named in a path or repository name ('q4f16_1'), if any. */
export function mlcQuantizationOf(name: string): string | undefined {
  return MLC_QUANT.exec(name)?.[1]?.toLowerCase();
}

/** transformers.js dtype → the file-name suffix it loads (its DEFAULT_DTYPE_SUFFIX_MAPPING). */
export const ONNX_DTYPE_SUFFIXES: Readonly<Record<string, string>> = {
  fp32: '',
  fp16: '_fp16',
  int8: '_int8',
  uint8: '_uint8',
  q8: '_quantized',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
  q2: '_q2',
  q2f16: '_q2f16',
  q1: '_q1',
  q1f16: '_q1f16',
};
const DTYPE_BY_SUFFIX = new Map(Object.entries(ONNX_DTYPE_SUFFIXES).map(([dtype, suffix]) => [suffix, dtype]));

/** The decoder files transformers.js' text-generation pipeline loads, without their dtype suffix. */
const ONNX_DECODER_STEMS = ['model', 'decoder_model_merged'];

/** Which variant to show first: small and broadly runnable first, full precision last. */
export const PREFERRED_ONNX_DTYPES = ['q4f16', 'q4', 'q8', 'int8', 'uint8', 'bnb4', 'fp16', 'fp32', 'q2f16', 'q2', 'q1f16', 'q1'];

/** Whether weights in this MLC quantization / ONNX dtype need shader-f16 on WebGPU. */
export function needsShaderF16(quantization: string): boolean {
  return /^q\d+f16/i.test(quantization) || /^(fp16|q\d+f16)$/i.test(quantization);
}

/** The ONNX dtype a decoder file holds ('fp32' for model.onnx), or undefined when it is not a text decoder file. */
export function onnxDtypeOf(fileName: string): string | undefined {
  const m = /^(.*)\.onnx$/i.exec(fileName);
  if (!m) return undefined;
  for (const stem of ONNX_DECODER_STEMS) {
    if (!m[1]!.startsWith(stem)) continue;
    const dtype = DTYPE_BY_SUFFIX.get(m[1]!.slice(stem.length));
    if (dtype) return dtype;
  }
  return undefined;
}

export function groupMlcFiles(files: readonly ListedFile[], repoName = ''): ModelCandidate[] {
  const out: ModelCandidate[] = [];
  for (const config of files.filter((f) => baseOf(f.path) === 'mlc-chat-config.json')) {
    const dir = dirOf(config.path);
    const beside = files.filter((f) => dirOf(f.path) === dir);
    const hasCache = beside.some((f) => ['tensor-cache.json', 'ndarray-cache.json'].includes(baseOf(f.path)));
    if (!hasCache) continue; // a config without weights is not a model web-llm can load
    const weights = beside.filter((f) => /\.bin$/i.test(f.path));
    const quantization = mlcQuantizationOf(dir) ?? mlcQuantizationOf(repoName);
    out.push({
      id: config.path,
      format: 'mlc',
      label: `MLC ${quantization ?? (dir || 'build')}`,
      primary: config.path,
      files: beside.map((f) => f.path).sort(),
      size: weights.reduce((s, f) => s + f.size, 0),
      ...(quantization ? { quantization } : {}),
      ...(quantization && needsShaderF16(quantization) ? { requiredFeatures: ['shader-f16'] } : {}),
      role: 'model',
    });
  }
  return out;
}

export function groupOnnxFiles(files: readonly ListedFile[]): ModelCandidate[] {
  const out: ModelCandidate[] = [];
  const paths = new Set(files.map((f) => f.path));
  const sizeOf = new Map(files.map((f) => [f.path, f.size]));
  for (const f of files) {
    const dir = dirOf(f.path);
    if (!dir.endsWith('onnx/')) continue;
    const dtype = onnxDtypeOf(baseOf(f.path));
    if (!dtype) continue;
    const root = dir.slice(0, -'onnx/'.length);
    if (!paths.has(`${root}config.json`)) continue; // transformers.js needs the config beside the onnx/ folder
    const external = files.filter((g) => g.path.startsWith(`${f.path}_data`)).map((g) => g.path).sort();
    const support = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']
      .map((n) => root + n)
      .filter((p) => paths.has(p));
    const weights = [f.path, ...external];
    out.push({
      id: f.path,
      format: 'onnx',
      label: `ONNX ${dtype}`,
      primary: f.path,
      files: [...weights, ...support],
      size: weights.reduce((s, p) => s + (sizeOf.get(p) ?? 0), 0),
      quantization: dtype,
      ...(needsShaderF16(dtype) ? { requiredFeatures: ['shader-f16'] } : {}),
      role: 'model',
    });
  }
  const rank = (c: ModelCandidate): number => {
    const i = PREFERRED_ONNX_DTYPES.indexOf(c.quantization ?? '');
    return i < 0 ? PREFERRED_ONNX_DTYPES.length : i;
  };
  return out.sort((a, b) => rank(a) - rank(b) || a.primary.localeCompare(b.primary));
}
