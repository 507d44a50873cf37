/**
 * A remote reference's files: text naming a Hugging Face repository or file (owner/repo, owner/repo/file.gguf, a
 * huggingface.co link, hf:…) becomes the repository's listed file set, an http(s) URL a set of that file and its
 * siblings. The one reading of such text, for resolve() (ModelRefs) and inspect() (tools and tests).
 */
import { RbeeError } from '../errors.ts';
import { listHfFiles, parseHfRef, type HfFile, type HfRef } from '../hub/hf.ts';
import { hfFileSet, urlFileSet, type ModelFileSet } from './model-file-set.ts';

export interface RemoteOptions {
  hubBase: string;
  /** Hugging Face access token (gated / private repositories). */
  token?: string;
  /** HTTP headers for a plain URL. */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** The repository's files, when an earlier read listed them (no listing request then). */
  listing?: { repo: string; revision: string; files: HfFile[] };
}

export async function remoteFileSet(text: string, opts: RemoteOptions): Promise<ModelFileSet> {
  const source = text.trim();
  const hf = parseHfRef(source, opts.hubBase);
  if (hf) return hfRepoFileSet(hf, opts);
  if (/^https?:\/\//i.test(source)) {
    try {
      return urlFileSet(source, { ...(opts.fetch ? { fetch: opts.fetch } : {}), ...(opts.headers ? { headers: opts.headers } : {}) });
    } catch (e) {
      if (e instanceof RbeeError) throw e;
      throw new RbeeError('bad-value', `${source} is not a valid URL.`, { cause: e });
    }
  }
  throw new RbeeError('not-found', `'${source}' is neither a Hugging Face reference (owner/repo) nor an http(s) URL.`, {
    hint: 'Give owner/repo, owner/repo/file.gguf, a huggingface.co link or a file URL.',
  });
}

async function hfRepoFileSet(ref: HfRef, opts: RemoteOptions): Promise<ModelFileSet> {
  const { hubBase } = opts;
  const access = { hubBase, ...(opts.fetch ? { fetch: opts.fetch } : {}), ...(opts.token ? { token: opts.token } : {}) };
  const known = opts.listing;
  // The listing handed on from an earlier read of the same repository and revision: no second listing request.
  if (known && known.repo === ref.repo && known.revision === ref.revision && !ref.folder) return hfFileSet(ref, known.files, access);
  let files = await listHfFiles(ref, { ...access, ...(opts.signal ? { signal: opts.signal } : {}) });
  if (ref.folder) files = files.filter((f) => f.path.startsWith(`${ref.folder}/`));
  if (ref.path && !files.some((f) => f.path === ref.path)) {
    throw new RbeeError('not-found', `${ref.repo}@${ref.revision} has no file ${ref.path}.`, {
      hint: `See the files at ${hubBase.replace(/\/+$/, '')}/${ref.repo}/tree/${ref.revision}.`,
    });
  }
  return hfFileSet(ref, files, access);
}
