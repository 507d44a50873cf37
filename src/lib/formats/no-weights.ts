/**
 * A file with no weight tensors (a llama.cpp vocabulary file such as ggml-vocab-llama-spm.gguf, or an empty export):
 * nothing to run. The verdict (check.ts), the inference worker's model opening and so the chat page and the CLI's
 * `generate` all give this one reason, worded once here.
 */
import { RbeeError } from '../errors.ts';
import type { ModelDescriptor } from './descriptor.ts';

export const NO_WEIGHTS_REASON = 'This file holds no weight tensors (a vocabulary-only or empty file), so there is nothing to run.';
export const NO_WEIGHTS_ADVICE = 'Open the model file itself (the one with the weights).';

export function holdsNoWeights(d: Pick<ModelDescriptor, 'weightTypes'>): boolean {
  return !d.weightTypes.some((w) => w.tensors > 0);
}

export function noWeightsError(): RbeeError {
  return new RbeeError('no-weights', NO_WEIGHTS_REASON, { hint: NO_WEIGHTS_ADVICE });
}
