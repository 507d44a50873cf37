/**
 * A repository (or a set of dropped files) holds several files; this groups them into the models a user can pick:
 * each GGUF file (a split set `x-00001-of-0000N.gguf` as one), each SafeTensors set (the index with its shards,
 * or one .safetensors file) with the config and tokenizer files beside it, and the builds for other browser engines
 * (MLC folders for web-llm, ONNX dtype variants for transformers.js; see prebuilt-candidates.ts).
 */
import { groupMlcFiles, groupOnnxFiles } from './prebuilt-candidates.ts';
import { PREFERRED_QUANTIZATIONS, quantizationOf } from '../formats/quant-labels.ts';

export interface ListedFile {
  /** Path inside the repository / dropped folder, '/'-separated. */
  path: string;
  size: number;
}

export interface ModelCandidate {
  /** Stable id: the primary file's path. */
  id: string;
  format: 'gguf' | 'safetensors' | 'mlc' | 'onnx';
  /** What to show in a list: the quantization ('Q4_K_M') or the file name. */
  label: string;
  /** The file to open first: the GGUF (first part), the index, or the single .safetensors file. */
  primary: string;
  /** Every file of this model (parts, shards, the index), by path. */
  files: string[];
  /** Bytes of weights to download (sum of `files`). */
  size: number;
  /** Quantization label read from the file name (Q4_K_M, IQ2_XS, F16 …), when it has one. */
  quantization?: string;
  /** An adapter (adapter_config.json / adapter_model.safetensors) or a multimodal projector (mmproj), not a model. */
  role: 'model' | 'adapter' | 'projector';
  /** GPU features its weights need (MLC q4f16 builds and ONNX fp16 / q4f16 variants: 'shader-f16'). */
  requiredFeatures?: string[];
}

const GGUF_SPLIT = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;
const SAFETENSORS_SHARD = /^(.*)-(\d{5})-of-(\d{5})\.safetensors$/i;
const dirOf = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/') + 1) : '');
const baseOf = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** `repoName` (owner/name) helps name MLC builds: their quantization is usually in the repository's name only. */
export function groupModelFiles(files: readonly ListedFile[], repoName = ''): ModelCandidate[] {
  const sizeOf = new Map(files.map((f) => [f.path, f.size]));
  const total = (paths: string[]): number => paths.reduce((s, p) => s + (sizeOf.get(p) ?? 0), 0);
  const out: ModelCandidate[] = [];

  // GGUF: one candidate per file, split parts folded into their first part.
  const splitSets = new Map<string, string[]>();
  for (const f of files) {
    const name = baseOf(f.path);
    if (!/\.gguf$/i.test(name)) continue;
    const m = GGUF_SPLIT.exec(name);
    if (m) {
      const key = `${dirOf(f.path)}${m[1]}-of-${m[3]}`;
      splitSets.set(key, [...(splitSets.get(key) ?? []), f.path]);
      continue;
    }
    out.push(ggufCandidate([f.path], total([f.path])));
  }
  for (const parts of splitSets.values()) {
    parts.sort();
    out.push(ggufCandidate(parts, total(parts)));
  }

  // SafeTensors: per folder, the index and its shards as one; other .safetensors files each on their own.
  const byDir = new Map<string, ListedFile[]>();
  for (const f of files) {
    if (!/\.safetensors(\.index\.json)?$/i.test(f.path)) continue;
    byDir.set(dirOf(f.path), [...(byDir.get(dirOf(f.path)) ?? []), f]);
  }
  for (const [dir, group] of byDir) {
    const indexes = group.filter((f) => f.path.endsWith('.index.json'));
    const claimed = new Set<string>();
    for (const index of indexes) {
      const stem = baseOf(index.path).replace(/\.safetensors\.index\.json$|\.index\.json$/, '');
      const shards = group.filter((f) => {
        const m = SAFETENSORS_SHARD.exec(baseOf(f.path));
        return m !== null && m[1] === stem;
      });
      shards.forEach((s) => claimed.add(s.path));
      const paths = [index.path, ...shards.map((s) => s.path).sort()];
      out.push(safetensorsCandidate(index.path, paths, total(paths)));
    }
    // Shards without an index, grouped by their stem.
    const orphanSets = new Map<string, string[]>();
    for (const f of group) {
      if (f.path.endsWith('.index.json') || claimed.has(f.path)) continue;
      const m = SAFETENSORS_SHARD.exec(baseOf(f.path));
      if (m && m[3] !== '00001') orphanSets.set(m[1]!, [...(orphanSets.get(m[1]!) ?? []), f.path]);
      else out.push(safetensorsCandidate(f.path, [f.path], total([f.path])));
    }
    for (const parts of orphanSets.values()) {
      parts.sort();
      out.push(safetensorsCandidate(parts[0]!, parts, total(parts)));
    }
  }
  out.push(...groupMlcFiles(files, repoName), ...groupOnnxFiles(files));
  return out;
}

function ggufCandidate(paths: string[], size: number): ModelCandidate {
  const primary = paths[0]!;
  const name = baseOf(primary);
  const quantization = quantizationOf(name);
  return {
    id: primary,
    format: 'gguf',
    label: quantization ?? name,
    primary,
    files: paths,
    size,
    ...(quantization ? { quantization } : {}),
    role: /mmproj/i.test(name) ? 'projector' : 'model',
  };
}

function safetensorsCandidate(primary: string, paths: string[], size: number): ModelCandidate {
  const shards = paths.filter((p) => !p.endsWith('.json')).length;
  const name = baseOf(primary);
  const stem = name.replace(/\.safetensors\.index\.json$|\.index\.json$/, '').replace(/-\d{5}-of-\d{5}\.safetensors$/, '');
  const quantization = quantizationOf(name);
  return {
    id: primary,
    format: 'safetensors',
    label: `${dirOf(primary)}${paths.length === 1 ? name : `${stem} (${shards} shards)`}`,
    primary,
    files: paths,
    size,
    ...(quantization ? { quantization } : {}),
    // PEFT writes adapter_model.safetensors, mlx adapters.safetensors; the loader confirms from tensor names.
    role: /adapter/i.test(name) ? 'adapter' : 'model',
  };
}

/**
 * Which model to show when the user named a repository, not a file: the first quantization of
 * PREFERRED_QUANTIZATIONS (quant-labels.ts) the repository has, else the first GGUF model, else the first
 * SafeTensors model; -1 when there is none.
 */
export function defaultCandidate(candidates: readonly ModelCandidate[]): number {
  const models = candidates.map((c, i) => ({ c, i })).filter(({ c }) => c.role === 'model');
  for (const q of PREFERRED_QUANTIZATIONS) {
    const hit = models.find(({ c }) => c.format === 'gguf' && c.quantization === q);
    if (hit) return hit.i;
  }
  const gguf = models.find(({ c }) => c.format === 'gguf');
  if (gguf) return gguf.i;
  // rbee-web's own engine (SafeTensors) before the builds for web-llm / transformers.js a repository may also hold.
  const own = models.find(({ c }) => c.format === 'safetensors');
  if (own) return own.i;
  const prebuilt = models.find(({ c }) => c.format === 'mlc') ?? models.find(({ c }) => c.format === 'onnx');
  if (prebuilt) return prebuilt.i;
  if (models[0]) return models[0].i;
  return candidates.length > 0 ? 0 : -1;
}
