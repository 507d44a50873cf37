/**
 * The Hugging Face hub's model search (`GET {hub}/api/models?search=…`), narrowed to what rbee-web can open:
 * text-generation models published as GGUF or SafeTensors, most downloaded first.
 *
 * The hub's `filter` parameter takes tags and ANDs repeated ones, so "GGUF or SafeTensors" cannot be one request.
 * Asking once per format (in parallel) and merging by repository keeps each format's most downloaded models in the
 * answer: one unfiltered text-generation search would be ranked by downloads across every format, and the limit
 * would often be filled by one format (or by PyTorch-only repositories) before the other shows up.
 *
 * Hub answers are untrusted JSON: fields of the wrong type are ignored, entries without a usable repository id are
 * skipped, the body is read with a size cap, and every failure is an RbeeError.
 */
import { RbeeError } from '../errors.ts';
import { DEFAULT_HUB, hubHeaders, parseHfRef, readJson, type HubOptions } from './hf.ts';

export const SEARCH_FORMATS = ['gguf', 'safetensors'] as const;
export type SearchFormat = (typeof SEARCH_FORMATS)[number];

export interface HubSearchRequest {
  /** What the user typed; matched by the hub against repository names. Empty: the most downloaded models. */
  text: string;
  /** Formats to search; each gets its own request. Default: both. */
  formats?: readonly SearchFormat[];
  /** Results per format (1–100; default 20). */
  limit?: number;
}

/** What the hub's GGUF parser read from a repository's GGUF files (the `gguf` field). */
export interface HubGgufInfo {
  architecture?: string;
  totalParameters?: number;
  contextLength?: number;
}

/** What the hub read from a repository's SafeTensors headers (the `safetensors` field): parameters per dtype. */
export interface HubSafetensorsInfo {
  parameters: Record<string, number>;
  total?: number;
}

/** The part of config.json the hub returns with a model (`config`). */
export interface HubConfigInfo {
  modelType?: string;
  architectures?: string[];
  /** `quantization_config.quant_method` (gptq, awq, bitsandbytes, fp8 …): a checkpoint rbee-web does not load. */
  quantMethod?: string;
}

export interface HubModelSummary {
  /** `owner/name` */
  repo: string;
  /** The formats it was found under (and that its tags name). */
  formats: SearchFormat[];
  downloads?: number;
  likes?: number;
  libraryName?: string;
  pipelineTag?: string;
  tags: string[];
  lastModified?: string;
  /** Gated (licence to accept) or private: listing its files may need a token. */
  gated: boolean;
  gguf?: HubGgufInfo;
  safetensors?: HubSafetensorsInfo;
  config?: HubConfigInfo;
}

export const SEARCH_LIMITS = {
  maxQueryLength: 200,
  maxResultsPerFormat: 100,
  defaultResultsPerFormat: 20,
  maxTags: 200,
  maxStringLength: 200,
} as const;

/** The fields asked for with `expand`: only these come back (besides the id), so everything shown is listed. */
export const SEARCH_EXPAND = ['downloads', 'likes', 'library_name', 'pipeline_tag', 'tags', 'lastModified', 'gated', 'gguf', 'safetensors', 'config'] as const;

/** The search URL for one format. Repeated `expand` parameters, as the hub's own clients send them. */
export function hubSearchUrl(text: string, format: SearchFormat, limit: number, hubBase = DEFAULT_HUB): string {
  const params = new URLSearchParams();
  const query = text.trim();
  if (query !== '') params.set('search', query);
  params.set('pipeline_tag', 'text-generation');
  params.set('filter', format);
  params.set('sort', 'downloads');
  params.set('direction', '-1');
  params.set('limit', String(limit));
  for (const field of SEARCH_EXPAND) params.append('expand', field);
  return `${hubBase.replace(/\/+$/, '')}/api/models?${params}`;
}

/**
 * Searches the hub once per requested format and merges the answers: one entry per repository (formats joined),
 * most downloaded first. Throws RbeeError 'bad-value' (query too long), 'network', 'http' (status or malformed
 * answer), 'limit-exceeded' (an oversized answer), 'aborted'.
 */
export async function searchHubModels(request: HubSearchRequest, opts: HubOptions = {}): Promise<HubModelSummary[]> {
  const text = request.text.trim();
  if (text.length > SEARCH_LIMITS.maxQueryLength) {
    throw new RbeeError('bad-value', `A search is at most ${SEARCH_LIMITS.maxQueryLength} characters (this one has ${text.length}).`, {
      hint: 'Search for a shorter part of the model name.',
    });
  }
  const formats = [...new Set(request.formats ?? SEARCH_FORMATS)];
  if (formats.length === 0 || formats.some((f) => !(SEARCH_FORMATS as readonly string[]).includes(f))) {
    throw new RbeeError('bad-value', 'Search GGUF, SafeTensors, or both.', { hint: 'Choose a format.' });
  }
  const limit = request.limit ?? SEARCH_LIMITS.defaultResultsPerFormat;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > SEARCH_LIMITS.maxResultsPerFormat) {
    throw new RbeeError('bad-value', `A search returns 1 to ${SEARCH_LIMITS.maxResultsPerFormat} results per format, not ${limit}.`);
  }
  const hub = opts.hubBase ?? DEFAULT_HUB;
  const answers = await Promise.all(formats.map((format) => searchOneFormat(hubSearchUrl(text, format, limit, hub), format, limit, opts)));
  return mergeSearchResults(answers.flat());
}

/** One entry per repository (formats and known fields joined), most downloaded first; unknown counts last. */
export function mergeSearchResults(entries: readonly HubModelSummary[]): HubModelSummary[] {
  const byRepo = new Map<string, HubModelSummary>();
  for (const entry of entries) {
    const seen = byRepo.get(entry.repo);
    if (!seen) {
      byRepo.set(entry.repo, { ...entry, formats: [...entry.formats] });
      continue;
    }
    for (const f of entry.formats) if (!seen.formats.includes(f)) seen.formats.push(f);
    seen.downloads ??= entry.downloads;
    seen.likes ??= entry.likes;
    seen.gguf ??= entry.gguf;
    seen.safetensors ??= entry.safetensors;
    seen.config ??= entry.config;
  }
  const merged = [...byRepo.values()];
  for (const m of merged) m.formats.sort((a, b) => SEARCH_FORMATS.indexOf(a) - SEARCH_FORMATS.indexOf(b));
  return merged
    .map((m, i) => ({ m, i }))
    .sort((a, b) => (b.m.downloads ?? -1) - (a.m.downloads ?? -1) || a.i - b.i)
    .map(({ m }) => m);
}

async function searchOneFormat(url: string, format: SearchFormat, limit: number, opts: HubOptions): Promise<HubModelSummary[]> {
  const fetchFn = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  let response: Response;
  try {
    response = await fetchFn(url, { headers: { Accept: 'application/json', ...hubHeaders(opts.token) }, signal: opts.signal });
  } catch (e) {
    throw transferError(e, opts.signal);
  }
  if (!response.ok) throw await searchHttpError(response);
  let body: unknown;
  try {
    body = await readJson(response, url);
  } catch (e) {
    // An abort in the middle of the body surfaces as a broken read; say it was a cancel.
    if (opts.signal?.aborted) throw new RbeeError('aborted', 'Cancelled.', { cause: e });
    throw e;
  }
  if (!Array.isArray(body)) {
    throw new RbeeError('http', "The hub's search answer is not a list of models.", { hint: 'Check the hub address in Settings; try again later.' });
  }
  const out: HubModelSummary[] = [];
  const seen = new Set<string>();
  for (const item of body) {
    const entry = parseEntry(item, format);
    if (!entry || seen.has(entry.repo)) continue;
    seen.add(entry.repo);
    out.push(entry);
    if (out.length >= limit) break;
  }
  return out;
}

function transferError(e: unknown, signal: AbortSignal | undefined): RbeeError {
  if (signal?.aborted || (e as { name?: string })?.name === 'AbortError') return new RbeeError('aborted', 'Cancelled.', { cause: e });
  return new RbeeError('network', `Could not reach the Hugging Face hub to search: ${(e as Error)?.message ?? String(e)}.`, {
    hint: 'Search needs the network: check your connection (and, for a custom hub, its address in Settings).',
    cause: e,
  });
}

async function searchHttpError(response: Response): Promise<RbeeError> {
  await response.body?.cancel().catch(() => undefined);
  const status = response.status;
  if (status === 429) {
    const retry = Number(response.headers.get('retry-after'));
    const wait = Number.isFinite(retry) && retry > 0 && retry < 3600 ? `${Math.ceil(retry)} seconds` : 'a minute';
    return new RbeeError('http', 'The Hugging Face hub is limiting how often this browser may search (HTTP 429).', {
      hint: `Wait ${wait} and search again.`,
    });
  }
  if (status === 401 || status === 403) {
    return new RbeeError('http', `The Hugging Face hub refused the search (HTTP ${status}).`, {
      hint: 'An access token in use may be invalid or expired; check it.',
    });
  }
  if (status >= 500) {
    return new RbeeError('http', `The Hugging Face hub could not answer the search (HTTP ${status}).`, { hint: 'The hub had a problem; try again later.' });
  }
  return new RbeeError('http', `The Hugging Face hub rejected the search (HTTP ${status}).`, {
    hint: 'Try other words, or check the hub address in Settings.',
  });
}

// ── Parsing one entry: everything optional except a valid repository id. ─────────────────────────────────────────
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);
const shortString = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' && v.length <= SEARCH_LIMITS.maxStringLength ? v : undefined;

function parseEntry(item: unknown, format: SearchFormat): HubModelSummary | undefined {
  if (!isObject(item)) return undefined;
  const id = shortString(item.id) ?? shortString(item.modelId);
  if (!id) return undefined;
  // Only `owner/name`: the id becomes a link and a hub request, so nothing else may pass.
  const ref = parseHfRef(id);
  if (!ref || ref.repo !== id || ref.path !== undefined || ref.revision !== 'main' || id.includes('@')) return undefined;

  const tags = Array.isArray(item.tags)
    ? item.tags.filter((t): t is string => shortString(t) !== undefined).slice(0, SEARCH_LIMITS.maxTags)
    : [];
  const formats: SearchFormat[] = SEARCH_FORMATS.filter((f) => f === format || tags.includes(f));
  const entry: HubModelSummary = { repo: id, formats, tags, gated: item.gated === true || item.gated === 'auto' || item.gated === 'manual' || item.private === true };
  const downloads = count(item.downloads);
  if (downloads !== undefined) entry.downloads = downloads;
  const likes = count(item.likes);
  if (likes !== undefined) entry.likes = likes;
  const library = shortString(item.library_name);
  if (library) entry.libraryName = library;
  const pipeline = shortString(item.pipeline_tag);
  if (pipeline) entry.pipelineTag = pipeline;
  const modified = shortString(item.lastModified);
  if (modified) entry.lastModified = modified;
  const gguf = parseGguf(item.gguf);
  if (gguf) entry.gguf = gguf;
  const safetensors = parseSafetensors(item.safetensors);
  if (safetensors) entry.safetensors = safetensors;
  const config = parseConfig(item.config);
  if (config) entry.config = config;
  return entry;
}

function parseGguf(v: unknown): HubGgufInfo | undefined {
  if (!isObject(v)) return undefined;
  const info: HubGgufInfo = {};
  const architecture = shortString(v.architecture);
  if (architecture) info.architecture = architecture;
  const total = count(v.total);
  if (total !== undefined) info.totalParameters = total;
  const context = count(v.context_length);
  if (context !== undefined) info.contextLength = context;
  return Object.keys(info).length > 0 ? info : undefined;
}

function parseSafetensors(v: unknown): HubSafetensorsInfo | undefined {
  if (!isObject(v)) return undefined;
  const parameters: Record<string, number> = {};
  if (isObject(v.parameters)) {
    for (const [dtype, n] of Object.entries(v.parameters).slice(0, 32)) {
      const c = count(n);
      if (c !== undefined && /^[A-Z0-9_]{1,16}$/i.test(dtype)) parameters[dtype.toUpperCase()] = c;
    }
  }
  const total = count(v.total);
  if (Object.keys(parameters).length === 0 && total === undefined) return undefined;
  return total === undefined ? { parameters } : { parameters, total };
}

function parseConfig(v: unknown): HubConfigInfo | undefined {
  if (!isObject(v)) return undefined;
  const info: HubConfigInfo = {};
  const modelType = shortString(v.model_type);
  if (modelType) info.modelType = modelType;
  if (Array.isArray(v.architectures)) {
    const classes = v.architectures.filter((a): a is string => shortString(a) !== undefined).slice(0, 8);
    if (classes.length > 0) info.architectures = classes;
  }
  const quant = isObject(v.quantization_config) ? shortString(v.quantization_config.quant_method) : undefined;
  if (quant) info.quantMethod = quant;
  return Object.keys(info).length > 0 ? info : undefined;
}
