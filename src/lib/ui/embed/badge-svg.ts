/**
 * The static verdict badges other sites put in Markdown (README files, model cards): one SVG per confidence, shipped
 * in static/badges/, with the app's words and colours (theme.css's light palette, which reads on white and on most
 * page backgrounds). `npx tsx scripts/badges.ts` writes them from this function and theme.css;
 * tests/node/ui/embed-badges.test.ts fails when a file differs, so a colour changed in theme.css reaches the badges.
 */
import type { Confidence } from '../../compat/verdict.ts';

/** Where a confidence's badge is served. */
export function badgeImagePath(confidence: Confidence): string {
  return `/badges/${confidence}.svg`;
}

const LABEL = 'rbee-web';
const LABEL_COLOUR = '#4a4a55';
const HEIGHT = 20;
/** Verdana 11px averages under 7 px per lower-case letter; textLength pins the text to this width whatever the font. */
const CHAR_WIDTH = 7;
const PADDING = 6;

const LABEL_WIDTH = LABEL.length * CHAR_WIDTH + 2 * PADDING;

/** The badge's size in CSS pixels (the SVG's width and height). */
export function badgeSize(confidence: Confidence): { width: number; height: number } {
  return { width: LABEL_WIDTH + confidence.length * CHAR_WIDTH + 2 * PADDING, height: HEIGHT };
}

/** The badge for `confidence` in `colour` (a #rrggbb from theme.css): "rbee-web | verified". */
export function badgeSvg(confidence: Confidence, colour: string): string {
  if (!/^#[0-9a-f]{6}$/i.test(colour)) throw new Error(`badge colour must be #rrggbb, got ${colour}`);
  const labelWidth = LABEL_WIDTH;
  const { width } = badgeSize(confidence);
  const wordWidth = width - labelWidth;
  const text = (x: number, value: string): string =>
    `<text x="${x}" y="14" textLength="${value.length * CHAR_WIDTH}" lengthAdjust="spacingAndGlyphs">${value}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${HEIGHT}" viewBox="0 0 ${width} ${HEIGHT}" role="img" aria-label="${LABEL}: ${confidence}">`,
    `  <title>${LABEL}: ${confidence}</title>`,
    `  <rect width="${width}" height="${HEIGHT}" rx="3" fill="${LABEL_COLOUR}"/>`,
    `  <rect x="${labelWidth}" width="${wordWidth}" height="${HEIGHT}" rx="3" fill="${colour}"/>`,
    `  <rect x="${labelWidth}" width="4" height="${HEIGHT}" fill="${colour}"/>`,
    `  <g fill="#ffffff" font-family="Verdana,'DejaVu Sans',Geneva,sans-serif" font-size="11">`,
    `    ${text(PADDING, LABEL)}`,
    `    ${text(labelWidth + PADDING, confidence)}`,
    '  </g>',
    '</svg>',
    '',
  ].join('\n');
}

/** The light palette's colour of each confidence from theme.css's text (`--verified: #137a3a;` in the first :root). */
export function themeColours(themeCss: string): Record<Confidence, string> {
  const light = themeCss.slice(0, themeCss.indexOf('@media'));
  const colour = (name: Confidence): string => {
    const m = new RegExp(`--${name}:\\s*(#[0-9a-fA-F]{6})\\s*;`).exec(light);
    if (!m) throw new Error(`theme.css declares no --${name} colour before its dark palette`);
    return m[1]!.toLowerCase();
  };
  return { verified: colour('verified'), expected: colour('expected'), planned: colour('planned'), unsupported: colour('unsupported') };
}
