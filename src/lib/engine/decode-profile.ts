/**
 * Where a decode step's time goes (WebGpuEngine.profileDecode, the worker's `profile` request, bench/decode.ts):
 *
 * - host side, from the real greedy decode path run `steps` times (each step's pick is the next step's token, as in
 *   generation, so steps are submitted ahead): JS time to write the step's inputs, encode and submit (the step
 *   that tops up the ones kept in flight); the wait until the readback is mapped; reading the result;
 * - GPU side, from the same graph run again with each op in its own compute pass between two timestamp writes
 *   (where the adapter has `timestamp-query`): time per kernel, summed over layers and averaged per step. Separate
 *   passes add a little overhead of their own, and Chromium quantises timestamps (100 µs unless its WebGPU
 *   developer features are on), so per-kernel times are averages over many steps, and the host-side wall time per
 *   step is the figure that counts.
 */

export interface DecodeProfile {
  /** Decode steps measured (each phase). */
  steps: number;
  /** Per step, on the real decode path. */
  dispatches: number;
  submits: number;
  /** Bytes copied back to the CPU per step (8 for a greedy pick: its id and logit). */
  readbackBytes: number;
  /**
   * Of the `steps`, how many had been submitted ahead, while the host read the step before (model.ts run()): all of
   * them in greedy generation, so the GPU never waits for the host between tokens.
   */
  submittedAhead: number;
  /** Wall time of a whole step (ms): write inputs, encode, submit, wait, read. */
  stepMs: number;
  /** JS time writing inputs, encoding and submitting (ms). */
  encodeMs: number;
  /** From submit until the result is mapped (ms): GPU work plus queue and mapping latency. */
  waitMs: number;
  /** Reading the mapped result and unmapping (ms). */
  readMs: number;
  /** Whether GPU timestamps were available (else `kernels` have no times and gpuMs is undefined). */
  timestamps: boolean;
  /** Sum of the kernels' GPU times per step (ms), one pass per op. */
  gpuMs?: number;
  /** Per kind of op (layer ops summed over the layers), per step, in graph order. */
  kernels: { name: string; dispatches: number; gpuMs?: number }[];
}

/** "L3 qkv" → "qkv": ops of every layer add up under one name. */
export function opKind(name: string): string {
  return name.replace(/^L\d+ /, '');
}
