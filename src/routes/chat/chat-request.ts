/**
 * What the chat page runs, from its URL: `?model=<HF ref | URL>[&file=…]` (the model page's "Run in browser") or
 * `?local=<id>[&file=…]` (files opened on the home page, kept in this tab), turned into the worker's ModelInput.
 */
import { RbeeError } from '../../lib/errors.ts';
import type { ModelInput } from '../../lib/engine/worker-protocol.ts';
import { formatHfRef, parseHfRef } from '../../lib/hub/hf.ts';
import type { ModelRequest } from '../../lib/ui/open-model.ts';
import { filesNoLongerOpen, openedFiles } from '../../lib/model/opened-files.ts';

export function chatRequestFromUrl(url: URL): ModelRequest | undefined {
  const file = url.searchParams.get('file') || undefined;
  const local = url.searchParams.get('local');
  if (local) return { kind: 'local', id: local, ...(file ? { file } : {}) };
  const source = url.searchParams.get('model')?.trim();
  if (source) return { kind: 'remote', source, ...(file ? { file } : {}) };
  return undefined;
}

/**
 * The context length asked for with `&ctx=<tokens>` (the worker still caps it at the model's own): a smaller KV
 * cache for a small GPU, or a quick look at how the chat fits a long conversation. Undefined: the default.
 */
export function contextLengthFromUrl(url: URL): number | undefined {
  const ctx = url.searchParams.get('ctx');
  if (!ctx || !/^\d+$/.test(ctx)) return undefined;
  const n = Number(ctx);
  return n >= 1 ? n : undefined;
}

export function modelInputFor(request: ModelRequest, hubBase: string): ModelInput {
  if (request.kind === 'local') {
    const files = openedFiles(request.id);
    if (!files) {
      throw filesNoLongerOpen('chat');
    }
    return { kind: 'files', files, ...(request.file ? { primary: request.file } : {}) };
  }
  const ref = parseHfRef(request.source, hubBase);
  if (ref) {
    const withFile = request.file ? formatHfRef({ repo: ref.repo, revision: ref.revision, path: request.file }) : request.source;
    return { kind: 'hf', ref: withFile, hubBase };
  }
  if (/^https?:\/\//i.test(request.source)) return { kind: 'url', url: request.source };
  throw new RbeeError('bad-value', `'${request.source}' is neither a Hugging Face reference nor an http(s) URL.`, {
    hint: 'Open the model from the home page.',
  });
}
