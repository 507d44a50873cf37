// Writes the static verdict badges (static/badges/<confidence>.svg) from src/lib/ui/embed/badge-svg.ts and the
// colours in src/lib/ui/theme.css (run after changing either):
//   npx tsx scripts/badges.ts
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { badgeSvg, themeColours } from '../src/lib/ui/embed/badge-svg.ts';
import { CONFIDENCE_ORDER } from '../src/lib/compat/verdict.ts';

const colours = themeColours(readFileSync('src/lib/ui/theme.css', 'utf8'));
mkdirSync('static/badges', { recursive: true });
for (const confidence of CONFIDENCE_ORDER) {
  writeFileSync(`static/badges/${confidence}.svg`, badgeSvg(confidence, colours[confidence]));
}
console.log(`static/badges: ${CONFIDENCE_ORDER.length} badges written`);
