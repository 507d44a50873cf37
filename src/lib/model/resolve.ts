/**
 * resolve(ref): the one way from a ModelRef to the files behind it (a ModelFileSet), for the pages and the inference
 * worker alike, under one rule:
 *
 *   every file is read from this device's download cache when a complete copy of the model is there (offline too),
 *   else from where the reference points; a repository's listing comes from the hub, or from the cache when the hub
 *   cannot be reached.
 *
 * What an earlier read learned (KnownModel: the header's descriptor, the repository listing) can be handed on, so the
 * model page, the chat page and the worker read a model's header once between them (see openKnownModel and the
 * worker's load request).
 */
import { cachedSetFor } from './cached-model-set.ts';
import { RbeeError, toRbeeError } from '../errors.ts';
import type { ModelDescriptor } from '../formats/descriptor.ts';
import { DEFAULT_HUB } from '../hub/hf.ts';
import { inspectSet, type InspectResult } from './inspect.ts';
import { blobFileSet, type ModelFileSet } from './model-file-set.ts';
import { remoteFileSet } from './remote-file-set.ts';
import { remoteSource, type ModelRef, type RemoteModelRef } from './model-ref.ts';
import { filesNoLongerOpen, openedFiles } from './opened-files.ts';

/** How to reach what a reference names: none of it belongs in a link. */
export interface ModelReach {
  /** The Hugging Face hub (or a stand-in with its API); default https://huggingface.co. */
  hubBase?: string;
  /** Hugging Face access token (gated / private repositories). */
  token?: string;
  /** HTTP headers for a plain URL (the CLI's). */
  headers?: Record<string, string>;
  /**
   * The files of a local reference. The page finds them by the reference's id (opened-files.ts); the worker, which
   * cannot see the page's memory, is handed them (Files are structured-cloned as handles, not bytes).
   */
  files?: readonly File[];
}

/** What reading a model taught, worth handing on instead of reading again. Structured-cloneable. */
export interface KnownModel {
  /** The header, read into a descriptor; its files carry their paths in the set. */
  descriptor: ModelDescriptor;
  /** The repository listing, for a Hugging Face reference. */
  hf?: ModelFileSet['hf'];
}

export interface ResolveOptions {
  signal?: AbortSignal;
  fetch?: typeof fetch;
  known?: KnownModel;
}

export async function resolve(ref: ModelRef, reach: ModelReach = {}, options: ResolveOptions = {}): Promise<ModelFileSet> {
  if (ref.kind === 'local') {
    const files = reach.files ?? openedFiles(ref.id);
    if (!files) throw filesNoLongerOpen('page');
    if (files.length === 0) throw new RbeeError('not-found', 'No files were given.', { hint: 'Drop or pick the model file(s).' });
    return ref.file ? { ...blobFileSet(files), primary: ref.file } : blobFileSet(files);
  }
  const hubBase = reach.hubBase ?? DEFAULT_HUB;
  const cached = await cachedSetFor(ref, hubBase);
  if (cached && typeof navigator !== 'undefined' && navigator.onLine === false) return cached;
  let remote: ModelFileSet;
  try {
    remote = await remoteSet(ref, hubBase, reach, options);
  } catch (e) {
    // The hub or server out of reach, but the model is on this device: the cache's own listing will do.
    if (cached && e instanceof RbeeError && e.code === 'network') return cached;
    throw e;
  }
  return cached ? preferCached(cached, remote) : remote;
}

/** Resolves and reads the header (never the weights): what a model page shows, and what it hands on. */
export async function inspectRef(ref: ModelRef, reach: ModelReach = {}, options: ResolveOptions = {}): Promise<InspectResult> {
  try {
    const set = await resolve(ref, reach, options);
    return await inspectSet(set, { ...(options.signal ? { signal: options.signal } : {}), ...(options.fetch ? { fetch: options.fetch } : {}) });
  } catch (e) {
    throw toRbeeError(e);
  }
}

/** What a read taught, to hand on (to the chat page, the worker). */
export function knownModel(result: InspectResult): KnownModel {
  return { descriptor: result.descriptor, ...(result.hf ? { hf: result.hf } : {}) };
}

function remoteSet(ref: RemoteModelRef, hubBase: string, reach: ModelReach, options: ResolveOptions): Promise<ModelFileSet> {
  return remoteFileSet(remoteSource(ref, hubBase), {
    hubBase,
    ...(reach.token ? { token: reach.token } : {}),
    ...(reach.headers ? { headers: reach.headers } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.known?.hf ? { listing: options.known.hf } : {}),
  });
}

/** The remote set's listing and names, with every file it has in the cache read from there. */
function preferCached(cached: ModelFileSet, remote: ModelFileSet): ModelFileSet {
  return {
    ...remote,
    async open(path, signal) {
      return (await cached.open(path, signal)) ?? remote.open(path, signal);
    },
  };
}
