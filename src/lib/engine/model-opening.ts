/**
 * Preparing a model to run: its reference → the file set (resolve: the download cache first) → the descriptor (the
 * header a page already read and handed on, else inspect: headers only) → a ByteSource per file for the engine to
 * stream weights from, and the model's text handling (tokenizer / vocabulary pieces). Runs in the worker (and in the
 * wasm engine, which loads the same files into llama.cpp).
 */
import { RbeeError } from '../errors.ts';
import { holdsNoWeights, noWeightsError } from '../formats/no-weights.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import type { ModelDescriptor } from '../formats/descriptor.ts';
import { inspectSet } from '../model/inspect.ts';
import { dirOf } from '../model/model-file-set.ts';
import type { ModelRef } from '../model/model-ref.ts';
import { resolve, type KnownModel, type ModelReach } from '../model/resolve.ts';
import type { ModelText } from './model-text.ts';
import type { AdapterInfo, LoadedModelInfo } from './worker-protocol.ts';
import { textForModel, textForSafetensors } from './tokenizer-choice.ts';

export interface PreparedModel {
  descriptor: ModelDescriptor;
  /** One per descriptor.files entry, in order. */
  sources: ByteSource[];
  text: ModelText;
}

export interface PrepareOptions {
  reach?: ModelReach;
  /** The header (and listing) an earlier read of the same reference learned: not read again. */
  known?: KnownModel;
  signal?: AbortSignal;
}

export async function prepareModel(ref: ModelRef, options: PrepareOptions = {}): Promise<PreparedModel> {
  const { signal, known } = options;
  const set = await resolve(ref, options.reach, { ...(signal ? { signal } : {}), ...(known ? { known } : {}) });
  // A handed-on descriptor names each file's path in the set; one without paths (read elsewhere) is read again here.
  const handed = known && known.descriptor.files.every((f) => f.path !== undefined) ? known.descriptor : undefined;
  const descriptor = handed ?? (await inspectSet(set, signal ? { signal } : {})).descriptor;
  if (descriptor.kind === 'adapter')
    throw new RbeeError('adapter', `${descriptor.name} is a LoRA adapter, not a model: it cannot run on its own.`, {
      hint: 'Open the base model it was trained for.',
    });
  // The verdict's own reason (formats/no-weights.ts), not a missing-tensor error from deep in the engine.
  if (holdsNoWeights(descriptor)) throw noWeightsError();
  if (!(descriptor.format === 'gguf' && descriptor.gguf) && descriptor.format !== 'safetensors')
    throw new RbeeError('unknown-format', `${descriptor.name} is ${descriptor.format}; the WebGPU engine runs GGUF and SafeTensors models.`, {
      hint: 'Open a GGUF or SafeTensors version of this model.',
    });
  const sources: ByteSource[] = [];
  for (const f of descriptor.files) {
    const source = f.path !== undefined ? await set.open(f.path, signal) : undefined;
    if (!source) throw new RbeeError('internal', `The file ${f.location} was described but could not be opened.`);
    sources.push(source);
  }
  // SafeTensors carry no GGUF vocabulary: their tokenizer is tokenizer.json beside the weights, in the same set.
  const text =
    descriptor.format === 'safetensors'
      ? await textForSafetensors(descriptor, set, dirOf(descriptor.files[0]!.path!), signal)
      : await textForModel(descriptor.gguf?.metadata ?? {});
  return { descriptor, sources, text };
}


/** What a loaded model reports to the page (the same for every engine but its adapter and context). */
export function loadedModelInfo(opened: PreparedModel, contextLength: number, loadSeconds: number, adapter: AdapterInfo): LoadedModelInfo {
  const d = opened.descriptor;
  return {
    name: d.name,
    architecture: d.architecture,
    ...(d.fileType ? { fileType: d.fileType } : {}),
    parameterCount: d.parameterCount,
    totalWeightBytes: d.totalWeightBytes,
    vocabSize: d.vocabSize ?? opened.text.vocabSize,
    contextLength,
    eogTokens: [...opened.text.eogTokens],
    ...(opened.text.bos !== undefined ? { bosToken: opened.text.bos } : {}),
    hasTokenizer: opened.text.canEncode,
    hasChatTemplate: d.hasChatTemplate,
    ...(opened.text.chatFormat ? { chatFormat: opened.text.chatFormat } : {}),
    loadSeconds,
    adapter,
  };
}
