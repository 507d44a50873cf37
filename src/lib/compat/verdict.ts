/**
 * The vocabulary of the compatibility check: how sure we are that a combination runs (Confidence), one cell of the
 * matrix (MatrixCell), and the answer for one model on one device (Verdict). The matrix (matrix.ts) and the check
 * (check.ts) produce these; the model page, the /compat page and `rbee-web inspect --json` show them.
 */

/**
 * - verified: a parity test in this repository covers the combination and passes in CI (the cell names the test).
 * - expected: the code path exists; no test covers this exact combination yet.
 * - planned: not implemented yet; the user gets a clear error and what to use instead.
 * - unsupported: not on the roadmap (or not a weight format at all).
 */
export type Confidence = 'verified' | 'expected' | 'planned' | 'unsupported';

/** Strongest first: the order `weakest()` ranks by. */
export const CONFIDENCE_ORDER: readonly Confidence[] = ['verified', 'expected', 'planned', 'unsupported'];

/** The weaker of the given confidences ('verified' for an empty list: nothing weakens it). */
export function weakest(confidences: Iterable<Confidence>): Confidence {
  let rank = 0;
  for (const c of confidences) rank = Math.max(rank, CONFIDENCE_ORDER.indexOf(c));
  return CONFIDENCE_ORDER[rank]!;
}

/** A confidence at which we let the user start the model (planned and unsupported stop with an explanation). */
export function isRunnable(c: Confidence): boolean {
  return c === 'verified' || c === 'expected';
}

export const MATRIX_FORMATS = ['gguf', 'safetensors', 'mlc', 'onnx'] as const;
export type MatrixFormat = (typeof MATRIX_FORMATS)[number];

/**
 * Where the model runs: in this browser on WebGPU, in this browser on the CPU (llama.cpp's WebAssembly build: where
 * WebGPU is missing or only a software adapter exists), or on the companion (a native rbee worker on this machine).
 */
export const BACKENDS = ['webgpu', 'wasm', 'companion-cpu', 'companion-cuda', 'companion-metal'] as const;
export type Backend = (typeof BACKENDS)[number];
export type BrowserBackend = 'webgpu' | 'wasm';
export type CompanionBackend = Exclude<Backend, BrowserBackend>;

/**
 * The code that would run the model. MLC models go to web-llm, ONNX to transformers.js; both on WebGPU. GGUF goes to
 * rbee-web's WebGPU engine on a hardware adapter and to llama.cpp's WebAssembly build ('wasm') otherwise.
 */
export type Engine = 'webgpu' | 'wasm' | 'web-llm' | 'transformers.js' | 'companion' | 'none';

/**
 * The engines that read a GGUF / SafeTensors file where it is (URL, cache, dropped file): rbee-web's WebGPU engine and
 * the CPU engine. A verdict that runs on one of them gets "Run in browser", "Download to this device" and "Chat".
 */
export function runsFromFile(engine: Engine): boolean {
  return engine === 'webgpu' || engine === 'wasm';
}

/** The test that verifies a cell: a file in this repository and the title passed to `test(...)` / `it(...)`. */
export interface VerifyingTest {
  file: string;
  /** The test's title as written in the file (for a parameterised `test.each`, its template, e.g. '%s: …'). */
  name: string;
  /** For a parameterised test: the case that covers this cell (it must appear quoted in the test file). */
  case?: string;
}

export interface MatrixCell {
  architecture: string;
  format: MatrixFormat;
  /** ggml type name ('Q4_K', 'F16', 'BF16', …); '*' for formats whose engines take their own quantisations (mlc, onnx). */
  weightType: string;
  backend: Backend;
  engine: Engine;
  confidence: Confidence;
  /** Why this confidence, in one sentence a user can read. */
  reason: string;
  /** Present exactly when confidence is 'verified'. */
  test?: VerifyingTest;
}

/** One backend's answer for a whole model (the weakest of its cells). */
export interface BackendVerdict {
  backend: Backend;
  confidence: Confidence;
  reasons: string[];
}

/** A tensor larger than one storage-buffer binding: the engine uploads it in parts. */
export interface SplitTensor {
  name: string;
  bytes: number;
  parts: number;
}

export interface MemoryEstimate {
  /** Bytes of weights as stored (quantized stays quantized on the GPU). */
  weightsBytes: number;
  /** 2 (k, v) × layers × context × kv heads × head dim × 4 bytes: the engine keeps its KV cache in f32. */
  kvCacheBytes: number;
  /** The engine's scratch buffers (one prefill step's activations, logits, RoPE table): SCRATCH_FORMULA in check.ts. */
  scratchBytes: number;
  totalBytes: number;
  /** The context length the estimate is for. */
  contextLength: number;
  /** How each part was computed, for display ("KV cache: 2 × 22 layers × 4096 ctx × 4 kv heads × 64 × 4 B"). */
  formulas: { kvCache: string; scratch: string };
  /** The most this device is assumed able to hold for one model (see MemoryBudget in device-caps.ts). */
  budgetBytes: number;
  fits: boolean;
  /** The largest single tensor (a GPU buffer must hold it, or it is split). */
  largestTensorBytes: number;
}

export interface Verdict {
  /** True when the chosen engine can start this model now, on this device (confidence verified or expected). */
  runs: boolean;
  /** Weakest confidence over the weight types the model's tensors actually use, for the chosen engine. */
  confidence: Confidence;
  engine: Engine;
  /** Why it runs or not, one sentence each. */
  reasons: string[];
  /** It runs, but the user should know: slower paths, split tensors, assumed device capabilities. */
  warnings: string[];
  /** What to do instead or as well: a sibling file, the companion, a smaller context. */
  recommendations: string[];
  memory: MemoryEstimate;
  /** Tensors above the device's storage binding limit, which the engine splits. */
  splitTensors: SplitTensor[];
  /** Every backend's confidence for this model: WebGPU, the CPU (WebAssembly), then the companion's (CPU, CUDA, Metal). */
  backends: BackendVerdict[];
  /** The matrix cells the verdict was built from (one per weight type used, for the chosen backend). */
  cells: MatrixCell[];
  /**
   * Why `engine` was chosen over the other browser engine, one sentence ("This browser has no WebGPU: GGUF runs on
   * the CPU through llama.cpp's WebAssembly build."); absent where only one engine could run the format.
   */
  engineChoice?: string;
  /** What the verdict assumed about the device. */
  device: { assumed: boolean; available: boolean; software?: boolean; description: string };
}
