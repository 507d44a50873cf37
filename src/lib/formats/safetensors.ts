/**
 * SafeTensors header reader: `u64 little-endian header length` + a JSON header mapping tensor names to
 * `{dtype, shape, data_offsets: [begin, end]}` (offsets relative to the data section after the header), plus an
 * optional `__metadata__` of string → string. Reads the header only, never the weights.
 *
 * A model is one `.safetensors` file, a sharded set named by `model.safetensors.index.json` (its weight_map names
 * the shard of every tensor), or `name-00001-of-0000N.safetensors` shards opened together. The files beside the
 * weights describe the rest: config.json (architecture, hyperparameters), tokenizer.json, tokenizer_config.json (chat
 * template) and adapter_config.json (a LoRA adapter, which is not a model and cannot run alone).
 *
 * Every length and offset in the file is checked against the bytes that exist before anything is allocated from it.
 */
import { RbeeError } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';
import type { ModelDescriptor, TensorInfo, WeightTypeShare } from './descriptor.ts';
import { descriptorFieldsFromConfig } from './safetensors-config.ts';
import { safetensorsDtype, SAFETENSORS_NO_GGML_TYPE } from './safetensors-dtypes.ts';

export const SAFETENSORS_LIMITS = {
  /** huggingface/safetensors itself refuses headers over 100 MB (MAX_HEADER_SIZE); real shards' headers are < 1 MB. */
  headerBytes: 100_000_000,
  /** config.json is a few KB; a tokenizer_config.json with thousands of added tokens or the index of a 100k-tensor
   *  checkpoint reach a few MB. Past this a "config" is not one. */
  jsonBytes: 32 * 1024 * 1024,
  /** The largest public checkpoints have a few hundred shards (DeepSeek-V3: 163). */
  shards: 4096,
  /** Tensors have a handful of dimensions; a shape with hundreds is a corrupt header. This also bounds every array
   *  in the header (data_offsets has 2 items), checked before the header is parsed. */
  rank: 64,
  /** Tensors in one file and in one model: DeepSeek-V3 (671B) has about 92k over its 163 shards, a Llama of 405B
   *  about 1.1k; 262,144 leaves room for any real checkpoint and keeps one header's parse well under 800 MB. */
  tensors: 262_144,
  /** The format has three levels: the header object, a tensor's (or __metadata__'s) object, and a shape or
   *  data_offsets array. Deeper nesting is not SafeTensors (and tens of millions of levels cost gigabytes to parse). */
  nesting: 3,
  /** Members of one tensor entry (dtype, shape, data_offsets) or of __metadata__ (a few string pairs in real files;
   *  some writers store a config there, still far below this). */
  entryMembers: 4096,
  /** Values in the whole header (objects, arrays, keys' values, dims): about 10 per real tensor, so 16 per tensor
   *  at the tensor limit. With the header-size limit alone, a 100 MB header of tiny values parsed to gigabytes. */
  jsonValues: 16 * 262_144,
  /** Shard headers read at once over HTTP (browsers allow ~6 connections per host anyway). */
  concurrentShardReads: 6,
} as const;

/** Bytes read first: the length prefix and, for nearly every real file, the whole header, in one request. */
const FIRST_READ_BYTES = 64 * 1024;

/** `name-00001-of-00003.safetensors` */
export const SAFETENSORS_SHARD_NAME = /^(.*)-(\d{5})-of-(\d{5})\.safetensors$/;

export interface SafetensorsOptions {
  /**
   * Opens a file beside the one being read (a shard named by the index, config.json, tokenizer.json, …), by its path
   * relative to that file's folder; undefined when there is no such file.
   */
  openSibling?: (fileName: string) => Promise<ByteSource | undefined>;
  /** Display name (a repository name); default the file name without its extension. */
  name?: string;
  signal?: AbortSignal;
}

export interface SafetensorsHeader {
  /** Length of the JSON header in bytes (the data section starts at 8 + headerLength). */
  headerLength: number;
  metadata: Record<string, string>;
  tensors: TensorInfo[];
  /** Data section size: file size − 8 − headerLength. */
  dataBytes: number;
  /** Notes for the user (unknown dtypes, gaps in the data section). */
  warnings: string[];
}

/** Reads one SafeTensors file's header; `file` is its index in the model's file list (TensorInfo.file). */
export async function readSafetensorsHeader(source: ByteSource, file = 0, signal?: AbortSignal): Promise<SafetensorsHeader> {
  const first = await source.read(0, FIRST_READ_BYTES, signal);
  const fileSize = await source.size();
  const where = source.name;
  if (first.byteLength < 8) {
    throw new RbeeError('truncated', `${where} is ${first.byteLength} bytes long: too short for a SafeTensors header.`, {
      hint: 'The file is incomplete; download it again.',
    });
  }
  const declared = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(SAFETENSORS_LIMITS.headerBytes)) {
    throw new RbeeError('limit-exceeded', `${where} declares a ${declared}-byte SafeTensors header; the limit is ${SAFETENSORS_LIMITS.headerBytes} bytes.`, {
      hint: 'The file is corrupt or not a SafeTensors file.',
    });
  }
  const headerLength = Number(declared);
  if (headerLength < 2) {
    throw new RbeeError('bad-json', `${where} declares a ${headerLength}-byte header: too short to hold a JSON object.`, {
      hint: 'The file is corrupt or not a SafeTensors file.',
    });
  }
  if (8 + headerLength > fileSize) {
    throw new RbeeError('truncated', `${where} declares a ${headerLength}-byte header but the file is only ${fileSize} bytes.`, {
      hint: 'The file is incomplete; download it again.',
    });
  }
  let headerBytes: Uint8Array;
  if (first.byteLength >= 8 + headerLength) headerBytes = first.subarray(8, 8 + headerLength);
  else {
    headerBytes = new Uint8Array(headerLength);
    headerBytes.set(first.subarray(8));
    const rest = await source.read(first.byteLength, 8 + headerLength - first.byteLength, signal);
    if (first.byteLength + rest.byteLength < 8 + headerLength) {
      throw new RbeeError('truncated', `${where} ends inside its header.`, { hint: 'The file is incomplete; download it again.' });
    }
    headerBytes.set(rest, first.byteLength - 8);
  }
  return parseSafetensorsHeader(headerBytes, fileSize - 8 - headerLength, { file, name: where });
}

/**
 * Validates a SafeTensors JSON header (the bytes after the length prefix) against a data section of `dataBytes`.
 * Throws RbeeError: bad-json (not UTF-8 / JSON / an object, bad entry shape), bad-value (shape or size wrong),
 * bad-offset (outside the data section), overlapping-tensors.
 */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataBytes: number,
  { file = 0, name = 'SafeTensors file' }: { file?: number; name?: string } = {},
): SafetensorsHeader {
  const hint = 'The file is corrupt or not a SafeTensors file.';
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch (e) {
    throw new RbeeError('bad-json', `${name}: the SafeTensors header is not valid UTF-8.`, { hint, cause: e });
  }
  // The format requires the header to start with '{'; it may be padded with spaces at the end.
  if (!text.startsWith('{')) throw new RbeeError('bad-json', `${name}: the SafeTensors header does not start with '{'.`, { hint });
  checkHeaderShape(headerBytes, name);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new RbeeError('bad-json', `${name}: the SafeTensors header is not valid JSON (${(e as Error).message}).`, { hint, cause: e });
  }
  if (!isPlainObject(header)) throw new RbeeError('bad-json', `${name}: the SafeTensors header is not a JSON object.`, { hint });

  const headerLength = headerBytes.byteLength;
  const dataStart = 8 + headerLength;
  const warnings: string[] = [];
  let metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  const ranges: { begin: number; end: number; name: string }[] = [];

  for (const [key, entry] of Object.entries(header)) {
    if (key === '__metadata__') {
      metadata = parseMetadata(entry, name);
      continue;
    }
    const where = `${name}: tensor '${key}'`;
    if (!isPlainObject(entry)) throw new RbeeError('bad-json', `${where} is not an object with dtype, shape and data_offsets.`, { hint });
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string' || dtype.length === 0 || dtype.length > 32) {
      throw new RbeeError('bad-json', `${where} has no valid dtype.`, { hint });
    }
    if (!Array.isArray(shape)) throw new RbeeError('bad-json', `${where} has no shape array.`, { hint });
    if (shape.length > SAFETENSORS_LIMITS.rank) {
      throw new RbeeError('limit-exceeded', `${where} has ${shape.length} dimensions; the limit is ${SAFETENSORS_LIMITS.rank}.`, { hint });
    }
    let elements = 1;
    for (const dim of shape) {
      if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
        throw new RbeeError('bad-value', `${where} has an invalid dimension (${JSON.stringify(dim)}).`, { hint });
      }
      elements *= dim;
      if (!Number.isSafeInteger(elements)) throw new RbeeError('bad-value', `${where} has more elements than any file can hold.`, { hint });
    }
    if (!Array.isArray(offsets) || offsets.length !== 2) {
      throw new RbeeError('bad-json', `${where} has no data_offsets pair [begin, end].`, { hint });
    }
    const [begin, end] = offsets as unknown[];
    if (typeof begin !== 'number' || typeof end !== 'number' || !Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin) {
      throw new RbeeError('bad-offset', `${where} has invalid data_offsets ${JSON.stringify(offsets)}.`, { hint });
    }
    if (end > dataBytes) {
      throw new RbeeError('bad-offset', `${where} ends at byte ${end} of a ${dataBytes}-byte data section: it lies outside the file.`, {
        hint: 'The file is truncated or its header is corrupt; download it again.',
      });
    }
    const info = safetensorsDtype(dtype);
    if (info) {
      const bits = elements * info.bits;
      if (!Number.isSafeInteger(bits) || bits % 8 !== 0 || bits / 8 !== end - begin) {
        throw new RbeeError('bad-value', `${where}: shape [${shape.join(', ')}] of ${dtype} needs ${bits / 8} bytes but data_offsets span ${end - begin}.`, { hint });
      }
    } else {
      // A dtype newer than this table: its offsets still give its size, and the check will call it unsupported.
      warnings.push(`${where} has dtype '${dtype}', which this version does not know.`);
    }
    tensors.push({
      name: key,
      dims: (shape as number[]).slice().reverse(),
      type: info?.ggmlType ?? SAFETENSORS_NO_GGML_TYPE,
      typeName: dtype,
      offset: dataStart + begin,
      size: end - begin,
      file,
    });
    ranges.push({ begin, end, name: key });
  }

  // Sorted by position, each tensor must start at or after the end of the one before it.
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: (typeof ranges)[number] | undefined;
  for (const r of ranges) {
    if (r.begin === r.end) continue; // an empty tensor occupies no bytes
    if (previous && r.begin < previous.end) {
      throw new RbeeError('overlapping-tensors', `${name}: tensors '${previous.name}' and '${r.name}' share bytes.`, { hint });
    }
    covered += r.end - r.begin;
    previous = r;
  }
  if (covered !== dataBytes) {
    warnings.push(`${name}: ${dataBytes - covered} bytes of the data section belong to no tensor.`);
  }
  tensors.sort((a, b) => a.offset - b.offset);
  return { headerLength, metadata, tensors, dataBytes, warnings };
}

/**
 * Bounds the header's structure before JSON.parse builds it: nesting depth, items per array, members per entry,
 * tensor count and values in all, counted on the bytes in one pass that allocates nothing. JSON.parse (native, fast)
 * then parses only headers whose size in memory is bounded by these counts. A streaming JSON tokenizer from npm
 * (@streamparser/json, clarinet) could enforce the same limits while parsing, but it would be a dependency and a
 * JavaScript parser several times slower than the native one for a check that needs only brackets, commas and
 * strings; this scan is simpler and its cost is one pass over at most 100 MB. Malformed JSON is left to JSON.parse,
 * which reports it.
 */
function checkHeaderShape(bytes: Uint8Array, name: string): void {
  const hint = 'The file is corrupt or not a SafeTensors file.';
  const L = SAFETENSORS_LIMITS;
  const refuse = (what: string): never => {
    throw new RbeeError('limit-exceeded', `${name}: the SafeTensors header ${what}.`, { hint });
  };
  // Per open container: whether it is an array, and its items so far (commas + 1 once it holds anything).
  const isArray = new Uint8Array(L.nesting + 1);
  const items = new Float64Array(L.nesting + 1);
  let depth = 0;
  let values = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next byte (a quote or another backslash)
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      // { or [
      if (++depth > L.nesting) refuse(`is nested more than ${L.nesting} levels deep; the format has ${L.nesting} (header, tensor entry, shape)`);
      isArray[depth] = c === 0x5b ? 1 : 0;
      items[depth] = 0;
      if (++values > L.jsonValues) refuse(`holds more than ${L.jsonValues} values`);
    } else if (c === 0x7d || c === 0x5d) {
      if (depth > 0) depth--;
    } else if (c === 0x2c && depth > 0) {
      // , : one more item in the open container
      const n = ++items[depth]! + 1;
      if (++values > L.jsonValues) refuse(`holds more than ${L.jsonValues} values`);
      if (isArray[depth]) {
        if (n > L.rank) refuse(`has an array of more than ${L.rank} items (a shape has at most ${L.rank} dimensions)`);
      } else if (depth === 1) {
        // One member may be __metadata__.
        if (n > L.tensors + 1) refuse(`declares more than ${L.tensors} tensors`);
      } else if (n > L.entryMembers) {
        refuse(`has an entry with more than ${L.entryMembers} members`);
      }
    }
  }
}

function parseMetadata(entry: unknown, name: string): Record<string, string> {
  if (entry === null) return {}; // some writers (mlx) store null for "no metadata"
  if (!isPlainObject(entry)) throw new RbeeError('bad-json', `${name}: __metadata__ is not an object.`, { hint: 'The file is corrupt.' });
  for (const [k, v] of Object.entries(entry)) {
    if (typeof v !== 'string') {
      throw new RbeeError('bad-json', `${name}: __metadata__ value '${k}' is not a string.`, { hint: 'The file is corrupt.' });
    }
  }
  // Object.fromEntries defines own properties, so a key named __proto__ stays a key.
  return Object.fromEntries(Object.entries(entry as Record<string, string>));
}

/** The files of a sharded checkpoint, from `model.safetensors.index.json`. */
export interface SafetensorsIndex {
  shards: string[];
  weightMap: Map<string, string>;
  metadata: Record<string, unknown>;
}

export function parseSafetensorsIndex(json: unknown, name = 'model.safetensors.index.json'): SafetensorsIndex {
  const hint = 'The index file is corrupt; download it again.';
  if (!isPlainObject(json) || !isPlainObject(json.weight_map)) {
    throw new RbeeError('bad-json', `${name} has no weight_map object.`, { hint });
  }
  const weightMap = new Map<string, string>();
  const shards = new Set<string>();
  for (const [tensor, shard] of Object.entries(json.weight_map)) {
    if (typeof shard !== 'string' || !isSafeRelativePath(shard)) {
      throw new RbeeError('bad-value', `${name}: tensor '${tensor}' maps to an invalid file name (${JSON.stringify(shard)}).`, { hint });
    }
    weightMap.set(tensor, shard);
    shards.add(shard);
    if (shards.size > SAFETENSORS_LIMITS.shards) {
      throw new RbeeError('limit-exceeded', `${name} names more than ${SAFETENSORS_LIMITS.shards} shard files.`, { hint });
    }
  }
  if (shards.size === 0) throw new RbeeError('bad-json', `${name} maps no tensors to files.`, { hint });
  return {
    shards: [...shards].sort(),
    weightMap,
    metadata: isPlainObject(json.metadata) ? json.metadata : {},
  };
}

/** A shard name from an untrusted index: a plain relative path inside the model's folder. */
function isSafeRelativePath(p: string): boolean {
  return p.length > 0 && p.length <= 512 && !p.startsWith('/') && !p.includes('\\') && !/^[a-z][a-z0-9+.-]*:/i.test(p) && !p.split('/').includes('..');
}

/** Reads a small JSON file (config.json, an index) in full, within SAFETENSORS_LIMITS.jsonBytes. */
export async function readJsonFile(source: ByteSource, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const size = await source.size();
  if (size > SAFETENSORS_LIMITS.jsonBytes) {
    throw new RbeeError('limit-exceeded', `${source.name} is ${size} bytes; JSON files beside a model are read up to ${SAFETENSORS_LIMITS.jsonBytes} bytes.`);
  }
  const bytes = await source.read(0, size, signal);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new RbeeError('bad-json', `${source.name} is not valid JSON.`, { hint: 'The file is corrupt; download it again.', cause: e });
  }
  if (!isPlainObject(value)) throw new RbeeError('bad-json', `${source.name} is not a JSON object.`, { hint: 'The file is corrupt; download it again.' });
  return value;
}

const isIndexName = (name: string): boolean => name.endsWith('.index.json');

/**
 * Reads a SafeTensors model: `source` is a `.safetensors` file, one shard of a `-0000i-of-0000N` set, or a
 * `*.safetensors.index.json`. Files beside it come through `openSibling`.
 */
export async function readSafetensors(source: ByteSource, opts: SafetensorsOptions = {}): Promise<ModelDescriptor> {
  const { signal } = opts;
  const open = opts.openSibling ?? (() => Promise.resolve(undefined));
  const warnings: string[] = [];
  let shardSources: ByteSource[];
  let index: SafetensorsIndex | undefined;

  if (isIndexName(source.name)) {
    index = parseSafetensorsIndex(await readJsonFile(source, signal), source.name);
    shardSources = await openAll(index.shards, open, source.name);
  } else {
    const m = SAFETENSORS_SHARD_NAME.exec(source.name);
    if (m && m[3] !== '00001') {
      const total = Number(m[3]);
      const names = Array.from({ length: total }, (_, i) => `${m[1]}-${String(i + 1).padStart(5, '0')}-of-${m[3]}.safetensors`);
      // Prefer the index when it is there: it says which tensor lives where.
      const indexSource = await open(`${m[1]}.safetensors.index.json`);
      if (indexSource) {
        index = parseSafetensorsIndex(await readJsonFile(indexSource, signal), indexSource.name);
        shardSources = await openAll(index.shards, open, indexSource.name, source);
      } else {
        if (total > SAFETENSORS_LIMITS.shards) throw new RbeeError('limit-exceeded', `${source.name} claims ${total} shards.`);
        shardSources = await openAll(names, open, source.name, source);
      }
    } else shardSources = [source];
  }

  const headers = await mapLimited(shardSources, SAFETENSORS_LIMITS.concurrentShardReads, (s, i) => readSafetensorsHeader(s, i, signal));

  const tensors: TensorInfo[] = [];
  const seen = new Map<string, number>();
  for (const [i, h] of headers.entries()) {
    warnings.push(...h.warnings);
    for (const t of h.tensors) {
      const other = seen.get(t.name);
      if (other !== undefined) {
        throw new RbeeError('duplicate-tensor', `Tensor '${t.name}' is in both ${shardSources[other]!.name} and ${shardSources[i]!.name}.`, {
          hint: 'The checkpoint is inconsistent; download it again.',
        });
      }
      seen.set(t.name, i);
      tensors.push(t);
      if (tensors.length > SAFETENSORS_LIMITS.tensors) {
        throw new RbeeError('limit-exceeded', `${source.name}: the model's shards hold more than ${SAFETENSORS_LIMITS.tensors} tensors.`, {
          hint: 'The checkpoint is corrupt or not a model.',
        });
      }
    }
  }
  if (index) {
    for (const [tensor, shard] of index.weightMap) {
      const at = seen.get(tensor);
      if (at === undefined || shardSources[at]!.name !== baseName(shard)) {
        throw new RbeeError('bad-value', `The index says tensor '${tensor}' is in ${shard}, but ${at === undefined ? 'no shard holds it' : `it is in ${shardSources[at]!.name}`}.`, {
          hint: 'The index and the shards do not belong together; download the set again.',
        });
      }
    }
    const unlisted = tensors.length - index.weightMap.size;
    if (unlisted > 0) warnings.push(`${unlisted} tensors in the shards are not named in the index.`);
  }

  // Files beside the weights, looked up at once (over HTTP each absent one costs a request that answers 404).
  const [config, adapterConfig, tokenizerJson, tokenizerConfig, chatTemplateFile] = await Promise.all([
    open('config.json').then((s) => readOptionalJson(s, signal)),
    open('adapter_config.json').then((s) => readOptionalJson(s, signal)),
    open('tokenizer.json'),
    open('tokenizer_config.json').then((s) => readOptionalJson(s, signal)),
    open('chat_template.jinja'),
  ]);

  // LoRA tensor names decide; an adapter_config.json counts for an adapter-named file (PEFT's adapter_model,
  // mlx's adapters) but not for full-model weights that merely share a folder with one.
  const isAdapter = tensors.some((t) => LORA_TENSOR.test(t.name)) || (adapterConfig !== undefined && /adapter/i.test(source.name));
  const fields = config ? descriptorFieldsFromConfig(config) : undefined;
  if (fields) warnings.push(...fields.warnings);
  else if (!isAdapter) warnings.push('No config.json beside the weights: the architecture and hyperparameters are unknown.');
  if (isAdapter) {
    const base = adapterConfig?.base_model_name_or_path ?? adapterConfig?.model;
    warnings.push(
      `This is a LoRA adapter, not a model: it needs its base model${typeof base === 'string' && base ? ` (${base})` : ''} and cannot run alone.`,
    );
  }

  let parameterCount = 0;
  let totalWeightBytes = 0;
  const shares = new Map<string, WeightTypeShare>();
  for (const t of tensors) {
    parameterCount += t.dims.reduce((a, b) => a * b, 1);
    totalWeightBytes += t.size ?? 0;
    const share = shares.get(t.typeName) ?? { type: t.typeName, tensors: 0, bytes: 0 };
    share.tensors++;
    share.bytes += t.size ?? 0;
    shares.set(t.typeName, share);
  }
  const weightTypes = [...shares.values()].sort((a, b) => b.bytes - a.bytes || b.tensors - a.tensors);

  const hasChatTemplate =
    chatTemplateFile !== undefined ||
    (typeof tokenizerConfig?.chat_template === 'string' && tokenizerConfig.chat_template.length > 0) ||
    (Array.isArray(tokenizerConfig?.chat_template) && tokenizerConfig.chat_template.length > 0);

  const metadata = Object.fromEntries(headers.flatMap((h) => Object.entries(h.metadata)));
  const files = await Promise.all(shardSources.map(async (s) => ({ location: s.location, size: await s.size() })));
  const descriptor: ModelDescriptor = {
    source: source.location,
    name: opts.name ?? modelNameOf(source.name),
    format: 'safetensors',
    kind: isAdapter ? 'adapter' : 'model',
    architecture: fields?.architecture ?? 'unknown',
    parameterCount,
    weightTypes,
    ...(weightTypes[0] ? { fileType: weightTypes[0].type } : {}),
    hasChatTemplate,
    totalWeightBytes,
    files,
    tensors,
    safetensors: {
      metadata,
      ...(config ? { config } : {}),
      ...(adapterConfig ? { adapterConfig } : {}),
    },
    warnings,
  };
  if (fields) {
    const { architecture: _a, warnings: _w, tieWordEmbeddings: _t, ...hyper } = fields;
    Object.assign(descriptor, hyper);
  }
  if (tokenizerJson) descriptor.tokenizer = 'tokenizer.json';
  return descriptor;
}

/** LoRA / DoRA tensor names as PEFT and mlx write them (lora_A / lora_B / lora_a / lora_down / lora_magnitude…). */
const LORA_TENSOR = /(^|\.)lora_(a|b|up|down|magnitude_vector|embedding_a|embedding_b)(\.|$)/i;

async function readOptionalJson(source: ByteSource | undefined, signal?: AbortSignal): Promise<Record<string, unknown> | undefined> {
  return source ? readJsonFile(source, signal) : undefined;
}

async function openAll(
  names: string[],
  open: (name: string) => Promise<ByteSource | undefined>,
  from: string,
  already?: ByteSource,
): Promise<ByteSource[]> {
  const sources = await mapLimited(names, SAFETENSORS_LIMITS.concurrentShardReads, (n) =>
    already && baseName(n) === already.name ? Promise.resolve(already) : open(n),
  );
  const missing = names.filter((_, i) => sources[i] === undefined);
  if (missing.length > 0) {
    throw new RbeeError('split-missing', `${from} needs ${missing.length} file${missing.length > 1 ? 's' : ''} that ${missing.length > 1 ? 'are' : 'is'} not here: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}.`, {
      hint: 'Open the whole set together: every shard, model.safetensors.index.json and config.json.',
    });
  }
  return sources as ByteSource[];
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const baseName = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

function modelNameOf(fileName: string): string {
  return fileName.replace(/\.safetensors\.index\.json$|\.index\.json$|\.safetensors$/, '').replace(/-\d{5}-of-\d{5}$/, '');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
