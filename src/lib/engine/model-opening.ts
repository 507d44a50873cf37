/**
 * Opening a model to run it: the user's input (URL, dropped files, Hugging Face reference) → the file set → the
 * descriptor (inspect: headers only) → a ByteSource per file for the engine to stream weights from, and the model's
 * text handling (tokenizer / vocabulary pieces). Runs in the worker.
 */
import { cachedSetForInput } from '../cache/cached-model-set.ts';
import { RbeeError } from '../errors.ts';
import { holdsNoWeights, noWeightsError } from '../compat/no-weights.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import type { ModelDescriptor } from '../formats/descriptor.ts';
import { parseHfRef } from '../hub/hf.ts';
import { fileSetForHfRef, inspectSet } from '../model/inspect.ts';
import { blobFileSet, dirOf, urlFileSet, type ModelFileSet } from '../model/model-file-set.ts';
import type { ModelText } from './model-text.ts';
import type { AdapterInfo, LoadedModelInfo, ModelInput } from './worker-protocol.ts';
import { textForModel, textForSafetensors } from './tokenizer-choice.ts';

export interface OpenedModel {
  descriptor: ModelDescriptor;
  /** One per descriptor.files entry, in order. */
  sources: ByteSource[];
  text: ModelText;
}

async function fileSetFor(input: ModelInput, signal?: AbortSignal): Promise<ModelFileSet> {
  switch (input.kind) {
    case 'url':
      return urlFileSet(input.url, input.headers ? { headers: input.headers } : {});
    case 'files':
      if (input.files.length === 0) throw new RbeeError('not-found', 'No files were given.', { hint: 'Drop or pick the model file(s).' });
      return input.primary ? { ...blobFileSet(input.files), primary: input.primary } : blobFileSet(input.files);
    case 'hf': {
      const hubBase = input.hubBase ?? 'https://huggingface.co';
      const ref = parseHfRef(input.ref, hubBase);
      if (!ref) throw new RbeeError('bad-value', `'${input.ref}' is not a Hugging Face reference.`, { hint: 'Use owner/repo or owner/repo/file.gguf.' });
      return fileSetForHfRef(ref, { hubBase, ...(input.token ? { token: input.token } : {}), ...(signal ? { signal } : {}) });
    }
  }
}

/**
 * Remembers every source the set hands out (with the path it was opened by), so the files the descriptor names can
 * be matched to open sources and the weights' folder found for their tokenizer files.
 */
function recording(set: ModelFileSet): { set: ModelFileSet; opened: { path: string; source: ByteSource }[] } {
  const opened: { path: string; source: ByteSource }[] = [];
  return {
    opened,
    set: {
      ...set,
      label: set.label,
      async open(path, signal) {
        const s = await set.open(path, signal);
        if (s) opened.push({ path, source: s });
        return s;
      },
    },
  };
}

export async function openModel(input: ModelInput, signal?: AbortSignal): Promise<OpenedModel> {
  // A model downloaded to this device (complete in the cache) loads from IndexedDB, not the network: offline too.
  const { set, opened } = recording((await cachedSetForInput(input)) ?? (await fileSetFor(input, signal)));
  const { descriptor } = await inspectSet(set, signal ? { signal } : {});
  if (descriptor.kind === 'adapter')
    throw new RbeeError('adapter', `${descriptor.name} is a LoRA adapter, not a model: it cannot run on its own.`, {
      hint: 'Open the base model it was trained for.',
    });
  // The verdict's own reason (compat/no-weights.ts), not a missing-tensor error from deep in the engine.
  if (holdsNoWeights(descriptor)) throw noWeightsError();
  if (!(descriptor.format === 'gguf' && descriptor.gguf) && descriptor.format !== 'safetensors')
    throw new RbeeError('unknown-format', `${descriptor.name} is ${descriptor.format}; the WebGPU engine runs GGUF and SafeTensors models.`, {
      hint: 'Open a GGUF or SafeTensors version of this model.',
    });
  const files = descriptor.files.map((f) => {
    const o = opened.find((x) => x.source.location === f.location);
    if (!o) throw new RbeeError('internal', `The file ${f.location} was described but not opened.`);
    return o;
  });
  const sources = files.map((o) => o.source);
  // SafeTensors carry no GGUF vocabulary: their tokenizer is tokenizer.json beside the weights, in the same set.
  const text =
    descriptor.format === 'safetensors'
      ? await textForSafetensors(descriptor, set, dirOf(files[0]!.path), signal)
      : await textForModel(descriptor.gguf?.metadata ?? {});
  return { descriptor, sources, text };
}


/** What a loaded model reports to the page (the same for every engine but its adapter and context). */
export function loadedModelInfo(opened: OpenedModel, contextLength: number, loadSeconds: number, adapter: AdapterInfo): LoadedModelInfo {
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
