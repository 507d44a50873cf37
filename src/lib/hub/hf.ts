/**
 * Hugging Face references: what users paste (`owner/repo`, `owner/repo@rev`, `owner/repo/file.gguf`, `hf:…`, hub
 * URLs with /blob/, /resolve/ or /tree/), resolved to file URLs on a hub whose base URL is configurable (tests run a
 * local hub), and a repository's file list from the hub API.
 */
import { unreachableError } from '../formats/unreachable.ts';
import { RbeeError } from '../errors.ts';

export const DEFAULT_HUB = 'https://huggingface.co';

export interface HfRef {
  /** `owner/name` */
  repo: string;
  /** Branch, tag or commit; 'main' unless the reference names one. */
  revision: string;
  /** A file inside the repository, when the reference names one (`owner/repo/sub/model-Q4_K_M.gguf`). */
  path?: string;
  /** A folder inside the repository (a /tree/<rev>/<folder> URL): its models only. */
  folder?: string;
}

export interface HfFile {
  path: string;
  size: number;
  lfs?: { oid: string; size: number };
}

export interface HubOptions {
  /** Default https://huggingface.co; tests point it at a local server. */
  hubBase?: string;
  fetch?: typeof fetch;
  /** A Hugging Face access token, for gated and private repositories. */
  token?: string;
  signal?: AbortSignal;
}

export const HF_LIMITS = {
  /** The tree API pages by 1,000 entries; 100 pages is a 100,000-file repository, past any model repository. */
  listingPages: 100,
  /** A listing page of 1,000 entries is ~300 KB of JSON. */
  listingPageBytes: 16 * 1024 * 1024,
} as const;

// Hub names: letters, digits, '-', '_', '.', not starting with a dot or dash; at most 96 characters.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;
const HUB_HOSTS = new Set(['huggingface.co', 'www.huggingface.co', 'hf.co']);

const validName = (s: string | undefined): s is string => s !== undefined && NAME.test(s) && !s.endsWith('.git') && !s.includes('..');

/**
 * Parses a Hugging Face reference, or returns undefined when `input` is not one (a plain URL elsewhere, a local
 * path). A bare `owner/repo/file` is also a valid relative path: callers that can read local files try those first.
 */
export function parseHfRef(input: string, hubBase = DEFAULT_HUB): HfRef | undefined {
  let text = input.trim();
  if (/^hf:(\/\/)?/i.test(text)) return parsePathForm(text.replace(/^hf:(\/\/)?/i, ''));
  if (/^(www\.)?(huggingface\.co|hf\.co)\//i.test(text)) text = `https://${text}`;
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    let hub: URL | undefined;
    try {
      url = new URL(text);
      hub = new URL(hubBase);
    } catch {
      return undefined;
    }
    const hubPath = hub.pathname.replace(/\/+$/, '');
    const onHub = HUB_HOSTS.has(url.hostname.toLowerCase()) || (url.origin === hub.origin && url.pathname.startsWith(`${hubPath}/`));
    if (!onHub) return undefined;
    const path = HUB_HOSTS.has(url.hostname.toLowerCase()) ? url.pathname : url.pathname.slice(hubPath.length);
    let segments: string[];
    try {
      segments = path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    } catch {
      return undefined;
    }
    const [owner, name, kind, revision, ...rest] = segments;
    if (!validName(owner) || !validName(name) || ['api', 'datasets', 'spaces', 'docs', 'models'].includes(owner)) return undefined;
    const repo = `${owner}/${name}`;
    if (kind === undefined) {
      // On a custom hub's origin (a local server that also serves plain files), /dir/model.gguf is a file, not a repo.
      if (!HUB_HOSTS.has(url.hostname.toLowerCase()) && /\.(gguf|safetensors|json|bin)$/i.test(name)) return undefined;
      return { repo, revision: 'main' };
    }
    if (revision === undefined || revision === '') return undefined;
    if (kind === 'blob' || kind === 'resolve') return rest.length > 0 ? { repo, revision, path: rest.join('/') } : undefined;
    if (kind === 'tree') return rest.length > 0 ? { repo, revision, folder: rest.join('/') } : { repo, revision };
    return undefined;
  }
  return parsePathForm(text);
}

/** `owner/repo`, `owner/repo@rev`, `owner/repo/path`, `owner/repo@rev/path` */
function parsePathForm(text: string): HfRef | undefined {
  const m = /^([^/@\s]+)\/([^/@\s]+)(?:@([^/\s]+))?(?:\/(.+))?$/.exec(text.trim());
  if (!m) return undefined;
  const [, owner, name, revision, path] = m;
  if (!validName(owner) || !validName(name)) return undefined;
  if (path !== undefined && (path.split('/').some((s) => s === '' || s === '..' || s === '.') || path.length > 1000)) return undefined;
  return { repo: `${owner}/${name}`, revision: revision ?? 'main', ...(path !== undefined ? { path } : {}) };
}

const base = (hubBase: string): string => hubBase.replace(/\/+$/, '');
const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/');

/** `${hub}/${repo}/resolve/${rev}/${path}`: the file itself (the hub redirects LFS files to its CDN). */
export function hfFileUrl(ref: Pick<HfRef, 'repo' | 'revision'>, path: string, hubBase = DEFAULT_HUB): string {
  return `${base(hubBase)}/${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/${encodePath(path)}`;
}

/** The repository's page on the hub. */
export function hfRepoUrl(ref: Pick<HfRef, 'repo' | 'revision'>, hubBase = DEFAULT_HUB): string {
  return ref.revision === 'main' ? `${base(hubBase)}/${ref.repo}` : `${base(hubBase)}/${ref.repo}/tree/${encodeURIComponent(ref.revision)}`;
}

/** `hf:owner/repo@rev/path` — the location string loaders record for hub files. */
export function formatHfRef(ref: HfRef): string {
  return `${ref.repo}${ref.revision === 'main' ? '' : `@${ref.revision}`}${ref.path ? `/${ref.path}` : ''}`;
}

export function hubHeaders(token: string | undefined): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/**
 * Every file in the repository at `ref.revision` (recursively), through the hub's tree API
 * (`/api/models/{repo}/tree/{rev}?recursive=true`, following its Link pagination). Hubs without that route get the
 * model-info API (`/api/models/{repo}/revision/{rev}?blobs=true`, then `/api/models/{repo}`) and its `siblings`.
 * Throws RbeeError 'not-found' (no such repository or revision), 'gated' (gated or private), 'http', 'network'.
 */
export async function listHfFiles(ref: HfRef, opts: HubOptions = {}): Promise<HfFile[]> {
  const hub = base(opts.hubBase ?? DEFAULT_HUB);
  const rev = encodeURIComponent(ref.revision);
  let url: string | undefined = `${hub}/api/models/${ref.repo}/tree/${rev}?recursive=true`;
  const files: HfFile[] = [];
  for (let page = 0; url !== undefined; page++) {
    if (page >= HF_LIMITS.listingPages) {
      throw new RbeeError('limit-exceeded', `${ref.repo} lists more than ${HF_LIMITS.listingPages} pages of files.`, {
        hint: 'Name the file you want: owner/repo/file.gguf.',
      });
    }
    const response = await hubFetch(url, ref, opts);
    if (response.status === 404 && page === 0 && !response.headers.get('x-error-code')) {
      // A hub without the tree route (mirrors, older hubs): fall back to the model-info API.
      await response.body?.cancel().catch(() => undefined);
      return listFromModelInfo(ref, opts);
    }
    if (!response.ok) throw await hubError(response, ref);
    const entries = await readJson(response, url);
    if (!Array.isArray(entries)) throw new RbeeError('http', `The hub's file list for ${ref.repo} is not a list.`, { hint: 'Try again later.' });
    for (const e of entries) {
      if (typeof e !== 'object' || e === null) continue;
      const entry = e as Record<string, unknown>;
      if (entry.type !== 'file' || typeof entry.path !== 'string') continue;
      files.push(fileEntry(entry.path, entry.size, entry.lfs));
    }
    url = nextLink(response.headers.get('link'), url);
  }
  return files;
}

async function listFromModelInfo(ref: HfRef, opts: HubOptions): Promise<HfFile[]> {
  const hub = base(opts.hubBase ?? DEFAULT_HUB);
  const urls = [`${hub}/api/models/${ref.repo}/revision/${encodeURIComponent(ref.revision)}?blobs=true`];
  if (ref.revision === 'main') urls.push(`${hub}/api/models/${ref.repo}?blobs=true`);
  let last: Response | undefined;
  for (const url of urls) {
    const response = await hubFetch(url, ref, opts);
    if (response.status === 404) {
      await response.body?.cancel().catch(() => undefined);
      last = response;
      continue;
    }
    if (!response.ok) throw await hubError(response, ref);
    const info = await readJson(response, url);
    const siblings = typeof info === 'object' && info !== null ? (info as { siblings?: unknown }).siblings : undefined;
    if (!Array.isArray(siblings)) throw new RbeeError('http', `The hub's model info for ${ref.repo} lists no files.`, { hint: 'Try again later.' });
    return siblings.flatMap((s) => {
      const entry = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
      return typeof entry.rfilename === 'string' ? [fileEntry(entry.rfilename, entry.size, entry.lfs)] : [];
    });
  }
  throw await hubError(last!, ref);
}

function fileEntry(path: string, size: unknown, lfs: unknown): HfFile {
  const l = typeof lfs === 'object' && lfs !== null ? (lfs as Record<string, unknown>) : undefined;
  const lfsSize = typeof l?.size === 'number' && Number.isSafeInteger(l.size) && l.size >= 0 ? l.size : undefined;
  const file: HfFile = { path, size: typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? size : (lfsSize ?? 0) };
  if (l && lfsSize !== undefined) file.lfs = { oid: typeof l.oid === 'string' ? l.oid : String(l.sha256 ?? ''), size: lfsSize };
  return file;
}

async function hubFetch(url: string, ref: HfRef, opts: HubOptions): Promise<Response> {
  const fetchFn = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  try {
    return await fetchFn(url, { headers: { Accept: 'application/json', ...hubHeaders(opts.token) }, signal: opts.signal });
  } catch (e) {
    if (opts.signal?.aborted || (e as { name?: string })?.name === 'AbortError') throw new RbeeError('aborted', 'Cancelled.', { cause: e });
    throw unreachableError(`the Hugging Face hub (to list ${ref.repo})`, e, 'Check your connection (and, for a custom hub, its address).');
  }
}

/** The body as JSON, bounded by HF_LIMITS.listingPageBytes; RbeeError (limit-exceeded, http, network) otherwise. */
export async function readJson(response: Response, url: string): Promise<unknown> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > HF_LIMITS.listingPageBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new RbeeError('limit-exceeded', `The hub's answer from ${url} is ${declared} bytes; the limit is ${HF_LIMITS.listingPageBytes}.`);
  }
  const text = await readCapped(response, HF_LIMITS.listingPageBytes, url);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RbeeError('http', `The hub's answer from ${url} is not JSON.`, { hint: 'Check the hub address; try again later.', cause: e });
  }
}

/** The body as text, stopping (and cancelling the transfer) past `limit` bytes: a hub answer is never unbounded. */
async function readCapped(response: Response, limit: number, url: string): Promise<string> {
  const tooLarge = (): RbeeError => new RbeeError('limit-exceeded', `The hub's answer from ${url} is larger than ${limit} bytes.`);
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof RbeeError) throw e;
    throw new RbeeError('network', `The connection to the hub broke while reading ${url}.`, { hint: 'Try again.', cause: e });
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** The hub's error for a repository request, as an RbeeError (the hub's X-Error-Code says which, when it is sent). */
export async function hubError(response: Response, ref: HfRef): Promise<RbeeError> {
  const code = response.headers.get('x-error-code') ?? '';
  await response.body?.cancel().catch(() => undefined);
  const page = `https://huggingface.co/${ref.repo}`;
  if (code === 'GatedRepo' || response.status === 403) {
    return new RbeeError('gated', `${ref.repo} is gated or private: the hub refused access (HTTP ${response.status}).`, {
      hint: `Accept the model's licence at ${page} and provide a Hugging Face access token (HF_TOKEN for the CLI).`,
    });
  }
  if (code === 'RevisionNotFound') {
    return new RbeeError('not-found', `${ref.repo} has no revision '${ref.revision}'.`, { hint: 'Check the branch, tag or commit name.' });
  }
  if (code === 'EntryNotFound') {
    return new RbeeError('not-found', `${ref.repo}@${ref.revision} has no such file or folder.`, { hint: 'Check the file name.' });
  }
  if (code === 'RepoNotFound' || response.status === 404) {
    return new RbeeError('not-found', `No repository ${ref.repo} on the Hugging Face hub (or it is private).`, {
      hint: 'Check the owner and name (owner/repo), or provide an access token for a private repository.',
    });
  }
  if (response.status === 401) {
    // Unauthenticated requests for private repositories and for ones that do not exist both get 401.
    return new RbeeError('gated', `${ref.repo} needs authentication: it is private, gated, or does not exist (HTTP 401).`, {
      hint: `Check the name; for a gated or private model, provide a Hugging Face access token (HF_TOKEN for the CLI).`,
    });
  }
  return new RbeeError('http', `The Hugging Face hub answered HTTP ${response.status} for ${ref.repo}.`, {
    hint: response.status >= 500 ? 'The hub had a problem; try again later.' : 'Check the reference.',
  });
}

function nextLink(header: string | null, current: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (m) {
      try {
        const next = new URL(m[1]!, current);
        // Only follow pages on the same hub.
        return next.origin === new URL(current).origin ? next.href : undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
