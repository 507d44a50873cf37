/**
 * Reading a model's header: inspectSet(set) groups a set that can be listed (a repository, a folder) into candidate
 * models, sniffs the chosen one's format from its first bytes and reads its header into a ModelDescriptor. Only
 * headers are read, never weights. The app reaches it through a ModelRef (resolve.ts inspectRef: cache first);
 * inspect(input) is the same for tools and tests that hold text, files, a ByteSource or a set.
 */
import { RbeeError, toRbeeError } from '../errors.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import type { ModelDescriptor } from '../formats/descriptor.ts';
import { readGguf } from '../formats/gguf.ts';
import { DEFAULT_HUB } from '../hub/hf.ts';
import { defaultCandidate, groupModelFiles, type ModelCandidate } from './model-candidates.ts';
import { blobFileSet, dirOf, singleSourceSet, type ModelFileSet } from './model-file-set.ts';
import { remoteFileSet } from './remote-file-set.ts';
import { describeMlcBuild, describeOnnxExport } from './prebuilt-descriptor.ts';
import { PrefetchedSource } from '../formats/prefetched-source.ts';
import { readSafetensors } from '../formats/safetensors.ts';
import { sniffFormat, unsupportedFormatError } from '../formats/sniff.ts';

export interface InspectOptions {
  /** Hugging Face hub base URL; default https://huggingface.co. */
  hubBase?: string;
  fetch?: typeof fetch;
  /** Hugging Face access token (gated / private repositories). */
  token?: string;
  signal?: AbortSignal;
}

export interface InspectResult {
  /** What was opened, for display: 'owner/repo', the URL, the file name. */
  input: string;
  /** The model described: the file named, or the chosen candidate of a repository / folder / dropped set. */
  descriptor: ModelDescriptor;
  /** Every model in the repository / folder / dropped set ([] when the input was one file). */
  candidates: ModelCandidate[];
  /** Index in `candidates` of the one described; -1 when the input was one file. */
  chosen: number;
  /** For a Hugging Face repository: where it is and all its files. */
  hf?: ModelFileSet['hf'];
}

// The file set behind each result, so inspectCandidate can read the repository's other models later.
const setsOfResults = new WeakMap<InspectResult, ModelFileSet>();

/** A Hugging Face reference or URL; a dropped/picked File, File[] or FileList; a ByteSource; or a ModelFileSet. */
export type InspectInput = string | File | readonly File[] | ArrayLike<File> | ByteSource | ModelFileSet;

/** Reads the model behind `input` (see InspectInput) and describes it. Throws RbeeError only. */
export async function inspect(input: InspectInput, opts: InspectOptions = {}): Promise<InspectResult> {
  try {
    const set = await toFileSet(input, opts);
    return await inspectSet(set, opts);
  } catch (e) {
    throw toRbeeError(e);
  }
}

/** The descriptor of another candidate of the same input (for a repository's file list with each one's verdict). */
export async function inspectCandidate(result: InspectResult, index: number, opts: InspectOptions = {}): Promise<ModelDescriptor> {
  const set = setsOfResults.get(result);
  const candidate = result.candidates[index];
  if (!set || !candidate) throw new RbeeError('internal', `No candidate ${index} in this result.`);
  if (index === result.chosen) return result.descriptor;
  try {
    return await describeCandidate(set, candidate, result.candidates, opts.signal);
  } catch (e) {
    throw toRbeeError(e);
  }
}

export async function inspectSet(set: ModelFileSet, opts: InspectOptions = {}): Promise<InspectResult> {
  let candidates: ModelCandidate[] = [];
  let chosen = -1;
  let primary = set.primary;
  if (set.listing) {
    candidates = groupModelFiles(set.listing, set.hf?.repo ?? set.modelName ?? set.label);
    if (primary !== undefined) {
      chosen = candidates.findIndex((c) => c.files.includes(primary!));
      if (chosen >= 0) primary = candidates[chosen]!.primary;
    } else {
      chosen = defaultCandidate(candidates);
      if (chosen < 0) throw noModelError(set);
      primary = candidates[chosen]!.primary;
    }
  }
  if (primary === undefined) throw noModelError(set);
  const chosenCandidate = candidates[chosen];
  const { set: reading, pathOf } = recordingPaths(set);
  const described = chosenCandidate
    ? await describeCandidate(reading, chosenCandidate, candidates, opts.signal)
    : await describeFile(reading, primary, opts.signal);
  const descriptor = { ...described, files: described.files.map((f) => ({ ...f, ...(pathOf(f.location) !== undefined ? { path: pathOf(f.location) } : {}) })) };
  const result: InspectResult = { input: set.label, descriptor, candidates, chosen, ...(set.hf ? { hf: set.hf } : {}) };
  setsOfResults.set(result, set);
  return result;
}

/** The set, remembering the path each source it hands out was opened by (keyed by the source's location). */
function recordingPaths(set: ModelFileSet): { set: ModelFileSet; pathOf: (location: string) => string | undefined } {
  const paths = new Map<string, string>();
  return {
    set: {
      ...set,
      async open(path, signal) {
        const source = await set.open(path, signal);
        if (source && !paths.has(source.location)) paths.set(source.location, path);
        return source;
      },
    },
    pathOf: (location) => paths.get(location),
  };
}

/** MLC builds and ONNX exports are described from their JSON files; GGUF and SafeTensors from their headers. */
function describeCandidate(set: ModelFileSet, candidate: ModelCandidate, all: readonly ModelCandidate[], signal?: AbortSignal): Promise<ModelDescriptor> {
  if (candidate.format === 'mlc') return describeMlcBuild(set, candidate, signal);
  if (candidate.format === 'onnx') return describeOnnxExport(set, candidate, all, signal);
  return describeFile(set, candidate.primary, signal);
}

/** Opens `path` in the set, sniffs it, and reads it with the parser for its format. */
async function describeFile(set: ModelFileSet, path: string, signal?: AbortSignal): Promise<ModelDescriptor> {
  const opened = await set.open(path, signal);
  if (!opened) throw new RbeeError('not-found', `${set.label}: there is no file ${path}.`, { hint: 'Check the file name.' });
  const source = new PrefetchedSource(opened);
  const head = await source.prefetch(signal);
  const dir = dirOf(path);
  const openBeside = (name: string): Promise<ByteSource | undefined> => set.open(dir + name, signal);
  let format = sniffFormat(head, opened.name);
  if (format === 'json' && opened.name === 'config.json') {
    // A model folder's config.json: read the weights beside it.
    for (const weights of ['model.safetensors.index.json', 'model.safetensors']) {
      if (set.listing ? set.listing.some((f) => f.path === dir + weights) : await openBeside(weights)) return describeFile(set, dir + weights, signal);
    }
  }
  switch (format) {
    case 'gguf':
      return readGguf(source, { openSplit: openBeside, signal });
    case 'safetensors':
    case 'safetensors-index':
      return readSafetensors(source, {
        openSibling: openBeside,
        signal,
        ...(set.modelName && isGenericName(opened.name) ? { name: set.modelName } : {}),
      });
    default:
      throw unsupportedFormatError(format, opened.name, head);
  }
}

/** model.safetensors, model-00001-of-00004.safetensors, …: names that say nothing about which model it is. */
function isGenericName(fileName: string): boolean {
  return /^(model|pytorch_model|consolidated|adapter_model|adapters)(-\d{5}-of-\d{5})?\.safetensors(\.index\.json)?$/.test(fileName);
}

function noModelError(set: ModelFileSet): RbeeError {
  const names = (set.listing ?? []).map((f) => f.path);
  if (names.some((n) => /\.(bin|pt|pth|ckpt)$/i.test(n))) {
    return new RbeeError('pytorch', `${set.label} holds PyTorch checkpoints (.bin / .pt) but no GGUF or SafeTensors files.`, {
      hint: "Look for a GGUF version of this model on the hub, or convert it with llama.cpp's convert_hf_to_gguf.py.",
    });
  }
  if (names.some((n) => /\.onnx$/i.test(n)) || names.some((n) => /mlc-chat-config\.json$/.test(n))) {
    return new RbeeError('unknown-format', `${set.label} holds ONNX / MLC files, but not a complete build: an MLC build needs mlc-chat-config.json with tensor-cache.json (or ndarray-cache.json) beside it; an ONNX export needs onnx/model*.onnx with config.json one folder up.`, {
      hint: 'Open the repository of a complete build (web-llm\'s …-MLC or an onnx-community repository), or a GGUF version of this model.',
    });
  }
  return new RbeeError('unknown-format', `${set.label} has no GGUF or SafeTensors model files.`, {
    hint: 'Open a repository, folder or file that holds a .gguf or .safetensors model.',
  });
}

async function toFileSet(input: InspectInput, opts: InspectOptions): Promise<ModelFileSet> {
  if (typeof input === 'string') return remoteFileSet(input, { ...opts, hubBase: opts.hubBase ?? DEFAULT_HUB });
  if (isFileSet(input)) return input;
  if (isByteSource(input)) return singleSourceSet(input);
  const files = isFileLike(input) ? [input] : Array.from(input as ArrayLike<File>);
  if (files.length === 0) throw new RbeeError('not-found', 'No files were given.', { hint: 'Drop or pick the model file(s).' });
  return blobFileSet(files);
}

function isFileLike(x: unknown): x is File {
  return typeof Blob !== 'undefined' && x instanceof Blob;
}

function isFileSet(x: unknown): x is ModelFileSet {
  return typeof x === 'object' && x !== null && typeof (x as ModelFileSet).open === 'function' && typeof (x as ModelFileSet).label === 'string';
}

function isByteSource(x: unknown): x is ByteSource {
  return typeof x === 'object' && x !== null && typeof (x as ByteSource).read === 'function' && typeof (x as ByteSource).size === 'function';
}
