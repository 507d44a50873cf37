/**
 * Who may put rbee-web's pages in a frame. One page is made to be framed by any site — /embed, the verdict badge and
 * "Try it now" button a model page elsewhere includes — and every other page refuses to be framed (clickjacking: a
 * hostile page must not overlay the chat, the library's "Delete all" or the companion's pairing under its own UI).
 *
 * The answer is HTTP response headers, so the server decides: vite preview / dev get them from frame-headers.ts, a
 * static host from static/_headers (rendered from this file; tests/node/framing keeps them equal) or its own config
 * (the README says what to send).
 *
 * Cross-origin isolation (COOP / COEP, which the WebAssembly engine needs for threads) and framing:
 * - COOP only separates top-level windows; it does nothing to frames, so it neither blocks nor allows framing.
 * - COEP `require-corp` on the *framing* page (a marketplace that isolates itself) lets a cross-origin frame load only
 *   if the framed document allows it with `Cross-Origin-Resource-Policy: cross-origin` (and itself sends COEP). /embed
 *   therefore sends CORP `cross-origin`; if the app sends COEP on every page, /embed keeps it, which is fine: its own
 *   requests are same-origin assets and CORS reads of model headers, both allowed under `require-corp`.
 * - COEP on /embed itself never stops it from being framed: it governs what /embed loads, not who loads /embed.
 */

/** Paths of the one framable page (with and without the trailing slash and the prerendered file's name). */
export const FRAMABLE_PATHS: readonly string[] = ['/embed', '/embed/', '/embed.html'];

/** Every other page: no framing at all, by the modern header and by the legacy one older browsers read. */
export const REFUSE_FRAMING: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
};

/**
 * /embed: any origin may frame it. No X-Frame-Options at all (it has no "allow everyone" value; CSP frame-ancestors
 * overrides it where both are sent, but older browsers would obey a DENY). CORP cross-origin: see the header comment.
 */
export const ALLOW_FRAMING: Readonly<Record<string, string>> = {
  'Content-Security-Policy': 'frame-ancestors *',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

export function isFramablePath(pathname: string): boolean {
  return FRAMABLE_PATHS.includes(pathname);
}

/** The framing headers for a response to `pathname` (the URL's path, without the query). */
export function frameHeaders(pathname: string): Readonly<Record<string, string>> {
  return isFramablePath(pathname) ? ALLOW_FRAMING : REFUSE_FRAMING;
}

/**
 * The same policy as a `_headers` file for static hosts that read one (Cloudflare Pages' syntax: a `! Name` line
 * detaches a header that a broader rule attached). Netlify reads the file too but merges every matching rule without
 * detaching, so there /embed would also get the refusal: list the app's pages instead of `/*` (see the README).
 */
export function headersFile(): string {
  const lines = ['# Generated from src/lib/framing/frame-policy.ts (tests/node/framing/frame-policy.test.ts keeps it equal).', '/*'];
  for (const [name, value] of Object.entries(REFUSE_FRAMING)) lines.push(`  ${name}: ${value}`);
  for (const path of FRAMABLE_PATHS) {
    lines.push(path);
    for (const name of Object.keys(REFUSE_FRAMING)) lines.push(`  ! ${name}`);
    for (const [name, value] of Object.entries(ALLOW_FRAMING)) lines.push(`  ${name}: ${value}`);
  }
  return `${lines.join('\n')}\n`;
}
