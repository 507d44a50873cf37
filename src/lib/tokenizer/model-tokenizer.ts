/**
 * The tokenizer of an inspected model: GGUF files carry theirs in the metadata; SafeTensors repositories have
 * tokenizer.json (+ tokenizer_config.json) beside the weights. Works on any ModelFileSet (hub, URL, dropped files,
 * a folder on disk), so the app and the CLI load tokenizers the same way.
 */
import { RbeeError } from '../errors.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import type { ModelDescriptor } from '../formats/descriptor.ts';
import type { ModelFileSet } from '../model/model-file-set.ts';
import { tokenizerFromGguf } from './gguf-tokenizer.ts';
import { tokenizerFromHf, type HfTokenizerConfig } from './hf-tokenizer.ts';
import type { Tokenizer } from './types.ts';

/** tokenizer.json files of large vocabularies run to ~20 MB; far past that is not a tokenizer. */
const MAX_TOKENIZER_JSON_BYTES = 64 << 20;

async function readJson(source: ByteSource, signal?: AbortSignal): Promise<unknown> {
  const size = await source.size();
  if (size > MAX_TOKENIZER_JSON_BYTES)
    throw new RbeeError('limit-exceeded', `${source.name} is ${size} bytes, more than a tokenizer file can be.`);
  const bytes = await source.read(0, size, signal);
  try {
    return JSON.parse(new TextDecoder('utf-8').decode(bytes));
  } catch (e) {
    throw new RbeeError('bad-json', `${source.name} is not valid JSON.`, { cause: e, hint: 'The file may be damaged or incomplete.' });
  }
}

/**
 * The tokenizer for `descriptor`. For SafeTensors, `set` must be the file set the descriptor was read from and
 * `dir` the folder of its weights ('' at the root).
 */
export async function tokenizerForModel(descriptor: ModelDescriptor, set?: ModelFileSet, dir = '', signal?: AbortSignal): Promise<Tokenizer> {
  if (descriptor.format === 'gguf') {
    if (!descriptor.gguf) throw new RbeeError('internal', 'A GGUF descriptor without its metadata.');
    return tokenizerFromGguf(descriptor.gguf.metadata);
  }
  if (descriptor.format === 'safetensors') {
    const json = set ? await set.open(`${dir}tokenizer.json`, signal) : undefined;
    if (!json)
      throw new RbeeError('tokenizer', `${descriptor.name} has no tokenizer.json beside its weights.`, {
        hint: 'Open the whole repository or folder (not just the .safetensors file), or a GGUF version of the model.',
      });
    const configSource = await set!.open(`${dir}tokenizer_config.json`, signal);
    const config = configSource ? ((await readJson(configSource, signal)) as HfTokenizerConfig) : {};
    return tokenizerFromHf(await readJson(json, signal), config);
  }
  throw new RbeeError('tokenizer', `No tokenizer reader for ${descriptor.format} models.`);
}
