/**
 * What another site pastes to show rbee-web's verdict for a model: the /embed frame, or a Markdown badge (a static
 * image per confidence) linking to the app's "try it now" link. Pure string building, so it is tested without a
 * browser; the model page's "Embed this" shows these and /embed's button opens tryItNowLink.
 */
import type { Confidence } from '../../compat/verdict.ts';
import { badgeImagePath } from './badge-svg.ts';

/** The embed's box in CSS pixels: the iframe snippet's size and the page's fixed layout (no shift while loading). */
export const EMBED_SIZE = { width: 360, height: 120 } as const;

function modelQuery(source: string, file?: string | null): string {
  const params = new URLSearchParams({ model: source.trim() });
  if (file) params.set('file', file);
  return params.toString();
}

/** The app's public "try it now" link: `<origin>/?model=<ref>[&file=<name>]` (README "Try it now" links). */
export function tryItNowLink(origin: string, source: string, file?: string | null): string {
  return `${origin}/?${modelQuery(source, file)}`;
}

/** The framable verdict card for a model: `<origin>/embed?model=<ref>[&file=<name>]`. */
export function embedPageLink(origin: string, source: string, file?: string | null): string {
  return `${origin}/embed?${modelQuery(source, file)}`;
}

/** Text safe inside a double-quoted HTML attribute. */
function attribute(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

export interface EmbedSnippetInput {
  /** The app's origin, e.g. https://rbee.example (no trailing slash). */
  origin: string;
  /** The model as a try-it-now link names it: an HF reference or a file URL. */
  source: string;
  file?: string | null;
  /** The model's display name (from its header: untrusted text). */
  name: string;
  /** The confidence whose static badge the Markdown snippet shows. */
  confidence: Confidence;
}

export interface EmbedSnippets {
  /** The live card: `<iframe src=".../embed?model=…" …>`. */
  iframe: string;
  /** A static badge image linking to the try-it-now link, for Markdown (model cards, READMEs). */
  markdown: string;
  badgeUrl: string;
}

export function embedSnippets(input: EmbedSnippetInput): EmbedSnippets {
  const src = embedPageLink(input.origin, input.source, input.file);
  // The name goes only into an attribute, escaped; the URLs are percent-encoded by URLSearchParams, so no character
  // in them can end the attribute or a Markdown link's parentheses.
  const title = `rbee-web: will ${input.name} run in your browser?`;
  const iframe =
    `<iframe src="${attribute(src)}" title="${attribute(title)}" width="${EMBED_SIZE.width}" height="${EMBED_SIZE.height}" ` +
    `style="border:0" loading="lazy"></iframe>`;
  const badgeUrl = `${input.origin}${badgeImagePath(input.confidence)}`;
  const markdown = `[![rbee-web: ${input.confidence}](${badgeUrl})](${tryItNowLink(input.origin, input.source, input.file)})`;
  return { iframe, markdown, badgeUrl };
}
