// Rewrites the README's matrix summary from src/lib/compat/matrix.ts (run after flipping a cell):
//   npx tsx scripts/readme-matrix.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { README_MATRIX_END, README_MATRIX_START, matrixSummaryMarkdown } from '../src/lib/compat/matrix-summary.ts';

const readme = readFileSync('README.md', 'utf8');
const start = readme.indexOf(README_MATRIX_START);
const end = readme.indexOf(README_MATRIX_END);
if (start < 0 || end < start) throw new Error('README.md has no matrix-summary markers');
writeFileSync('README.md', readme.slice(0, start) + matrixSummaryMarkdown() + readme.slice(end + README_MATRIX_END.length));
console.log('README.md: matrix summary rewritten');
