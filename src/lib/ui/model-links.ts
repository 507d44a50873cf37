/**
 * Where the app's pages for a model live. A model typed or linked (HF reference, URL) travels in the URL so the page
 * can be bookmarked and shared; local files cannot, so they go by an in-memory id (see opened-files.ts).
 */
export function modelPageForSource(source: string, file?: string | null): string {
  const params = new URLSearchParams({ src: source.trim() });
  if (file) params.set('file', file);
  return `/model?${params}`;
}

/**
 * Where a "try it now" link (`/?model=<hf-ref-or-url>[&file=<name>]`) lands: the model page in try mode, which reads
 * the header, shows the verdict, and then opens the chat — downloading first, asking above a size (see try-it-now.ts).
 */
export function tryItNowPage(source: string, file?: string | null): string {
  return `${modelPageForSource(source, file)}&try=1`;
}

export function modelPageForLocal(id: string): string {
  return `/model?${new URLSearchParams({ local: id })}`;
}

/** The chat page for the same input the model page was opened with ("Run in browser"). */
export function chatPageFor(source: string, file?: string | null): string {
  const params = new URLSearchParams({ model: source });
  if (file) params.set('file', file);
  return `/chat?${params}`;
}
