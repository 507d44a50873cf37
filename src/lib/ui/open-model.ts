/**
 * What the model page does with its URL: turn `?src=…[&file=…]` or `?local=<id>[&file=…]` into an inspect() input,
 * read the header, and check it against this device. Kept out of the page so the page stays a view.
 */
import { cachedSetWhenOffline } from '../cache/cached-model-set.ts';
import { check, type EngineChoice } from '../compat/check.ts';
import { matrixCell } from '../compat/matrix.ts';
import { mainWeightType } from '../compat/repo-verdict.ts';
import type { DeviceCaps } from '../compat/device-caps.ts';
import type { Confidence, Verdict } from '../compat/verdict.ts';
import { RbeeError } from '../errors.ts';
import type { ModelDescriptor } from '../formats/descriptor.ts';
import { formatHfRef, parseHfRef } from '../hub/hf.ts';
import { inspect, inspectCandidate, type InspectInput, type InspectResult } from '../model/inspect.ts';
import type { ModelCandidate } from '../model/model-candidates.ts';
import { blobFileSet } from '../model/model-file-set.ts';
import { modelPageForLocal, modelPageForSource, tryItNowPage } from './model-links.ts';
import { filesNoLongerOpen, openedFiles } from '../model/opened-files.ts';
import { hubBase, savedEngineChoice } from './settings.ts';
import { thisDeviceCaps } from './this-device.ts';

export type ModelRequest =
  | { kind: 'remote'; source: string; file?: string }
  | { kind: 'local'; id: string; file?: string };

export interface OpenedModel {
  request: ModelRequest;
  result: InspectResult;
  verdict: Verdict;
  caps: DeviceCaps;
  /** Wall time from the request to the verdict. */
  elapsedMs: number;
}

/** The request in a model page URL, or undefined when it names no model. */
export function modelRequestFromUrl(url: URL): ModelRequest | undefined {
  const file = url.searchParams.get('file') || undefined;
  const local = url.searchParams.get('local');
  if (local) return { kind: 'local', id: local, ...(file ? { file } : {}) };
  const source = url.searchParams.get('src')?.trim();
  if (source) return { kind: 'remote', source, ...(file ? { file } : {}) };
  return undefined;
}

/** What to show as the page's subject while the header is being read. */
export function describeRequest(request: ModelRequest): string {
  if (request.kind === 'local') {
    const files = openedFiles(request.id);
    if (request.file) return request.file;
    if (!files) return 'local files';
    return files.length === 1 ? files[0]!.name : `${files.length} local files`;
  }
  return request.file ? `${request.source} · ${request.file}` : request.source;
}

function inspectInput(request: ModelRequest): InspectInput {
  if (request.kind === 'local') {
    const files = openedFiles(request.id);
    if (!files) {
      throw filesNoLongerOpen('page');
    }
    // A chosen file among dropped ones (a repository-like set): point the set at it.
    return request.file ? { ...blobFileSet(files), primary: request.file } : files;
  }
  if (request.file) {
    const ref = parseHfRef(request.source, hubBase());
    if (ref) return formatHfRef({ repo: ref.repo, revision: ref.revision, path: request.file });
  }
  return request.source;
}

export interface OpenModelOptions {
  /** The engine the user picked (chat link `&engine=`); default the saved one (Settings), else this device's best. */
  engine?: EngineChoice;
}

export async function openModel(request: ModelRequest, signal?: AbortSignal, options: OpenModelOptions = {}): Promise<OpenedModel> {
  const started = performance.now();
  const caps = thisDeviceCaps();
  // Offline, a model downloaded to this device is read from the cache (the library's links carry its reference).
  const offline = request.kind === 'remote' ? await cachedSetWhenOffline(request.source, request.file, hubBase()) : undefined;
  const result = await inspect(offline ?? inspectInput(request), { hubBase: hubBase(), signal });
  const verdict = verdictFor(result.descriptor, await caps, result.candidates, options.engine ?? savedEngineChoice());
  return { request, result, verdict, caps: await caps, elapsedMs: performance.now() - started };
}

export function verdictFor(descriptor: ModelDescriptor, caps: DeviceCaps, candidates: readonly ModelCandidate[] = [], engine?: EngineChoice): Verdict {
  const siblings = candidates
    .filter((c) => c.role === 'model' && c.format === 'gguf')
    .map((c) => ({ fileName: c.primary, sizeBytes: c.size, ...(c.quantization ? { fileType: c.quantization } : {}) }));
  return check(descriptor, caps, { siblings, ...(engine ? { engine } : {}) });
}

/** The real verdict of another file of the same repository / set: reads its header. */
export async function candidateVerdict(result: InspectResult, index: number, signal?: AbortSignal): Promise<Verdict> {
  const descriptor = await inspectCandidate(result, index, { hubBase: hubBase(), signal });
  return verdictFor(descriptor, await thisDeviceCaps(), result.candidates);
}

/**
 * A first guess at a sibling file's confidence on WebGPU from its name's quantization label, before its header is
 * read: the architecture is the repository's (from the file that was read), the main weight type the label's — by
 * the same rule the search results use (mainWeightType: Q4_K_M → Q4_K, IQ2_M → IQ2_S). Undefined when the name has
 * no label. The page marks it as a guess.
 */
export function confidenceFromName(architecture: string, candidate: ModelCandidate): Confidence | undefined {
  if (candidate.role !== 'model') return undefined;
  if (candidate.format === 'safetensors') return matrixCell(architecture, 'safetensors', 'BF16', 'webgpu').confidence;
  const type = candidate.quantization ? mainWeightType(candidate.quantization) : undefined;
  return type ? matrixCell(architecture, 'gguf', type, 'webgpu').confidence : undefined;
}

export interface CandidateLinkOptions {
  /**
   * The page is in "try it now" mode (?try=1): the other files' links keep it, so someone who followed a try link
   * and picks a smaller quantization gets the same download-then-chat. Remote sources only: try links name one.
   */
  tryMode?: boolean;
}

/** The model page of another candidate of the same input. */
export function candidateHref(request: ModelRequest, result: InspectResult, candidate: ModelCandidate, options: CandidateLinkOptions = {}): string {
  if (request.kind === 'local') return `${modelPageForLocal(request.id)}&file=${encodeURIComponent(candidate.primary)}`;
  const source = result.hf ? (result.hf.revision === 'main' ? result.hf.repo : `${result.hf.repo}@${result.hf.revision}`) : request.source;
  return options.tryMode ? tryItNowPage(source, candidate.primary) : modelPageForSource(source, candidate.primary);
}
