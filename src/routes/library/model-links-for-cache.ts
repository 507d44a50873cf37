/**
 * Links from the library to a cached model's pages. They carry the same reference the model was downloaded from (a
 * repository and file, or a URL), so the model and chat pages find it in the cache — and the hub it came from when
 * that is not the one set now.
 */
import type { CachedModel } from '../../lib/cache/cached-models.ts';
import { normaliseBase } from '../../lib/cache/cached-models.ts';
import { chatPage, modelPage, remoteRef } from '../../lib/ui/model-links.ts';

export function cachedModelSource(m: CachedModel): { source: string; file?: string } {
  if (m.origin.kind === 'hf') {
    const repo = m.origin.revision === 'main' ? m.origin.repo : `${m.origin.repo}@${m.origin.revision}`;
    return { source: repo, file: m.primary };
  }
  return { source: m.files.find((f) => f.path === m.primary)?.url ?? m.files[0]!.url };
}

function withHub(href: string, m: CachedModel, currentHub: string): string {
  if (m.origin.kind !== 'hf' || normaliseBase(m.origin.hubBase) === normaliseBase(currentHub)) return href;
  return `${href}&hub=${encodeURIComponent(m.origin.hubBase)}`;
}

export function cachedChatHref(m: CachedModel, currentHub: string): string {
  const { source, file } = cachedModelSource(m);
  return withHub(chatPage(remoteRef(source, file)), m, currentHub);
}

export function cachedModelHref(m: CachedModel, currentHub: string): string {
  const { source, file } = cachedModelSource(m);
  return withHub(modelPage(remoteRef(source, file)), m, currentHub);
}
