/**
 * web-llm's errors (its own classes, the TVM runtime's, fetch failures) as RbeeErrors. web-llm names its error
 * classes after the problem (WebGPUNotAvailableError, ShaderF16SupportError, DeviceLostError, …); those names are the
 * contract read here, so a minified bundle that keeps class names still maps.
 */
import { RbeeError, toRbeeError } from '../errors.ts';

export function webLlmError(e: unknown, modelId: string): RbeeError {
  if (e instanceof RbeeError) return e;
  const name = (e as { name?: string; constructor?: { name?: string } })?.constructor?.name ?? (e as { name?: string })?.name ?? '';
  const message = e instanceof Error ? e.message : String(e);
  const cause = { cause: e };
  if (name === 'AbortError' || (e instanceof DOMException && e.name === 'AbortError')) return new RbeeError('aborted', 'Cancelled.', cause);
  if (name === 'WebGPUNotAvailableError' || name === 'WebGPUNotFoundError') {
    return new RbeeError('no-webgpu', `web-llm found no WebGPU adapter: ${message}`, { hint: 'Use a browser with WebGPU (recent Chrome, Edge, Safari 26+), or a GGUF model on the companion.', ...cause });
  }
  if (name === 'ShaderF16SupportError' || name === 'FeatureSupportError') {
    return new RbeeError('no-webgpu', `This GPU lacks a feature the ${modelId} build needs: ${message}`, { hint: 'Open the q4f32 build of this model instead; it needs no shader-f16.', ...cause });
  }
  if (name === 'DeviceLostError') {
    return new RbeeError('device-lost', `The GPU was lost while web-llm loaded or ran ${modelId} (usually: not enough GPU memory).`, { hint: 'Close other GPU-heavy tabs, or choose a smaller model.', ...cause });
  }
  if (name === 'QuotaExceededError') return toRbeeError(e);
  if (name === 'ContextWindowSizeExceededError') {
    return new RbeeError('bad-value', `The conversation is longer than ${modelId}'s context window.`, { hint: 'Start a new chat or shorten it.', ...cause });
  }
  if (name === 'IntegrityError') return new RbeeError('checksum', `A file of ${modelId} does not match its recorded hash: ${message}`, cause);
  if (e instanceof TypeError && /fetch|network|load failed|request failed/i.test(message)) {
    return new RbeeError('network', `web-llm could not download ${modelId}: ${message}`, {
      hint: 'The first load needs the internet (the weights and the compiled model library); later loads come from the browser cache.',
      ...cause,
    });
  }
  if (/^Cannot fetch|Failed to fetch|NetworkError|status(?: code)? 40\d|404/i.test(message)) {
    return new RbeeError('network', `web-llm could not download ${modelId}: ${message}`, {
      hint: 'Check the connection; the first load needs the internet (weights and the compiled model library).',
      ...cause,
    });
  }
  if (e instanceof WebAssembly.CompileError || e instanceof WebAssembly.LinkError || /WebAssembly/i.test(message)) {
    return new RbeeError('internal', `web-llm could not start the model library of ${modelId}: ${message}`, {
      hint: 'The compiled model library (.wasm) is damaged or built for another web-llm version.',
      ...cause,
    });
  }
  return new RbeeError('internal', `web-llm failed on ${modelId}: ${message}`, cause);
}
