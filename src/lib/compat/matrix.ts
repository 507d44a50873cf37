/**
 * The compatibility matrix: architecture × format × weight type × backend → confidence, each cell with its reason.
 * It is declared as a few small tables below (rules, not a thousand literal rows); `matrixCell()` answers one cell,
 * `listMatrix()` / `listMatrixRows()` list them all (the /compat page and the README table).
 *
 * ── How to change it (each is a one-line edit) ───────────────────────────────────────────────────────────────────
 * • A parity test now covers a combination and passes in CI → add one line to VERIFIED:
 *     { architecture: 'llama', format: 'gguf', weightType: 'Q4_K', backend: 'webgpu',
 *       test: { file: 'tests/parity/llama-cpp-parity.test.ts', name: 'the exact test title' } },
 *   tests/node/compat/honesty.test.ts fails unless that file exists and contains that title.
 * • An architecture's forward pass is written (engine/architectures/, named in ARCHITECTURES of engine/capabilities.ts)
 *   → set its line in WEBGPU_CODE_PATHS to EXISTS.
 * • A weight type's WebGPU kernel is written → add it to WEIGHT_TYPES_WITH_KERNELS (engine/capabilities.ts, with its
 *   decoder in kernels/weight-formats.ts) and take it out of PLANNED_KERNELS here.
 * Never mark a cell verified without a test that runs it: "expected" is the honest word for "the code exists".
 */
import { ggmlTypeByName } from '../formats/ggml-types.ts';
import { testTitle } from './test-title.ts';
import {
  BACKENDS,
  MATRIX_FORMATS,
  weakest,
  type Backend,
  type Confidence,
  type Engine,
  type MatrixCell,
  type MatrixFormat,
  type VerifyingTest,
} from './verdict.ts';
import { ARCHITECTURES, WEIGHT_TYPES_WITH_KERNELS, type ArchitectureId } from '../engine/capabilities.ts';

export interface VerifiedCell {
  architecture: ArchitectureId;
  format: MatrixFormat;
  weightType: string;
  backend: Backend;
  test: VerifyingTest;
}

// ── 1. Verified cells: one line per combination a passing parity test covers. ─────────────────────────────────────
// The family parity test (issue 5): random-weight GGUF models of each family, greedy tokens equal to llama.cpp's.
const FAMILY_PARITY = 'tests/parity/family-parity.test.ts';
const QWEN2_TEST: VerifyingTest = { file: FAMILY_PARITY, name: 'Qwen2 GGUF (q/k/v biases, NeoX rope, tied output) in F32, Q8_0 and Q4_K: greedy tokens equal to llama.cpp' };
const QWEN3_TEST: VerifyingTest = { file: FAMILY_PARITY, name: 'Qwen3 GGUF (q/k head norms, head_dim from key_length) in F32, Q8_0 and Q4_K: greedy tokens equal to llama.cpp' };
const GEMMA_TEST: VerifyingTest = { file: FAMILY_PARITY, name: 'Gemma GGUF (embedding scale, GELU, tied output) in F32, Q8_0 and Q4_K: greedy tokens equal to llama.cpp' };
const GEMMA2_TEST: VerifyingTest = { file: FAMILY_PARITY, name: 'Gemma 2 GGUF (post-norms, soft-caps, sliding window) in F32, Q8_0 and Q4_K: greedy tokens equal to llama.cpp' };
const GEMMA3_TEST: VerifyingTest = { file: FAMILY_PARITY, name: 'Gemma 3 GGUF (q/k norms, local/global rope, sliding window) in F32, Q8_0 and Q4_K: greedy tokens equal to llama.cpp' };
const PHI3_TEST: VerifyingTest = { file: FAMILY_PARITY, name: 'Phi-3 GGUF (fused qkv and gate|up, LongRoPE factors) in F32, Q8_0 and Q4_K: greedy tokens equal to llama.cpp' };
// The SafeTensors parity test: twins of GGUF models (HF names and layout, config.json) vs llama.cpp on the GGUF.
const ST_PARITY = 'tests/parity/safetensors-parity.test.ts';
const stCell = (architecture: ArchitectureId, weightType: string, name: string): VerifiedCell => ({
  architecture,
  format: 'safetensors',
  weightType,
  backend: 'webgpu',
  test: { file: ST_PARITY, name },
});

const familyCells = (architecture: ArchitectureId, test: VerifyingTest): VerifiedCell[] =>
  (['F32', 'Q8_0', 'Q4_K'] as const).map((weightType) => ({ architecture, format: 'gguf', weightType, backend: 'webgpu', test }));

// The engine parity test (issue 3): a random-weight Llama in each weight type, greedy tokens equal to llama.cpp on the
// model's exact F32 twin up to the first near-tie, and within per-type tolerances on the quantized file itself.
const LLAMA_PARITY = 'tests/parity/llama-cpp-parity.test.ts';
const LLAMA_TWIN_TITLE = '%s: equal to llama.cpp on its exact F32 twin (near-tie 0.03, |Δp| ≤ 0.02)';
const LLAMA_GGUF_TYPES = ['F32', 'F16', 'BF16', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'IQ4_NL'];
const llamaGgufCells = (): VerifiedCell[] =>
  LLAMA_GGUF_TYPES.map((weightType) => ({
    architecture: 'llama',
    format: 'gguf',
    weightType,
    backend: 'webgpu',
    test: { file: LLAMA_PARITY, name: LLAMA_TWIN_TITLE, case: weightType },
  }));

// The WebAssembly engine's parity test (issue 12): `rbee-web generate --engine wasm` (llama.cpp's WebAssembly build in
// headless Chromium) against llama.cpp natively — stories260K (F32) and a random-bit Q4_K Llama.
const WASM_PARITY = 'tests/parity/wasm-parity.test.ts';
const wasmCell = (weightType: string, name: string): VerifiedCell => ({
  architecture: 'llama',
  format: 'gguf',
  weightType,
  backend: 'wasm',
  test: { file: WASM_PARITY, name },
});

export const VERIFIED: readonly VerifiedCell[] = [
  ...llamaGgufCells(),
  wasmCell('F32', 'stories260K on the wasm engine: all 64 greedy tokens equal llama.cpp'),
  wasmCell('Q4_K', "random-bit Q4_K Llama on the wasm engine: greedy tokens equal llama.cpp's up to its first near-tie"),
  ...familyCells('qwen2', QWEN2_TEST),
  ...familyCells('qwen3', QWEN3_TEST),
  ...familyCells('gemma', GEMMA_TEST),
  ...familyCells('gemma2', GEMMA2_TEST),
  ...familyCells('gemma3', GEMMA3_TEST),
  ...familyCells('phi3', PHI3_TEST),
  stCell('llama', 'F32', "stories260K's SafeTensors twin (HF names, rotate-half q/k, config.json): all 64 greedy tokens equal llama.cpp on the GGUF"),
  stCell('llama', 'F16', 'Llama SafeTensors F16 in 2 shards: greedy tokens equal llama.cpp on its GGUF'),
  stCell('llama', 'BF16', 'Llama SafeTensors BF16: greedy tokens equal llama.cpp on its GGUF'),
  stCell('qwen2', 'BF16', 'Qwen2 SafeTensors BF16 (biases, tied lm_head): greedy tokens equal llama.cpp on its GGUF'),
  stCell('qwen3', 'F16', 'Qwen3 SafeTensors F16 (q/k norms): greedy tokens equal llama.cpp on its GGUF'),
  stCell('gemma', 'F32', 'Gemma SafeTensors F32 (1 + w norms): greedy tokens equal llama.cpp on its GGUF'),
  stCell('gemma2', 'BF16', 'Gemma 2 SafeTensors BF16 in 2 shards: greedy tokens equal llama.cpp on its GGUF'),
  stCell('gemma3', 'F16', 'Gemma 3 SafeTensors F16: greedy tokens equal llama.cpp on its GGUF'),
];

// ── 2. WebGPU code paths: does the engine have the forward pass and the loader for this (architecture, format)? ──
export interface CodePath {
  confidence: 'expected' | 'planned';
  reason: string;
}
const EXISTS: CodePath = { confidence: 'expected', reason: 'the WebGPU engine has this architecture and format' };
const NOT_WRITTEN: CodePath = { confidence: 'planned', reason: 'architecture file not written yet' };
const ST_EXISTS: CodePath = {
  confidence: 'expected',
  reason: 'the WebGPU engine runs this architecture from SafeTensors (HF names and layout, config.json)',
};
const PHI3_ST: CodePath = {
  confidence: 'expected',
  reason: 'the WebGPU engine maps Phi-3 SafeTensors (fused qkv_proj, gate_up_proj); LongRoPE (128k) checkpoints are refused (their rope factors live in config.json); no test runs a Phi-3 SafeTensors model',
};

export const WEBGPU_CODE_PATHS: Readonly<Record<ArchitectureId, { gguf: CodePath; safetensors: CodePath }>> = {
  llama: { gguf: EXISTS, safetensors: ST_EXISTS },
  qwen2: { gguf: EXISTS, safetensors: ST_EXISTS },
  qwen3: { gguf: EXISTS, safetensors: ST_EXISTS },
  phi3: { gguf: EXISTS, safetensors: PHI3_ST },
  gemma: { gguf: EXISTS, safetensors: ST_EXISTS },
  gemma2: { gguf: EXISTS, safetensors: ST_EXISTS },
  gemma3: { gguf: EXISTS, safetensors: ST_EXISTS },
};

// ── 3. WebGPU kernels per weight type (dequantize / matmul straight from the GGUF block layout). ────────────────────
type Kernel = 'kernel' | 'planned';
const KERNEL: Kernel = 'kernel';
const PLANNED_KERNEL: Kernel = 'planned';

/** GGUF weight types llama.cpp has and the engine does not decode yet. */
const PLANNED_KERNELS = ['IQ1_S', 'IQ1_M', 'IQ2_XXS', 'IQ2_XS', 'IQ2_S', 'IQ3_XXS', 'IQ3_S', 'IQ4_XS', 'TQ1_0', 'TQ2_0', 'MXFP4'] as const;

/** Every GGUF weight type the matrix lists: the engine's (capabilities.ts), then the planned ones. */
export const WEBGPU_KERNELS: Readonly<Record<string, Kernel>> = Object.fromEntries([
  ...WEIGHT_TYPES_WITH_KERNELS.map((t) => [t, KERNEL] as const),
  ...PLANNED_KERNELS.map((t) => [t, PLANNED_KERNEL] as const),
]);

/** SafeTensors dtypes that are model weights (the engine would take them as they are, like GGUF F32/F16/BF16). */
const SAFETENSORS_WEIGHT_TYPES = ['F32', 'F16', 'BF16'] as const;

// ── 4. The other engines and the companion. ───────────────────────────────────────────────────────────────────
/**
 * MLC builds run on web-llm, ONNX exports on transformers.js (src/lib/runtime). 'expected', not verified: the adapters
 * exist, but no test here runs a published MLC or ONNX model (their model libraries and weights come from the
 * internet); tests/node/engines runs a tiny ONNX model written by a test helper through the real transformers.js.
 */
const BROWSER_ENGINES: Readonly<Record<'mlc' | 'onnx', { engine: Engine; confidence: 'expected' | 'planned'; reason: string }>> = {
  mlc: {
    engine: 'web-llm',
    confidence: 'expected',
    reason: 'web-llm runs MLC builds compiled for their architecture; no test here runs one (its model libraries come from the internet)',
  },
  onnx: {
    engine: 'transformers.js',
    confidence: 'expected',
    reason: 'transformers.js runs ONNX text-generation exports (WebGPU, WASM fallback); tests run only a tiny generated ONNX model through it, no published one',
  },
};

/**
 * The companion runs GGUF through llama.cpp (node-llama-cpp), which implements every current ggml weight type on CPU,
 * CUDA and Metal for all the architectures above. Nothing tests the companion here yet, so its cells are 'expected'.
 */
const COMPANION_GGUF: CodePath = {
  confidence: 'expected',
  reason: 'the companion runs it through llama.cpp; no test here covers this combination yet',
};
/**
 * The CPU engine (llama.cpp's WebAssembly build, see wasm-capabilities.ts) is llama.cpp itself: every architecture
 * above and every current ggml weight type. GGUF only.
 */
const WASM_GGUF: CodePath = {
  confidence: 'expected',
  reason: "llama.cpp's WebAssembly build runs it on the CPU in this browser; no test here covers this combination yet",
};
const COMPANION_SAFETENSORS: CodePath = {
  confidence: 'planned',
  reason: 'the companion runs GGUF only; convert with llama.cpp convert_hf_to_gguf.py meanwhile',
};

// ── Names ─────────────────────────────────────────────────────────────────────────────────────────────────────
/**
 * Architecture ids as GGUF (`general.architecture`) and config.json (`model_type`, `architectures[0]`) spell them,
 * mapped to the engine's architecture. Mistral and Llama 2/3 share llama's graph and tensor names.
 */
const ARCHITECTURE_ALIASES: Readonly<Record<string, ArchitectureId>> = {
  llama: 'llama',
  mistral: 'llama',
  llamaforcausallm: 'llama',
  mistralforcausallm: 'llama',
  qwen2: 'qwen2',
  qwen2forcausallm: 'qwen2',
  qwen3: 'qwen3',
  qwen3forcausallm: 'qwen3',
  phi3: 'phi3',
  phi3forcausallm: 'phi3',
  gemma: 'gemma',
  gemmaforcausallm: 'gemma',
  gemma2: 'gemma2',
  gemma2forcausallm: 'gemma2',
  gemma3: 'gemma3',
  gemma3_text: 'gemma3',
  gemma3forcausallm: 'gemma3',
};

export const ARCHITECTURE_LABELS: Readonly<Record<ArchitectureId, string>> = {
  llama: 'Llama (Llama 2/3, Mistral, TinyLlama, SmolLM …)',
  qwen2: 'Qwen2 / Qwen2.5',
  qwen3: 'Qwen3',
  phi3: 'Phi-3 / Phi-4',
  gemma: 'Gemma',
  gemma2: 'Gemma 2',
  gemma3: 'Gemma 3',
};

/** The engine's architecture for an id from a file, or undefined when rbee-web does not know it. */
export function normaliseArchitecture(id: string): ArchitectureId | undefined {
  return ARCHITECTURE_ALIASES[id.trim().toLowerCase()];
}

/** The weight types listed for a format on the /compat page (other types still get a cell from `matrixCell`). */
export function listedWeightTypes(format: MatrixFormat): readonly string[] {
  if (format === 'gguf') return Object.keys(WEBGPU_KERNELS);
  if (format === 'safetensors') return SAFETENSORS_WEIGHT_TYPES;
  return ['*'];
}

export function engineFor(format: MatrixFormat, backend: Backend): Engine {
  if (backend === 'wasm') return 'wasm';
  if (backend !== 'webgpu') return 'companion';
  if (format === 'mlc' || format === 'onnx') return BROWSER_ENGINES[format].engine;
  return 'webgpu';
}

// ── Cells ─────────────────────────────────────────────────────────────────────────────────────────────────────
/** A weight type that ggml stores weights in (not an integer/index type, not an intermediate, not a removed layout). */
function weightTypeProblem(weightType: string): string | undefined {
  const info = ggmlTypeByName(weightType);
  if (!info) return `${weightType} is not a weight type rbee-web or llama.cpp knows`;
  if (info.removed) return `${info.name} is a layout llama.cpp removed; re-convert the model with a current llama.cpp`;
  if (['I8', 'I16', 'I32', 'I64', 'F64'].includes(info.name)) return `${info.name} tensors are not model weights any engine runs`;
  if (info.name === 'Q8_1' || info.name === 'Q8_K') return `${info.name} is llama.cpp's internal activation format, not a file weight type`;
  return undefined;
}

const cellOf = (
  architecture: string,
  format: MatrixFormat,
  weightType: string,
  backend: Backend,
  confidence: Confidence,
  reason: string,
  test?: VerifyingTest,
): MatrixCell => ({
  architecture,
  format,
  weightType,
  backend,
  engine: confidence === 'unsupported' ? 'none' : engineFor(format, backend),
  confidence,
  reason,
  ...(test ? { test } : {}),
});

/** One cell: how sure we are that `architecture` in `format` with `weightType` tensors runs on `backend`, and why. */
export function matrixCell(architecture: string, format: MatrixFormat, weightType: string, backend: Backend): MatrixCell {
  const arch = normaliseArchitecture(architecture);
  const type = weightType === '*' ? '*' : (ggmlTypeByName(weightType)?.name ?? weightType);
  const at = (confidence: Confidence, reason: string, test?: VerifyingTest): MatrixCell =>
    cellOf(arch ?? architecture, format, type, backend, confidence, reason, test);

  // MLC and ONNX builds carry their own compiled graph: the architecture list of rbee-web's engine does not apply.
  if ((format === 'mlc' || format === 'onnx') && !VERIFIED.some((v) => v.format === format && v.architecture === arch && v.weightType === type && v.backend === backend)) {
    const cell = (confidence: Confidence, reason: string): MatrixCell => cellOf(arch ?? architecture, format, type, backend, confidence, reason);
    if (backend === 'wasm') return cell('unsupported', wasmFormatReason(format));
    if (backend !== 'webgpu') {
      return cell('unsupported', `${format.toUpperCase()} models run in the browser (${BROWSER_ENGINES[format].engine}), not on the companion`);
    }
    return cell(BROWSER_ENGINES[format].confidence, BROWSER_ENGINES[format].reason);
  }
  if (!arch) {
    return at('unsupported', `the ${architecture || 'unnamed'} architecture is not one rbee-web runs (${ARCHITECTURES.join(', ')})`);
  }
  const verified = VERIFIED.find(
    (v) => v.architecture === arch && v.format === format && v.weightType === type && v.backend === backend,
  );
  if (verified) {
    return at('verified', `covered by "${testTitle(verified.test)}" (${verified.test.file})`, verified.test);
  }

  if (backend === 'wasm' && format !== 'gguf') return at('unsupported', wasmFormatReason(format));
  if (format === 'mlc' || format === 'onnx') {
    if (backend !== 'webgpu') {
      return at('unsupported', `${format.toUpperCase()} models run in the browser (${BROWSER_ENGINES[format].engine}), not on the companion`);
    }
    return at(BROWSER_ENGINES[format].confidence, BROWSER_ENGINES[format].reason);
  }

  if (format === 'safetensors' && !(SAFETENSORS_WEIGHT_TYPES as readonly string[]).includes(type)) {
    return at('unsupported', `SafeTensors ${type} weights are not a dtype rbee-web loads (F32, F16, BF16)`);
  }
  const problem = weightTypeProblem(type);
  if (problem) return at('unsupported', problem);

  if (backend === 'wasm') return at(WASM_GGUF.confidence, WASM_GGUF.reason);
  if (backend !== 'webgpu') {
    const path = format === 'gguf' ? COMPANION_GGUF : COMPANION_SAFETENSORS;
    return at(path.confidence, path.reason);
  }

  const path = WEBGPU_CODE_PATHS[arch][format];
  const kernel = WEBGPU_KERNELS[type];
  if (kernel === undefined) return at('unsupported', `no WebGPU kernel for ${type} is planned`);
  const kernelConfidence: Confidence = kernel === KERNEL ? 'expected' : 'planned';
  const confidence = weakest([path.confidence, kernelConfidence]);
  const reasons: string[] = [];
  if (path.confidence !== 'expected') reasons.push(path.reason);
  if (kernelConfidence !== 'expected') reasons.push(`the WebGPU ${type} kernel is planned, not written yet`);
  if (reasons.length === 0) reasons.push(`${path.reason}, and a ${type} kernel; no parity test covers it yet`);
  return at(confidence, reasons.join('; '));
}

/** Why the CPU (WebAssembly) engine does not take a format: it is llama.cpp, which reads GGUF. */
function wasmFormatReason(format: MatrixFormat): string {
  if (format === 'safetensors') return "the CPU engine (llama.cpp's WebAssembly build) reads GGUF only; a GGUF conversion of this model runs there";
  return `${format.toUpperCase()} builds run on their own engine (${BROWSER_ENGINES[format as 'mlc' | 'onnx'].engine}), not on llama.cpp's WebAssembly build`;
}

/** Every listed cell: architectures × formats × listed weight types × backends. */
export function listMatrix(): MatrixCell[] {
  return listMatrixRows().flatMap((row) => BACKENDS.map((b) => row.cells[b]));
}

export interface MatrixRow {
  architecture: ArchitectureId;
  label: string;
  format: MatrixFormat;
  weightType: string;
  cells: Record<Backend, MatrixCell>;
}

/** The matrix as a table: one row per (architecture, format, weight type), one column per backend. */
export function listMatrixRows(): MatrixRow[] {
  const rows: MatrixRow[] = [];
  for (const architecture of ARCHITECTURES) {
    for (const format of MATRIX_FORMATS) {
      for (const weightType of listedWeightTypes(format)) {
        const cells = Object.fromEntries(
          BACKENDS.map((b) => [b, matrixCell(architecture, format, weightType, b)]),
        ) as Record<Backend, MatrixCell>;
        rows.push({ architecture, label: ARCHITECTURE_LABELS[architecture], format, weightType, cells });
      }
    }
  }
  return rows;
}
