// The static badges (static/badges/<confidence>.svg) carry the app's words and colours: each file is what
// badgeSvg() writes with theme.css's colour for its confidence (rewrite them with `npx tsx scripts/badges.ts`).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test } from 'vitest';
import { CONFIDENCE_ORDER } from '../../../src/lib/compat/verdict.ts';
import { badgeImagePath, badgeSize, badgeSvg, themeColours } from '../../../src/lib/ui/embed/badge-svg.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';

const theme = readFileSync(resolve(REPO_ROOT, 'src/lib/ui/theme.css'), 'utf8');

test.each([...CONFIDENCE_ORDER])('the %s badge is the app\'s word in the app\'s colour', (confidence) => {
  const colour = themeColours(theme)[confidence];
  const file = readFileSync(resolve(REPO_ROOT, 'static', `.${badgeImagePath(confidence)}`), 'utf8');
  expect(file).toBe(badgeSvg(confidence, colour));
  expect(file).toContain(`>${confidence}</text>`);
  expect(file).toContain(`fill="${colour}"`);
  const { width, height } = badgeSize(confidence);
  expect(file.startsWith(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"`)).toBe(true);
});

test("the colours come from theme.css's light palette, not its dark one", () => {
  expect(themeColours(theme).verified).toBe(/--verified:\s*(#[0-9a-f]{6})/i.exec(theme)![1]!.toLowerCase());
  expect(() => themeColours(theme.replace(/--verified:[^;]+;/, ''))).toThrow(/--verified/);
});
