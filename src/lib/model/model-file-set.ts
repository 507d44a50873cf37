/**
 * ModelFileSet: the files a model may consist of, wherever they are — a folder on a web server, a Hugging Face
 * repository, a set of dropped files, a folder on disk (the CLI's, in src/cli). Loaders open a model's other files
 * (split parts, shards, config.json, tokenizer files) by path through it, relative to the set's root.
 */
import { RbeeError } from '../errors.ts';
import { BlobByteSource } from '../formats/blob-source.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import { hfFileUrl, hfRepoUrl, hubHeaders, type HfFile, type HfRef } from '../hub/hf.ts';
import { HttpByteSource } from '../formats/http-source.ts';
import type { ListedFile } from './model-candidates.ts';

export interface ModelFileSet {
  /** What the user opened, for display ('owner/repo', a URL, a file name). */
  readonly label: string;
  /** The file the user pointed at (a path relative to the root), when they pointed at one. */
  readonly primary?: string;
  /** Every file, when the set can be listed (repositories, dropped files, local folders); undefined for a URL. */
  readonly listing?: readonly ListedFile[];
  /** Display name for the model (the repository or folder name), when the set has a better one than a file name. */
  readonly modelName?: string;
  /** When the set is a Hugging Face repository. */
  readonly hf?: { repo: string; revision: string; url: string; files: HfFile[] };
  /** The file at `path`, or undefined when the set has no such file. Other failures throw RbeeError. */
  open(path: string, signal?: AbortSignal): Promise<ByteSource | undefined>;
  /** Releases what open() acquired (file handles); optional. */
  close?(): Promise<void>;
}

export interface HttpOptions {
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

/** One file on a web server; its siblings are looked up beside it (a 404 means "not there"). */
export function urlFileSet(url: string, opts: HttpOptions = {}): ModelFileSet {
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.pathname.slice(parsed.pathname.lastIndexOf('/') + 1));
  if (!name) {
    throw new RbeeError('unknown-format', `${url} names a folder, not a file.`, { hint: 'Give the URL of a .gguf or .safetensors file.' });
  }
  const folder = new URL('.', parsed);
  return {
    label: url,
    primary: name,
    async open(path, signal) {
      const target = new URL(path.split('/').map(encodeURIComponent).join('/'), folder);
      if (path !== name) target.search = parsed.search; // keep signed-URL style query parameters for siblings too
      const source = new HttpByteSource(path === name ? url : target.href, { ...opts, name: baseOf(path) });
      if (path === name) return source; // its errors belong to the user's input: let the first read raise them
      try {
        await source.size(signal);
        return source;
      } catch (e) {
        if ((e as RbeeError).code === 'not-found') return undefined;
        throw e;
      }
    },
  };
}

/** A Hugging Face repository at a revision, listed through the hub API. */
export function hfFileSet(
  ref: HfRef,
  files: HfFile[],
  opts: HttpOptions & { hubBase: string; token?: string },
): ModelFileSet {
  const known = new Map(files.map((f) => [f.path, f]));
  const headers = { ...opts.headers, ...hubHeaders(opts.token) };
  return {
    label: ref.path ? `${ref.repo}/${ref.path}` : ref.repo,
    ...(ref.path ? { primary: ref.path } : {}),
    listing: files.map((f) => ({ path: f.path, size: f.size })),
    modelName: ref.repo,
    hf: { repo: ref.repo, revision: ref.revision, url: hfRepoUrl(ref, opts.hubBase), files },
    async open(path) {
      if (!known.has(path)) return undefined;
      return new HttpByteSource(hfFileUrl(ref, path, opts.hubBase), { fetch: opts.fetch, headers, name: baseOf(path) });
    },
  };
}

/** Files the user dropped or picked (a folder keeps its relative paths via webkitRelativePath). */
export function blobFileSet(files: readonly File[]): ModelFileSet {
  const byPath = new Map<string, File>();
  for (const f of files) {
    const relative = (f as File & { webkitRelativePath?: string }).webkitRelativePath;
    // A picked folder's paths start with the folder's own name; drop it so paths are relative to the model folder.
    const path = relative ? relative.split('/').slice(1).join('/') || f.name : f.name;
    byPath.set(path, f);
  }
  const listing = [...byPath].map(([path, f]) => ({ path, size: f.size }));
  const only = listing.length === 1 ? listing[0]!.path : undefined;
  const folder = (files[0] as (File & { webkitRelativePath?: string }) | undefined)?.webkitRelativePath?.split('/')[0];
  return {
    label: only ?? (folder || `${listing.length} files`),
    ...(only ? { primary: only } : {}),
    listing,
    ...(folder ? { modelName: folder } : {}),
    async open(path) {
      const f = byPath.get(path);
      return f ? new BlobByteSource(f, baseOf(path)) : undefined;
    },
  };
}

/** A ByteSource given directly: a set of one file. */
export function singleSourceSet(source: ByteSource): ModelFileSet {
  return {
    label: source.location,
    primary: source.name,
    async open(path) {
      return path === source.name ? source : undefined;
    },
  };
}

export const baseOf = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
export const dirOf = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/') + 1) : '');
