/**
 * Choosing the next token from the model's logits, with llama.cpp's semantics so the same settings mean the same
 * thing here and there:
 *
 *   repetition penalty → top-k → top-p → min-p → temperature → draw (seeded)
 *
 * (llama.cpp's default sampler chain order). Temperature 0 is greedy: the first highest logit, nothing else applies
 * except the repetition penalty, exactly as llama.cpp's greedy sampler. The draw uses our own seeded generator
 * (xoshiro128**): the same seed and settings give the same tokens here every time, but not the same tokens as
 * llama.cpp's mt19937, so only greedy output is comparable across the two.
 */
import { RbeeError } from '../errors.ts';

export interface SamplingSettings {
  /** 0 = greedy. Logits are divided by it after the filters. */
  temperature: number;
  /** Keep the K most likely tokens; 0 = off. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches P; 1 = off. */
  topP?: number;
  /** Drop tokens less likely than M × the most likely one; 0 = off. */
  minP?: number;
  /** llama.cpp's repeat_penalty: divide positive / multiply negative logits of recent tokens; 1 = off. */
  repeatPenalty?: number;
  /** How many recent tokens (prompt included) the penalty looks at; llama.cpp's default is 64. */
  repeatLastN?: number;
  /** Seed of the draw; undefined = a fresh random seed (reported back so a run can be repeated). */
  seed?: number;
}

export const DEFAULT_REPEAT_LAST_N = 64;

/** llama.cpp's sampling defaults (llama-cli / server): what `generate`, the chat's settings and the CPU engine start from. */
export const LLAMA_CPP_SAMPLING_DEFAULTS = { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1 } as const satisfies SamplingSettings;

/** Checks settings a user typed; throws RbeeError('bad-value') naming the field. */
export function validateSamplingSettings(s: SamplingSettings): void {
  const bad = (field: string, why: string): never => {
    throw new RbeeError('bad-value', `Sampling setting ${field} ${why}.`, {
      hint: 'temperature ≥ 0, top-k ≥ 0 (integer), 0 < top-p ≤ 1, 0 ≤ min-p ≤ 1, repeat-penalty > 0.',
    });
  };
  if (!Number.isFinite(s.temperature) || s.temperature < 0) bad('temperature', `must be a number ≥ 0, not ${s.temperature}`);
  if (s.topK !== undefined && (!Number.isInteger(s.topK) || s.topK < 0)) bad('top-k', `must be an integer ≥ 0, not ${s.topK}`);
  if (s.topP !== undefined && !(s.topP > 0 && s.topP <= 1)) bad('top-p', `must be in (0, 1], not ${s.topP}`);
  if (s.minP !== undefined && !(s.minP >= 0 && s.minP <= 1)) bad('min-p', `must be in [0, 1], not ${s.minP}`);
  if (s.repeatPenalty !== undefined && !(s.repeatPenalty > 0 && Number.isFinite(s.repeatPenalty)))
    bad('repeat-penalty', `must be a number > 0, not ${s.repeatPenalty}`);
  if (s.repeatLastN !== undefined && (!Number.isInteger(s.repeatLastN) || s.repeatLastN < 0))
    bad('repeat-last-n', `must be an integer ≥ 0, not ${s.repeatLastN}`);
  if (s.seed !== undefined && (!Number.isInteger(s.seed) || s.seed < 0 || s.seed > 0xffffffff))
    bad('seed', `must be an integer in [0, 2^32), not ${s.seed}`);
}

/**
 * xoshiro128** (Blackman & Vigna), seeded through splitmix32 so that nearby seeds give unrelated streams.
 * Small, fast, and the same on every JS engine.
 */
export class SeededRandom {
  private s = new Uint32Array(4);

  constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1; // the all-zero state is a fixed point
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** A uniform number in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A fresh seed when the user gave none (crypto where available, so two tabs do not share one). */
export function randomSeed(): number {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c?.getRandomValues) return c.getRandomValues(new Uint32Array(1))[0]!;
  return Math.floor(Math.random() * 0x100000000);
}

/** Index of the first largest value (llama.cpp's greedy sampler keeps the first on ties). NaN never wins. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** A selection the model makes itself (WebGpuEngine.prefillSelect / decodeSelect): see Sampler.gpuSelection. */
export interface TokenSelection {
  /** Distinct ids left out of the selection, whose raw logits come back instead (the repetition penalty's). */
  exclude: readonly number[];
  /** How many of the best remaining logits come back (1: greedy). */
  k?: number;
}

/** What a selection returns: the k best ids (−1: none) and logits, value descending; the excluded ids' raw logits. */
export interface SelectedCandidates {
  ids: ArrayLike<number>;
  logits: ArrayLike<number>;
  excluded: ArrayLike<number>;
}

/** What the model can select: at most this many excluded ids, this top-k, out of this vocabulary. */
export interface SelectionLimits {
  maxExcluded: number;
  maxTopK: number;
  vocab: number;
}

const NOTHING_EXCLUDED: readonly number[] = Object.freeze([]) as readonly number[];
const GREEDY: TokenSelection = Object.freeze({ exclude: NOTHING_EXCLUDED, k: 1 });

/**
 * The tokens a sampler sees, with their (possibly penalised) logits. Filters shrink it; it stays sorted by logit,
 * descending, once `sorted` is true.
 */
interface Candidates {
  ids: Int32Array;
  logits: Float32Array;
  size: number;
  sorted: boolean;
}

/**
 * One generation's sampler: the settings, the seeded draw and the recent tokens the repetition penalty looks at.
 * Feed it every prompt token and every generated token with `accept` (llama.cpp's servers do the same).
 */
export class Sampler {
  readonly settings: Readonly<SamplingSettings>;
  /** The seed actually used (the given one, or a fresh random one). */
  readonly seed: number;
  private readonly random: SeededRandom;
  private readonly recent: number[] = [];
  private readonly lastN: number;

  constructor(settings: SamplingSettings) {
    validateSamplingSettings(settings);
    this.settings = { ...settings };
    this.seed = settings.seed ?? randomSeed();
    this.random = new SeededRandom(this.seed);
    this.lastN = settings.repeatLastN ?? DEFAULT_REPEAT_LAST_N;
  }

  accept(token: number): void {
    if (this.lastN === 0) return;
    this.recent.push(token);
    if (this.recent.length > this.lastN) this.recent.shift();
  }

  /**
   * What the model may select on the GPU instead of returning the logits (WebGpuEngine.decodeSelect), or undefined
   * when this step needs the full logits. The GPU returns the k best logits outside the tokens the repetition
   * penalty touches (k = 1 for greedy, else top-k), and those tokens' raw logits; `pick` applies the penalty to them
   * here, exactly as `sample` does, and runs the rest of the chain on that set — so both paths choose the same
   * token. Top-k off (0) or above the model's limit needs the full logits.
   */
  gpuSelection(limits: SelectionLimits): TokenSelection | undefined {
    const s = this.settings;
    const k = s.temperature === 0 ? 1 : (s.topK ?? 0);
    if (k < 1 || k > limits.maxTopK) return undefined;
    const penalty = s.repeatPenalty ?? 1;
    const exclude = penalty === 1 || this.recent.length === 0 ? NOTHING_EXCLUDED : [...new Set(this.recent)];
    if (exclude.length > limits.maxExcluded || k + exclude.length > limits.vocab) return undefined;
    return k === 1 && exclude === NOTHING_EXCLUDED ? GREEDY : { k, exclude };
  }

  /**
   * The token from a GPU selection made for `gpuSelection()`'s request. Greedy: the best of the GPU's pick and the
   * excluded tokens with the penalty applied (larger value, then lower id; 0 when nothing is finite — argmax's
   * rule). Top-k: the GPU's k and the penalised excluded tokens, in id order as the full vocabulary would be, go
   * through the same top-k → top-p → min-p → temperature → draw as `sample`.
   */
  pick(selected: SelectedCandidates, selection: TokenSelection): number {
    const penalty = this.settings.repeatPenalty ?? 1;
    const exclude = selection.exclude;
    // Rounded to f32 as the full-logits path stores it (a Float32Array).
    const penalised = (raw: number) => Math.fround(raw <= 0 ? raw * penalty : raw / penalty);
    if (this.settings.temperature === 0) {
      let best = selected.ids[0]!;
      let bestValue = best >= 0 ? selected.logits[0]! : -Infinity;
      for (let i = 0; i < exclude.length; i++) {
        const v = penalised(selected.excluded[i]!);
        const id = exclude[i]!;
        if (v > bestValue || (v === bestValue && best >= 0 && id < best && v > -Infinity)) {
          best = id;
          bestValue = v;
        }
      }
      return best >= 0 ? best : 0;
    }
    const merged: { id: number; logit: number }[] = [];
    for (let i = 0; i < selected.ids.length; i++) if (selected.ids[i]! >= 0) merged.push({ id: selected.ids[i]!, logit: selected.logits[i]! });
    for (let i = 0; i < exclude.length; i++) merged.push({ id: exclude[i]!, logit: penalised(selected.excluded[i]!) });
    merged.sort((a, b) => a.id - b.id);
    const c: Candidates = {
      ids: Int32Array.from(merged, (m) => m.id),
      logits: Float32Array.from(merged, (m) => m.logit),
      size: merged.length,
      sorted: false,
    };
    return this.filterAndDraw(c);
  }

  private filterAndDraw(candidates: Candidates): number {
    const s = this.settings;
    let c = candidates;
    if (s.topK !== undefined && s.topK > 0) c = keepTopK(c, s.topK);
    if (s.topP !== undefined && s.topP < 1) c = keepTopP(c, s.topP);
    if (s.minP !== undefined && s.minP > 0) c = keepMinP(c, s.minP);
    return this.draw(c, s.temperature);
  }

  /** The next token. Does not modify `logits`. */
  sample(logits: Float32Array): number {
    const s = this.settings;
    const penalty = s.repeatPenalty ?? 1;
    const penalised = penalty !== 1 && this.recent.length > 0 ? this.applyRepeatPenalty(logits, penalty) : logits;
    if (s.temperature === 0) return argmax(penalised);

    return this.filterAndDraw(allCandidates(penalised));
  }

  private applyRepeatPenalty(logits: Float32Array, penalty: number): Float32Array {
    const out = new Float32Array(logits);
    // Each distinct recent token once, whatever its count (count-based penalties are frequency/presence, not this).
    for (const token of new Set(this.recent)) {
      if (token < 0 || token >= out.length) continue;
      const v = out[token]!;
      out[token] = v <= 0 ? v * penalty : v / penalty;
    }
    return out;
  }

  private draw(c: Candidates, temperature: number): number {
    let max = -Infinity;
    for (let i = 0; i < c.size; i++) max = Math.max(max, c.logits[i]!);
    if (max === -Infinity) return c.ids[0]!; // everything masked: fall back to the first candidate
    const weights = new Float64Array(c.size);
    let sum = 0;
    for (let i = 0; i < c.size; i++) {
      const w = Math.exp((c.logits[i]! - max) / temperature);
      weights[i] = w;
      sum += w;
    }
    let u = this.random.next() * sum;
    for (let i = 0; i < c.size; i++) {
      u -= weights[i]!;
      if (u < 0) return c.ids[i]!;
    }
    // Rounding left u ≥ 0 after the last weight: the last candidate with any weight.
    for (let i = c.size - 1; i >= 0; i--) if (weights[i]! > 0) return c.ids[i]!;
    return c.ids[0]!;
  }
}

function allCandidates(logits: Float32Array): Candidates {
  const ids = new Int32Array(logits.length);
  for (let i = 0; i < ids.length; i++) ids[i] = i;
  return { ids, logits: new Float32Array(logits), size: logits.length, sorted: false };
}

/** Sorts candidates by logit, descending (ties: lower id first, for determinism). */
function sortCandidates(c: Candidates): Candidates {
  if (c.sorted) return c;
  const order = Array.from(c.ids.subarray(0, c.size).keys());
  order.sort((a, b) => c.logits[b]! - c.logits[a]! || c.ids[a]! - c.ids[b]!);
  const ids = new Int32Array(c.size);
  const logits = new Float32Array(c.size);
  order.forEach((from, to) => {
    ids[to] = c.ids[from]!;
    logits[to] = c.logits[from]!;
  });
  return { ids, logits, size: c.size, sorted: true };
}

function keepTopK(c: Candidates, k: number): Candidates {
  if (k >= c.size) return sortCandidates(c);
  // Partial selection: the k-th largest logit by a threshold, then sort only what survives.
  const threshold = kthLargest(c.logits.subarray(0, c.size), k);
  const ids: number[] = [];
  const logits: number[] = [];
  for (let i = 0; i < c.size; i++) {
    if (c.logits[i]! > threshold) {
      ids.push(c.ids[i]!);
      logits.push(c.logits[i]!);
    }
  }
  for (let i = 0; i < c.size && ids.length < k; i++) {
    if (c.logits[i]! === threshold) {
      ids.push(c.ids[i]!);
      logits.push(c.logits[i]!);
    }
  }
  return sortCandidates({ ids: Int32Array.from(ids), logits: Float32Array.from(logits), size: ids.length, sorted: false });
}

/** The k-th largest value (1-based) of `values`, by quickselect on a copy. */
function kthLargest(values: Float32Array, k: number): number {
  const a = Float32Array.from(values);
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target]!;
}

/** Softmax of the candidates' logits (temperature 1), in their order. */
function probabilities(c: Candidates): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < c.size; i++) max = Math.max(max, c.logits[i]!);
  const p = new Float64Array(c.size);
  let sum = 0;
  for (let i = 0; i < c.size; i++) {
    p[i] = Math.exp(c.logits[i]! - max);
    sum += p[i]!;
  }
  for (let i = 0; i < c.size; i++) p[i]! /= sum;
  return p;
}

function keepTopP(c: Candidates, topP: number): Candidates {
  const sorted = sortCandidates(c);
  const p = probabilities(sorted);
  let cumulative = 0;
  let keep = sorted.size;
  for (let i = 0; i < sorted.size; i++) {
    cumulative += p[i]!;
    if (cumulative >= topP) {
      keep = i + 1;
      break;
    }
  }
  return { ...sorted, size: Math.max(1, keep) };
}

function keepMinP(c: Candidates, minP: number): Candidates {
  // p_i ≥ minP · p_max  ⇔  logit_i ≥ logit_max + ln(minP): no softmax needed.
  let max = -Infinity;
  for (let i = 0; i < c.size; i++) max = Math.max(max, c.logits[i]!);
  const threshold = max + Math.log(minP);
  const ids: number[] = [];
  const logits: number[] = [];
  for (let i = 0; i < c.size; i++) {
    if (c.logits[i]! >= threshold) {
      ids.push(c.ids[i]!);
      logits.push(c.logits[i]!);
    }
  }
  return { ids: Int32Array.from(ids), logits: Float32Array.from(logits), size: ids.length, sorted: c.sorted };
}

export interface TokenLogprob {
  token: number;
  logprob: number;
}

/** ln Σ exp(logits), computed stably in float64. */
export function logSumExp(logits: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  return max + Math.log(sum);
}

/**
 * Log-probabilities of the model's own distribution (temperature 1, no penalties: what the model believes, not
 * what the sampler did): of `token`, and of the `topK` most likely tokens, most likely first.
 */
export function logprobsOf(logits: Float32Array, token: number, topK = 0): { logprob: number; top?: TokenLogprob[] } {
  const lse = logSumExp(logits);
  const logprob = logits[token]! - lse;
  if (topK <= 0) return { logprob };
  const top = keepTopK(allCandidates(logits), Math.min(topK, logits.length));
  const list: TokenLogprob[] = [];
  for (let i = 0; i < top.size; i++) list.push({ token: top.ids[i]!, logprob: top.logits[i]! - lse });
  return { logprob, top: list };
}
