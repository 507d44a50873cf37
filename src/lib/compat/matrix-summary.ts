/**
 * The matrix in a few lines of markdown for the README: one row per architecture × format, the WebGPU and CPU
 * (WebAssembly) weight types grouped by confidence, and the companion's answer. tests/node/compat/readme.test.ts keeps the README's copy equal to
 * this, so the README can never claim more (or less) than the matrix; `npx tsx scripts/readme-matrix.ts` rewrites it.
 */
import { ARCHITECTURE_LABELS, listMatrixRows } from './matrix.ts';
import { ARCHITECTURES } from '../engine/capabilities.ts';
import { CONFIDENCE_ORDER, type Confidence } from './verdict.ts';

export const README_MATRIX_START = '<!-- matrix-summary: generated from src/lib/compat/matrix.ts -->';
export const README_MATRIX_END = '<!-- /matrix-summary -->';

function grouped(entries: { weightType: string; confidence: Confidence }[]): string {
  const only = new Set(entries.map((e) => e.confidence));
  if (only.size === 1 && entries.length > 4) return `${[...only][0]}: every listed type`;
  return CONFIDENCE_ORDER.map((c) => {
    const types = entries.filter((e) => e.confidence === c).map((e) => e.weightType);
    return types.length ? `${c}: ${types.join(' ')}` : '';
  })
    .filter(Boolean)
    .join(' · ');
}

export function matrixSummaryMarkdown(): string {
  const rows = listMatrixRows();
  const lines = [
    '| architecture | format | WebGPU (this browser) | CPU, WebAssembly (this browser, llama.cpp) | companion (llama.cpp: CPU / CUDA / Metal) |',
    '|---|---|---|---|---|',
  ];
  for (const architecture of ARCHITECTURES) {
    for (const format of ['gguf', 'safetensors'] as const) {
      const here = rows.filter((r) => r.architecture === architecture && r.format === format);
      const webgpu = grouped(here.map((r) => ({ weightType: r.weightType, confidence: r.cells.webgpu.confidence })));
      const wasm = grouped(here.map((r) => ({ weightType: r.weightType, confidence: r.cells.wasm.confidence })));
      const companion = grouped(here.map((r) => ({ weightType: r.weightType, confidence: r.cells['companion-cpu'].confidence })));
      lines.push(`| ${ARCHITECTURE_LABELS[architecture]} | ${format === 'gguf' ? 'GGUF' : 'SafeTensors'} | ${webgpu} | ${wasm} | ${companion} |`);
    }
  }
  for (const format of ['mlc', 'onnx'] as const) {
    const cell = rows.find((r) => r.format === format)!.cells.webgpu;
    lines.push(`| any (prebuilt) | ${format === 'mlc' ? 'MLC (web-llm)' : 'ONNX (transformers.js)'} | ${cell.confidence}: ${cell.reason} | unsupported | unsupported |`);
  }
  return [README_MATRIX_START, '', ...lines, '', README_MATRIX_END].join('\n');
}
