/**
 * check(descriptor, device) → Verdict: whether this model runs here, how sure we are (the matrix cells of the weight
 * types its tensors actually use), which engine would run it, what it would cost in memory against this device's
 * limits, and what to do instead when it does not fit or is not supported yet. Pure: no I/O, so the CLI, the model
 * page and the tests get the same answer for the same inputs.
 */
import { ARCHITECTURES } from '../engine/capabilities.ts';
import type { ModelDescriptor } from '../formats/descriptor.ts';
import { RbeeError } from '../errors.ts';
import { DEFAULT_DESKTOP_CAPS, describeDeviceCaps, type DeviceCaps } from './device-caps.ts';
import { formatBytes } from '../quantities.ts';
import { engineFor, matrixCell, normaliseArchitecture, WEBGPU_CODE_PATHS } from './matrix.ts';
import { WASM_BACKEND_LABEL, WASM_KV_BYTES_PER_ELEMENT, WASM_MAX_FILE_BYTES, WASM_MEMORY_BYTES, WASM_RUNTIME_OVERHEAD_BYTES } from './wasm-capabilities.ts';
import { holdsNoWeights, NO_WEIGHTS_ADVICE, NO_WEIGHTS_REASON } from '../formats/no-weights.ts';
import { DEFAULT_CONTEXT_LENGTH, KV_BYTES_PER_ELEMENT, kvCacheBytes as planKvCacheBytes, MAX_CHUNK, type MemoryShape, scratchBytes as planScratchBytes } from '../engine/memory-plan.ts';
import {
  BACKENDS,
  CONFIDENCE_ORDER,
  isRunnable,
  weakest,
  type Backend,
  type BackendVerdict,
  type CompanionBackend,
  type Confidence,
  type Engine,
  type MatrixCell,
  type MatrixFormat,
  type MemoryEstimate,
  type SplitTensor,
  type Verdict,
} from './verdict.ts';
import { LABEL_MAIN_TYPE, preferenceOf, quantizationOf } from '../formats/quant-labels.ts';

/** Another file of the same repository (a Hugging Face listing), to recommend when this one does not run. */
export interface SiblingFile {
  fileName: string;
  /** The file-type label ('Q4_K_M'); guessed from the file name when absent. */
  fileType?: string;
  sizeBytes: number;
}

export interface CheckOptions {
  /** Context length to plan the KV cache for; default min(the model's, DEFAULT_CONTEXT_LENGTH). */
  contextLength?: number;
  siblings?: SiblingFile[];
  /** Whether a companion (native rbee worker) answered on this machine, and with which backends. */
  companion?: { available: boolean; backends?: CompanionBackend[] };
  /**
   * The engine the user picked (chat page control, settings, `&engine=` on a chat link); undefined: what this device
   * runs best — a hardware WebGPU adapter → WebGPU, no adapter or a software one → the CPU (WebAssembly) for GGUF.
   */
  engine?: EngineChoice;
}

/** The engines a user can pick for a GGUF model. */
export const ENGINE_CHOICES = ['webgpu', 'wasm', 'companion'] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];

export function parseEngineChoice(value: string | null | undefined): EngineChoice | undefined {
  return (ENGINE_CHOICES as readonly string[]).includes(value ?? '') ? (value as EngineChoice) : undefined;
}

/** Context planned for when the user has not chosen one: the engine's default (memory-plan.ts). */
export { DEFAULT_CONTEXT_LENGTH };


/**
 * WebGPU does not tell a page how much GPU memory there is. 8 GiB is what a current desktop GPU commonly has, and
 * about what the largest models browser engines ship today (8B parameters at 4 bits plus a 4k cache, 5–6 GB) need.
 * A device known to have less or more sets DeviceCaps.memoryBudgetBytes.
 */
export const DEFAULT_MEMORY_BUDGET_BYTES = 8 * 1024 ** 3;

/** The engine's scratch, as memory-plan.ts sizes it. */
export const SCRATCH_FORMULA =
  `4 B × [${MAX_CHUNK}·(2·n_embd + 2·n_head·head_dim + 2·n_ff) + n_embd + 2·n_vocab + ${MAX_CHUNK}] + ctx · head_dim/2 · 8 B + ` +
  `uniforms: one prefill step of up to ${MAX_CHUNK} tokens (residual, normed input, query, attention output, FFN gate and up, f32), ` +
  'the last row, logits and their readback, token ids, the RoPE table; attention scores are never stored';

const RANK = (c: Confidence): number => CONFIDENCE_ORDER.indexOf(c);

/** The file-type label in a file name ("SmolLM2-135M-Instruct-Q4_K_M.gguf" → "Q4_K_M") that the matrix knows, if any. */
export function fileTypeFromName(fileName: string): string | undefined {
  const label = quantizationOf(fileName);
  return label !== undefined && LABEL_MAIN_TYPE[label] ? label : undefined;
}

interface Hyper {
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  embd: number;
  ffn: number;
  vocab: number;
}

function hyperparameters(d: ModelDescriptor): { hyper: Hyper; missing: string[] } {
  const missing: string[] = [];
  const need = (name: string, v: number | undefined): number => {
    if (v === undefined || !Number.isFinite(v) || v <= 0) {
      missing.push(name);
      return 0;
    }
    return v;
  };
  const embd = need('embedding length', d.embeddingLength);
  const layers = need('block count', d.blockCount);
  const heads = need('head count', d.headCount);
  const kvHeads = d.headCountKv && d.headCountKv > 0 ? d.headCountKv : heads;
  const headDim = d.headDim && d.headDim > 0 ? d.headDim : heads > 0 ? Math.floor(embd / heads) : 0;
  return {
    hyper: {
      layers,
      heads,
      kvHeads,
      headDim,
      embd,
      ffn: d.feedForwardLength ?? 0,
      vocab: d.vocabSize ?? 0,
    },
    missing,
  };
}

/** The engine's memory plan (memory-plan.ts) for these hyperparameters. */
function memoryShape(h: Hyper): MemoryShape {
  return { layers: h.layers, nEmbd: h.embd, qDim: h.heads * h.headDim, kvDim: h.kvHeads * h.headDim, nFf: h.ffn, nVocab: h.vocab, nRot: h.headDim };
}

/** KV cache bytes: 2 (k, v) × layers × ctx × kv heads × head dim × 4 bytes (f32), as the engine allocates it. */
export function kvCacheBytes(h: Pick<Hyper, 'layers' | 'kvHeads' | 'headDim'>, ctx: number): number {
  return planKvCacheBytes({ layers: h.layers, kvDim: h.kvHeads * h.headDim }, ctx);
}

/** The engine's scratch bytes for a model (SCRATCH_FORMULA); 0 when the header lacks the shape. */
export function scratchBytes(h: Hyper, ctx: number): number {
  return h.layers > 0 && h.embd > 0 ? planScratchBytes(memoryShape(h), ctx) : 0;
}

function chooseContext(d: ModelDescriptor, requested: number | undefined): number {
  if (requested !== undefined) {
    if (!Number.isSafeInteger(requested) || requested <= 0) {
      throw new RbeeError('bad-value', `A context length must be a positive whole number, not ${requested}.`, {
        hint: 'Choose a context length such as 2048 or 4096.',
      });
    }
    return requested;
  }
  const model = d.contextLength && d.contextLength > 0 ? d.contextLength : DEFAULT_CONTEXT_LENGTH;
  return Math.min(model, DEFAULT_CONTEXT_LENGTH);
}

function estimateMemory(d: ModelDescriptor, h: Hyper, ctx: number, budget: number): MemoryEstimate {
  const kv = kvCacheBytes(h, ctx);
  const scratch = scratchBytes(h, ctx);
  const total = d.totalWeightBytes + kv + scratch;
  const largest = d.tensors.reduce((m, t) => Math.max(m, t.size ?? 0), 0);
  return {
    weightsBytes: d.totalWeightBytes,
    kvCacheBytes: kv,
    scratchBytes: scratch,
    totalBytes: total,
    contextLength: ctx,
    formulas: {
      kvCache: `2 × ${h.layers} layer${h.layers === 1 ? '' : 's'} × ${ctx} ctx × ${h.kvHeads} kv head${h.kvHeads === 1 ? '' : 's'} × ${h.headDim} head dim × 4 B (f32 cache) = ${formatBytes(kv)}`,
      scratch: `${SCRATCH_FORMULA} = ${formatBytes(scratch)}`,
    },
    budgetBytes: budget,
    fits: total <= budget,
    largestTensorBytes: largest,
  };
}

function splitTensors(d: ModelDescriptor, caps: DeviceCaps): SplitTensor[] {
  // A tensor must be visible through one binding to be read by one dispatch; above the limit the engine uploads it as
  // row ranges in several buffers. The smaller of the two limits decides.
  const limit = Math.min(caps.limits.maxStorageBufferBindingSize, caps.limits.maxBufferSize);
  return d.tensors
    .filter((t) => t.size !== undefined && t.size > limit)
    .map((t) => ({ name: t.name, bytes: t.size!, parts: Math.ceil(t.size! / limit) }));
}

/** The confidence for one backend: the weakest cell over the weight types the tensors use. */
function backendVerdict(arch: string, format: MatrixFormat, types: string[], backend: Backend): { verdict: BackendVerdict; cells: MatrixCell[] } {
  const cells = types.map((t) => matrixCell(arch, format, t, backend));
  const confidence = weakest(cells.map((c) => c.confidence));
  const weakestCells = cells.filter((c) => c.confidence === confidence);
  // Expected on WebGPU: one sentence for all types rather than one per type.
  const reasons =
    confidence === 'expected' && backend === 'webgpu' && format !== 'mlc' && format !== 'onnx'
      ? [`the WebGPU engine has the ${weakestCells[0]!.architecture} ${format} code path and kernels for ${weakestCells.map((c) => c.weightType).join(', ')}; no parity test covers this combination yet`]
      : [...new Set(weakestCells.map((c) => c.reason))];
  return { verdict: { backend, confidence, reasons }, cells };
}

const BACKEND_NAMES: Readonly<Record<Backend, string>> = {
  webgpu: 'WebGPU in this browser',
  wasm: `the ${WASM_BACKEND_LABEL} in this browser`,
  'companion-cpu': 'the companion on CPU',
  'companion-cuda': 'the companion on CUDA',
  'companion-metal': 'the companion on Metal',
};

const COMPANION_WHAT =
  'the companion (a native rbee worker on this machine, running llama.cpp on CUDA, Metal or CPU)';

export function check(descriptor: ModelDescriptor, device?: DeviceCaps, opts: CheckOptions = {}): Verdict {
  const caps = device ?? DEFAULT_DESKTOP_CAPS;
  const assumed = device === undefined || caps.assumed === true;
  const reasons: string[] = [];
  const warnings: string[] = [];
  const recommendations: string[] = [];
  // Where else to run it comes after what to open instead (a sibling file runs right here).
  const companionAdvice: string[] = [];
  const budget = caps.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES;

  const ctx = chooseContext(descriptor, opts.contextLength);
  const { hyper, missing } = hyperparameters(descriptor);
  const memory = estimateMemory(descriptor, hyper, ctx, budget);
  const split = caps.available ? splitTensors(descriptor, caps) : [];
  const deviceInfo = { assumed, available: caps.available, description: describeDeviceCaps(caps) };

  if (assumed) {
    warnings.push(
      `Device capabilities were assumed (${caps.adapter?.description || 'a typical desktop GPU'}: shader-f16, subgroups, ` +
        `${formatBytes(caps.limits.maxStorageBufferBindingSize)} bindings), not probed: open the model in a browser for a verdict about your GPU.`,
    );
  }

  const base = { memory, splitTensors: split, device: deviceInfo };

  // ── An adapter is half a model. ──
  if (descriptor.kind === 'adapter') {
    const reason =
      'This is a LoRA adapter, not a model: it changes a base model and cannot run on its own. Applying adapters to a base model is planned.';
    return {
      ...base,
      runs: false,
      confidence: 'planned',
      engine: 'none',
      reasons: [reason],
      warnings,
      recommendations: ['Open the base model it was trained on (adapter_config.json names it: base_model_name_or_path), or a model with the adapter merged in.'],
      backends: BACKENDS.map((backend) => ({ backend, confidence: 'planned' as Confidence, reasons: [reason] })),
      cells: [],
    };
  }

  // ── A readable but damaged file: shown in full, but no engine can load it. ──
  if (descriptor.defects && descriptor.defects.length > 0) {
    const reasons = [...descriptor.defects];
    return {
      ...base,
      runs: false,
      confidence: 'unsupported',
      engine: 'none',
      reasons,
      warnings,
      recommendations: ['Download the file again, or convert the model again with a current llama.cpp (convert_hf_to_gguf.py).'],
      backends: BACKENDS.map((backend) => ({ backend, confidence: 'unsupported' as Confidence, reasons })),
      cells: [],
    };
  }

  const format = descriptor.format;
  const arch = normaliseArchitecture(descriptor.architecture);
  const types = descriptor.weightTypes.filter((w) => w.tensors > 0).map((w) => w.type);

  if (holdsNoWeights(descriptor)) {
    const reason = NO_WEIGHTS_REASON;
    return {
      ...base,
      runs: false,
      confidence: 'unsupported',
      engine: 'none',
      reasons: [reason],
      warnings,
      recommendations: [NO_WEIGHTS_ADVICE],
      backends: BACKENDS.map((backend) => ({ backend, confidence: 'unsupported' as Confidence, reasons: [reason] })),
      cells: [],
    };
  }

  const perBackend = BACKENDS.map((b) => backendVerdict(descriptor.architecture, format, types, b));
  const backends = perBackend.map((p) => p.verdict);
  const browser = perBackend.find((p) => p.verdict.backend === 'webgpu')!;
  const wasm = perBackend.find((p) => p.verdict.backend === 'wasm')!;
  const browserEngine = engineFor(format, 'webgpu');
  const companions = perBackend.filter((p) => p.verdict.backend !== 'webgpu' && p.verdict.backend !== 'wasm');
  const companionBest = companions.reduce((best, p) => (RANK(p.verdict.confidence) < RANK(best.verdict.confidence) ? p : best));
  const companionConfidence = companionBest.verdict.confidence;

  // ── The browser engine: supported at all, WebGPU present, fits. ──
  const browserSupported = isRunnable(browser.verdict.confidence);
  const browserBlockers: string[] = [];
  // MLC q4f16 builds and ONNX fp16 / q4f16 variants are compiled for 16-bit floats: no f32 fallback on such a GPU.
  const prebuiltNeedsF16 = descriptor.prebuilt?.requiredFeatures.includes('shader-f16') === true;
  // transformers.js falls back to ONNX Runtime's WASM (CPU) build when there is no WebGPU, for 32-bit / 8-bit variants.
  const wasmFallback = descriptor.prebuilt?.engine === 'transformers.js' && !prebuiltNeedsF16;
  if (!caps.available && wasmFallback) {
    warnings.push(`WebGPU is not available here (${caps.reason ?? 'no adapter'}): transformers.js runs this model on the CPU (WASM) instead, much more slowly.`);
  } else if (!caps.available) {
    browserBlockers.push(`WebGPU is not available here: ${caps.reason ?? 'no adapter'}`);
  }
  if (prebuiltNeedsF16 && caps.available && !caps.features.shaderF16) {
    browserBlockers.push(`This ${descriptor.prebuilt!.quantization} build needs the GPU feature shader-f16, which this GPU does not have`);
    if (descriptor.prebuilt!.withoutRequiredFeatures) recommendations.push(descriptor.prebuilt!.withoutRequiredFeatures);
  }
  if (!memory.fits) {
    browserBlockers.push(
      `It needs about ${formatBytes(memory.totalBytes)} (weights ${formatBytes(memory.weightsBytes)}, KV cache ` +
        `${formatBytes(memory.kvCacheBytes)} at ${ctx} tokens, scratch ${formatBytes(memory.scratchBytes)}), more than the ` +
        `${formatBytes(budget)} a browser can be expected to hold on this device.`,
    );
  }
  const browserRuns = browserSupported && browserBlockers.length === 0;

  // ── The CPU engine (llama.cpp's WebAssembly build) for GGUF: where WebGPU is missing or software, or when picked. ──
  const wasmSupported = isRunnable(wasm.verdict.confidence);
  const wasmBlockers = wasmSupported ? wasmLimitProblems(descriptor, hyper, ctx) : [];
  const wasmRuns = wasmSupported && wasmBlockers.length === 0;
  const wasmPreferred = format === 'gguf' && (!caps.available || caps.software === true);
  const choice = opts.engine;
  const useWasm = wasmRuns && (choice === 'wasm' || (choice === undefined && wasmPreferred));
  let engineChoice: string | undefined;

  let engine: Engine;
  let runs: boolean;
  let confidence: Confidence;
  let cells: MatrixCell[];
  if (useWasm) {
    engine = 'wasm';
    runs = true;
    confidence = wasm.verdict.confidence;
    cells = wasm.cells;
    engineChoice =
      choice === 'wasm'
        ? `You picked the ${WASM_BACKEND_LABEL} engine (llama.cpp's WebAssembly build).`
        : !caps.available
          ? `This browser has no WebGPU, so GGUF models run on the CPU through llama.cpp's WebAssembly build.`
          : `The only WebGPU adapter here is a software one (${caps.adapter?.architecture || caps.adapter?.description || 'a fallback adapter'}: its "GPU" is this CPU), where llama.cpp's WebAssembly build is several times faster: GGUF runs on the CPU. Add &engine=webgpu to a chat link to run rbee-web's WebGPU engine anyway.`;
    reasons.push(`It runs on llama.cpp's WebAssembly build, on the CPU in this browser (${confidence}): ${wasm.verdict.reasons.join('; ')}.`);
    if (!caps.available) warnings.push(`WebGPU is not available here (${caps.reason ?? 'no adapter'}): models run on the CPU, more slowly than on a GPU.`);
  } else if (browserRuns && choice !== 'companion') {
    if (format === 'gguf') {
      engineChoice =
        choice === 'webgpu' && caps.software
          ? `You picked rbee-web's WebGPU engine on a software adapter: it runs, more slowly than the ${WASM_BACKEND_LABEL} engine would.`
          : choice === 'webgpu'
            ? `You picked rbee-web's WebGPU engine.`
            : caps.assumed
              ? undefined
              : `This device has a hardware WebGPU adapter, so GGUF runs on rbee-web's WebGPU engine.`;
    }
    engine = browserEngine;
    runs = true;
    confidence = browser.verdict.confidence;
    cells = browser.cells;
    reasons.push(`It runs on ${browserEngine === 'webgpu' ? "rbee-web's WebGPU engine" : browserEngine} (${confidence}): ${browser.verdict.reasons.join('; ')}.`);
  } else if (isRunnable(companionConfidence) && (choice === 'companion' || !(wasmPreferred && wasmSupported))) {
    engine = 'companion';
    const available = opts.companion?.available === true;
    const offered = opts.companion?.backends;
    const usable = companions.filter(
      (p) => isRunnable(p.verdict.confidence) && (offered === undefined || offered.includes(p.verdict.backend as CompanionBackend)),
    );
    runs = available && usable.length > 0;
    const chosen = usable[0] ?? companionBest;
    confidence = chosen.verdict.confidence;
    cells = chosen.cells;
    if (choice === 'companion') engineChoice = 'You picked the companion (a native rbee worker on this machine).';
    if (!browserSupported) reasons.push(`Not in this browser (${browser.verdict.confidence}): ${browser.verdict.reasons.join('; ')}.`);
    reasons.push(...browserBlockers);
    if (wasmPreferred) reasons.push(...wasmBlockers);
    reasons.push(
      runs
        ? `It runs on ${BACKEND_NAMES[chosen.verdict.backend]} (${confidence}): ${chosen.verdict.reasons.join('; ')}.`
        : `${COMPANION_WHAT[0]!.toUpperCase()}${COMPANION_WHAT.slice(1)} is expected to run it, but none is running here.`,
    );
    if (!runs) companionAdvice.push('Start the companion (native rbee worker with CUDA, Metal or CPU) on this machine to run this model.');
  } else {
    // The engine that runs (or, once planned work lands, will run) this format; none for what nothing runs. Where
    // WebGPU is missing or software, a GGUF that fails only the WebAssembly limits names the CPU engine and why.
    const wasmNamed = wasmPreferred && wasmSupported && wasmBlockers.length > 0 && choice !== 'webgpu';
    engine = wasmNamed ? 'wasm' : browser.verdict.confidence === 'unsupported' ? 'none' : browserEngine;
    runs = false;
    confidence = wasmNamed ? wasm.verdict.confidence : browser.verdict.confidence;
    cells = wasmNamed ? wasm.cells : browser.cells;
    if (wasmNamed) {
      reasons.push(`It does not fit llama.cpp's WebAssembly build, the engine for GGUF on this device: ${wasmBlockers.join(' ')}`);
      recommendations.push(...wasmRecommendations(descriptor, hyper, ctx, opts.siblings));
    } else {
      if (!browserSupported) reasons.push(`Not in this browser (${browser.verdict.confidence}): ${browser.verdict.reasons.join('; ')}.`);
      reasons.push(...browserBlockers);
    }
    if (!isRunnable(companionConfidence)) reasons.push(`Not on the companion either (${companionConfidence}): ${companionBest.verdict.reasons.join('; ')}.`);
  }

  // ── Warnings for a model that runs (or would run) in the browser on WebGPU. ──
  if (browserSupported && caps.available && engine !== 'wasm') {
    if (!caps.features.shaderF16 && !descriptor.prebuilt) {
      warnings.push('This GPU has no shader-f16: the engine uses its f32 kernels, which work but run slower and take more scratch memory.');
    }
    if (!caps.features.subgroups) {
      warnings.push('This GPU has no subgroups: reductions use workgroup memory instead, which is slower.');
    }
    if (split.length > 0) {
      const largest = split.reduce((a, b) => (b.bytes > a.bytes ? b : a));
      warnings.push(
        `${split.length} tensor${split.length === 1 ? '' : 's'} exceed${split.length === 1 ? 's' : ''} this GPU's ` +
          `${formatBytes(Math.min(caps.limits.maxStorageBufferBindingSize, caps.limits.maxBufferSize))} storage binding limit and will be split ` +
          `(largest: ${largest.name}, ${formatBytes(largest.bytes)}, in ${largest.parts} parts).`,
      );
    }
    const kvPerLayerHalf = hyper.layers > 0 ? memory.kvCacheBytes / hyper.layers / 2 : 0;
    if (kvPerLayerHalf > caps.limits.maxStorageBufferBindingSize) {
      warnings.push(
        `At ${ctx} tokens one layer's K (or V) cache takes ${formatBytes(kvPerLayerHalf)}, above the binding limit; choose a smaller context.`,
      );
    }
  }
  if (missing.length > 0) {
    warnings.push(`The header does not give the ${missing.join(', ')}, so the memory estimate covers the weights only.`);
  }
  if (opts.contextLength !== undefined && descriptor.contextLength && opts.contextLength > descriptor.contextLength) {
    warnings.push(
      `The chosen context (${opts.contextLength}) is longer than the ${descriptor.contextLength} tokens the model was trained for; output past that degrades.`,
    );
  }
  for (const w of descriptor.weightTypes) {
    if (w.tensors > 0 && w.type.startsWith('unknown')) {
      warnings.push(`${w.tensors} tensor${w.tensors === 1 ? '' : 's'} use a type rbee-web does not know (${w.type}).`);
    }
  }

  // ── Recommendations: what to open instead, or where else to run it. ──
  if (!arch && !descriptor.prebuilt) {
    recommendations.push(
      `rbee-web runs ${ARCHITECTURES.join(', ')} (Mistral and Llama 2/3 count as llama): open a model of one of those. ` +
        (knownArchitectureName(descriptor.architecture)
          ? `llama.cpp itself may run ${descriptor.architecture} natively.`
          : 'The file does not say which architecture it is, so it cannot be matched to an engine.'),
    );
  } else if (!browserSupported) {
    const weakTypes = browser.cells.filter((c) => !isRunnable(c.confidence) && c.weightType !== '*');
    const archPlanned = format === 'gguf' && arch !== undefined && !isRunnable(WEBGPU_CODE_PATHS[arch].gguf.confidence);
    if (format === 'gguf' && arch !== undefined && weakTypes.length > 0 && !archPlanned) {
      recommendations.push(siblingRecommendation(descriptor, weakTypes, arch, ctx, hyper, budget, opts.siblings));
    } else if (format === 'safetensors') {
      recommendations.push('A GGUF conversion of this model (Q4_K_M or Q8_0) is expected to run in the browser sooner: the GGUF path exists first.');
    }
    if (isRunnable(companionConfidence) && engine !== 'companion') recommendations.push(`${COMPANION_WHAT} is expected to run this file.`);
  }
  if (browserSupported && !memory.fits) {
    const smaller = betterSibling(descriptor, arch ?? descriptor.architecture, ctx, hyper, budget, opts.siblings, true);
    if (smaller) {
      recommendations.push(
        `${smaller.label} in the same repository (${smaller.file.fileName}, ${formatBytes(smaller.file.sizeBytes)}) is ${smaller.confidence} to run and fits.`,
      );
    }
    if (memory.kvCacheBytes > memory.weightsBytes / 4 && ctx > 1024) {
      recommendations.push(`A shorter context (e.g. ${Math.max(512, Math.floor(ctx / 4))} tokens) shrinks the KV cache (${formatBytes(memory.kvCacheBytes)} now).`);
    }
    if (engine !== 'companion' || !runs) {
      recommendations.push(`Too large for the browser: run it on ${COMPANION_WHAT}, which uses your GPU's or system's full memory.`);
    }
  }

  if (!runs && engine !== 'wasm' && format === 'gguf' && wasmRuns && choice !== 'wasm') {
    recommendations.push(`The ${WASM_BACKEND_LABEL} engine (llama.cpp's WebAssembly build) runs this file in this browser, more slowly: add &engine=wasm to the chat link.`);
  }

  return {
    ...base,
    runs,
    confidence,
    engine,
    ...(engineChoice ? { engineChoice } : {}),
    reasons,
    warnings,
    recommendations: [...new Set([...recommendations, ...companionAdvice])],
    backends,
    cells,
  };
}

/** The CPU engine's memory for this model: weights + llama.cpp's f16 KV cache + its compute buffers and runtime. */
export function wasmMemoryBytes(d: ModelDescriptor, h: Pick<Hyper, 'layers' | 'kvHeads' | 'headDim'>, ctx: number): number {
  const kv = (kvCacheBytes(h, ctx) / KV_BYTES_PER_ELEMENT) * WASM_KV_BYTES_PER_ELEMENT;
  return d.totalWeightBytes + kv + WASM_RUNTIME_OVERHEAD_BYTES;
}

/** Why a GGUF does not fit llama.cpp's WebAssembly build (one file ≤ 2 GiB, everything in wasm's 4 GiB), one sentence each. */
function wasmLimitProblems(d: ModelDescriptor, h: Hyper, ctx: number): string[] {
  const problems: string[] = [];
  const big = d.files.filter((f) => f.size > WASM_MAX_FILE_BYTES);
  if (big.length > 0) {
    const largest = big.reduce((a, b) => (b.size > a.size ? b : a));
    problems.push(
      `${big.length === d.files.length && d.files.length === 1 ? 'Its file is' : `${big.length} of its files ${big.length === 1 ? 'is' : 'are'}`} larger than the ${formatBytes(WASM_MAX_FILE_BYTES)} one file may be for llama.cpp's WebAssembly build (${largest.location.split('/').pop()}: ${formatBytes(largest.size)}).`,
    );
  }
  const need = wasmMemoryBytes(d, h, ctx);
  if (need > WASM_MEMORY_BYTES) {
    problems.push(
      `It needs about ${formatBytes(need)} (weights ${formatBytes(d.totalWeightBytes)}, f16 KV cache at ${ctx} tokens, runtime), more than the ${formatBytes(WASM_MEMORY_BYTES)} a WebAssembly page can address.`,
    );
  }
  return problems;
}

/** What to pick instead when a GGUF is over the WebAssembly limits. */
function wasmRecommendations(d: ModelDescriptor, h: Hyper, ctx: number, siblings: SiblingFile[] | undefined): string[] {
  const out: string[] = [];
  const own = d.files[0]?.location ?? d.source;
  const overhead = wasmMemoryBytes(d, h, ctx) - d.totalWeightBytes;
  const fitting = (siblings ?? [])
    .filter((f) => !own.endsWith(f.fileName) && f.sizeBytes + overhead <= WASM_MEMORY_BYTES && (f.sizeBytes <= WASM_MAX_FILE_BYTES || /-\d{5}-of-\d{5}\.gguf$/i.test(f.fileName)))
    .sort((a, b) => b.sizeBytes - a.sizeBytes);
  if (fitting[0]) out.push(`${fitting[0].fileName} in the same repository (${formatBytes(fitting[0].sizeBytes)}) fits the ${WASM_BACKEND_LABEL} engine.`);
  if (d.files.some((f) => f.size > WASM_MAX_FILE_BYTES) && wasmMemoryBytes(d, h, ctx) <= WASM_MEMORY_BYTES) {
    out.push('A split GGUF of the same model (parts of at most 2 GB, `llama-gguf-split --split-max-size 2G`) loads on the CPU engine.');
  }
  out.push(`A smaller model or a smaller quantization (at most about ${formatBytes(WASM_MEMORY_BYTES - overhead)} of weights) runs on the CPU here; a browser with WebGPU on a real GPU, or ${COMPANION_WHAT}, runs this one.`);
  return out;
}

interface SiblingChoice {
  file: SiblingFile;
  label: string;
  confidence: Confidence;
  fits: boolean;
}

function betterSibling(
  d: ModelDescriptor,
  arch: string,
  ctx: number,
  h: Hyper,
  budget: number,
  siblings: SiblingFile[] | undefined,
  mustFit: boolean,
): SiblingChoice | undefined {
  if (!siblings || siblings.length === 0) return undefined;
  const own = d.files[0]?.location ?? d.source;
  const overhead = kvCacheBytes(h, ctx) + scratchBytes(h, ctx);
  const choices: SiblingChoice[] = [];
  for (const file of siblings) {
    if (own.endsWith(file.fileName)) continue;
    const label = (file.fileType && LABEL_MAIN_TYPE[file.fileType.toUpperCase()] ? file.fileType.toUpperCase() : undefined) ?? fileTypeFromName(file.fileName);
    if (!label || (d.fileType && label === d.fileType.toUpperCase())) continue;
    const confidence = matrixCell(arch, 'gguf', LABEL_MAIN_TYPE[label]!, 'webgpu').confidence;
    if (!isRunnable(confidence)) continue;
    const fits = file.sizeBytes + overhead <= budget;
    if (mustFit && !fits) continue;
    choices.push({ file, label, confidence, fits });
  }
  choices.sort(
    (a, b) =>
      Number(b.fits) - Number(a.fits) || RANK(a.confidence) - RANK(b.confidence) || preferenceOf(a.label) - preferenceOf(b.label) || b.file.sizeBytes - a.file.sizeBytes,
  );
  return choices[0];
}

function siblingRecommendation(
  d: ModelDescriptor,
  weakCells: MatrixCell[],
  arch: string,
  ctx: number,
  h: Hyper,
  budget: number,
  siblings: SiblingFile[] | undefined,
): string {
  const what = [...new Set(weakCells.map((c) => `${c.weightType}, which is ${c.confidence}`))].join('; ');
  const best = betterSibling(d, arch, ctx, h, budget, siblings, false);
  if (best) {
    return (
      `This file uses ${what}; ${best.label} in the same repository (${best.file.fileName}, ${formatBytes(best.file.sizeBytes)}) ` +
      `is ${best.confidence} to run${best.fits ? '' : ', though it may not fit this device'}.`
    );
  }
  return `This file uses ${what}; a Q4_K_M, Q8_0 or F16 GGUF of the same model is expected to run in the browser.`;
}

/** An architecture the file names (not empty, not the loaders' 'unknown' placeholder). */
function knownArchitectureName(architecture: string): boolean {
  return architecture.trim() !== '' && architecture !== 'unknown';
}
