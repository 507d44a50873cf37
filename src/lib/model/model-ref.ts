/**
 * ModelRef: which model, as one small serialisable value — the same on the home page, the model page, the chat page,
 * the embed, the library and in the inference worker's load request. It names the model; it does not say how to
 * reach it (the hub's address, a token, HTTP headers: see ModelReach in resolve.ts) and it holds no bytes.
 *
 *   remote  a Hugging Face reference (owner/repo, owner/repo/file.gguf, a huggingface.co link) or an http(s) URL,
 *           as the user typed or linked it; `file` picks one file of a repository
 *   local   files the user dropped or picked in this tab, by the id opened-files.ts gave them (a File cannot go into
 *           a URL); `file` picks one of them
 *
 * In a URL it is one parameter everywhere: `?model=<reference>` or `?local=<id>`, with `&file=<path>`.
 */
import { formatHfRef, parseHfRef } from '../hub/hf.ts';

export type ModelRef =
  | { kind: 'remote'; source: string; file?: string }
  | { kind: 'local'; id: string; file?: string };

export type RemoteModelRef = Extract<ModelRef, { kind: 'remote' }>;

/** The query parameter a remote reference travels in, on every page and in "try it now" links and embeds. */
export const MODEL_PARAM = 'model';
/**
 * What the model page called it before there was one parameter: bookmarks and shared links of the form
 * /model?src=… still open (read, never written).
 */
const LEGACY_MODEL_PARAM = 'src';

/** The reference in a page's URL, or undefined when it names no model. */
export function modelRefFromUrl(url: URL): ModelRef | undefined {
  const params = url.searchParams;
  const file = params.get('file') || undefined;
  const local = params.get('local');
  if (local) return { kind: 'local', id: local, ...(file ? { file } : {}) };
  const source = (params.get(MODEL_PARAM) ?? params.get(LEGACY_MODEL_PARAM))?.trim();
  if (source) return { kind: 'remote', source, ...(file ? { file } : {}) };
  return undefined;
}

/** The query parameters that carry `ref` (the inverse of modelRefFromUrl). */
export function modelRefParams(ref: ModelRef): URLSearchParams {
  const params = ref.kind === 'local' ? new URLSearchParams({ local: ref.id }) : new URLSearchParams({ [MODEL_PARAM]: ref.source.trim() });
  if (ref.file) params.set('file', ref.file);
  return params;
}

/** One string per distinct reference (for remembering what was read about it). */
export function modelRefKey(ref: ModelRef): string {
  return modelRefParams(ref).toString();
}

/**
 * A remote reference with its `file` folded into the source, where the source is a Hugging Face repository
 * (owner/repo + file → owner/repo/file, at the same revision); other references as they are.
 */
export function remoteSource(ref: RemoteModelRef, hubBase: string): string {
  if (!ref.file) return ref.source;
  const hf = parseHfRef(ref.source, hubBase);
  return hf ? formatHfRef({ repo: hf.repo, revision: hf.revision, path: ref.file }) : ref.source;
}
