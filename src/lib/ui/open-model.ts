/**
 * What the model and chat pages do with the ModelRef in their URL: resolve it, read the header, and check it against
 * this device. Kept out of the pages so they stay views.
 *
 * A header read in this tab is remembered by reference (the last few): the model page's read serves the chat page it
 * links to, and the chat page hands it to the inference worker (modelToLoad → KnownModel), so a model opened from one
 * link has its header read once.
 */
import { check, type EngineChoice } from '../compat/check.ts';
import { matrixCell } from '../compat/matrix.ts';
import { mainWeightType } from '../compat/repo-verdict.ts';
import type { DeviceCaps } from '../compat/device-caps.ts';
import type { Confidence, Verdict } from '../compat/verdict.ts';
import type { ModelToLoad } from '../engine/worker-protocol.ts';
import type { ModelDescriptor } from '../formats/descriptor.ts';
import { inspectCandidate, type InspectResult } from '../model/inspect.ts';
import type { ModelCandidate } from '../model/model-candidates.ts';
import { modelRefKey, type ModelRef } from '../model/model-ref.ts';
import { filesNoLongerOpen, openedFiles } from '../model/opened-files.ts';
import { inspectRef, knownModel } from '../model/resolve.ts';
import { modelPage, remoteRef, tryItNowPage } from './model-links.ts';
import { hubBase, savedEngineChoice } from './settings.ts';
import { thisDeviceCaps } from './this-device.ts';

export interface OpenedModel {
  ref: ModelRef;
  result: InspectResult;
  verdict: Verdict;
  caps: DeviceCaps;
  /** Wall time from the request to the verdict. */
  elapsedMs: number;
}

/** What to show as the page's subject while the header is being read. */
export function describeRef(ref: ModelRef): string {
  if (ref.kind === 'local') {
    const files = openedFiles(ref.id);
    if (ref.file) return ref.file;
    if (!files) return 'local files';
    return files.length === 1 ? files[0]!.name : `${files.length} local files`;
  }
  return ref.file ? `${ref.source} · ${ref.file}` : ref.source;
}

export interface OpenModelOptions {
  /** The engine the user picked (chat link `&engine=`); default the saved one (Settings), else this device's best. */
  engine?: EngineChoice;
}

/** Headers read in this tab, newest last; a read that failed is forgotten, so opening again reads again. */
const recentReads = new Map<string, Promise<InspectResult>>();
/** Enough for a model page, its chat and a sibling or two; each entry is one header's descriptor. */
const RECENT_READS = 4;

function readHeader(ref: ModelRef, signal?: AbortSignal): Promise<InspectResult> {
  const key = `${hubBase()} ${modelRefKey(ref)}`;
  const known = recentReads.get(key);
  if (known) return known;
  const read = inspectRef(ref, { hubBase: hubBase() }, signal ? { signal } : {});
  recentReads.set(key, read);
  read.catch(() => recentReads.get(key) === read && recentReads.delete(key));
  while (recentReads.size > RECENT_READS) recentReads.delete(recentReads.keys().next().value!);
  return read;
}

export async function openModel(ref: ModelRef, signal?: AbortSignal, options: OpenModelOptions = {}): Promise<OpenedModel> {
  const started = performance.now();
  const caps = thisDeviceCaps();
  const result = await readHeader(ref, signal);
  const verdict = verdictFor(result.descriptor, await caps, result.candidates, options.engine ?? savedEngineChoice());
  return { ref, result, verdict, caps: await caps, elapsedMs: performance.now() - started };
}

/** What the inference worker (or the CPU engine) is given to load an opened model: its header goes along. */
export function modelToLoad(opened: OpenedModel): ModelToLoad {
  const { ref } = opened;
  const files = ref.kind === 'local' ? openedFiles(ref.id) : undefined;
  if (ref.kind === 'local' && !files) throw filesNoLongerOpen('chat');
  return { model: ref, reach: { hubBase: hubBase(), ...(files ? { files } : {}) }, known: knownModel(opened.result) };
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
export function candidateHref(ref: ModelRef, result: InspectResult, candidate: ModelCandidate, options: CandidateLinkOptions = {}): string {
  if (ref.kind === 'local') return modelPage({ kind: 'local', id: ref.id, file: candidate.primary });
  const source = result.hf ? (result.hf.revision === 'main' ? result.hf.repo : `${result.hf.repo}@${result.hf.revision}`) : ref.source;
  return options.tryMode ? tryItNowPage(remoteRef(source, candidate.primary)) : modelPage(remoteRef(source, candidate.primary));
}
