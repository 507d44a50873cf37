/**
 * Where the app's pages for a model live. The model travels in the URL as its ModelRef (model/model-ref.ts: one
 * parameter everywhere), so a page can be bookmarked and shared; local files cannot, so they go by an in-memory id
 * (see model/opened-files.ts).
 */
import { modelRefParams, type ModelRef } from '../model/model-ref.ts';

/** A remote reference from what was typed or linked (an HF reference or URL) and, optionally, one file of it. */
export function remoteRef(source: string, file?: string | null): ModelRef {
  return { kind: 'remote', source: source.trim(), ...(file ? { file } : {}) };
}

/** The model page: what it is and whether it runs here. */
export function modelPage(ref: ModelRef): string {
  return `/model?${modelRefParams(ref)}`;
}

/**
 * Where a "try it now" link (`/?model=<hf-ref-or-url>[&file=<name>]`) lands: the model page in try mode, which reads
 * the header, shows the verdict, and then opens the chat — downloading first, asking above a size (see try-it-now.ts).
 */
export function tryItNowPage(ref: ModelRef): string {
  return `${modelPage(ref)}&try=1`;
}

/** The chat page for the same model ("Run in browser"). */
export function chatPage(ref: ModelRef): string {
  return `/chat?${modelRefParams(ref)}`;
}
