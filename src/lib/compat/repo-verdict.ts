/**
 * The verdict a search result can show before anything is downloaded: from the repository's file list (which model
 * it would open, and its size) and what the hub says about it (the GGUF architecture the hub parsed, the SafeTensors
 * parameters per dtype, config.json's model type), through the same matrix the real check uses.
 *
 * It is a guess at the level of "expected": the real verdict (check.ts) reads the file's header and takes the
 * weakest cell over the weight types its tensors actually use. Here the weight types come from the file name's
 * quantization label (plus the types llama.cpp's quantizer usually writes beside it) or from the hub's dtype counts.
 * When the hub does not say what the architecture or the weight type is, there is no badge: only the header can tell.
 */
import { defaultCandidate, groupModelFiles, type ListedFile, type ModelCandidate } from '../model/model-candidates.ts';
import { ggmlTypeByName } from '../formats/ggml-types.ts';
import { DEFAULT_MEMORY_BUDGET_BYTES } from './check.ts';
import { formatBytes } from '../quantities.ts';
import { matrixCell, normaliseArchitecture } from './matrix.ts';
import { weakest, type Confidence, type MatrixCell } from './verdict.ts';

export type RepoModelFormat = 'gguf' | 'safetensors';

export interface RepoFacts {
  repo: string;
  files: readonly ListedFile[];
  /** The format the user searched for; the other format is used only when the repository has none of this one. */
  prefer?: RepoModelFormat;
  /** The hub's `gguf.architecture` (general.architecture of the repository's GGUF files). */
  ggufArchitecture?: string;
  /** config.json's `model_type` or, without it, its `architectures[0]` class. */
  modelType?: string;
  /** config.json's `quantization_config.quant_method`. */
  quantMethod?: string;
  /** config.json's `torch_dtype` / `dtype` ('bfloat16' …), used when the hub gives no dtype counts. */
  configDtype?: string;
  /** The hub's `safetensors.parameters`: parameter count per dtype ('BF16', 'F32', 'I32' …). */
  safetensorsParameters?: Readonly<Record<string, number>>;
}

export interface RepoVerdict {
  /** Undefined when the hub does not say enough to tell (the header decides). */
  confidence?: Confidence;
  /** One line a user can read: what was judged and why. */
  reason: string;
  format?: RepoModelFormat;
  /** The model the badge is for: its primary file (the GGUF, the index, or the single .safetensors file). */
  file?: string;
  /** 'Q4_K_M', 'SafeTensors BF16' … */
  label?: string;
  /** Bytes of that file or set (all shards). */
  sizeBytes?: number;
  /** The engine's architecture id, when known ('llama' for Mistral too). */
  architecture?: string;
  /** The weight types judged (ggml names). */
  weightTypes?: string[];
  /** False when the weights alone exceed what a browser can be expected to hold (DEFAULT_MEMORY_BUDGET_BYTES). */
  fitsBrowser?: boolean;
}

/**
 * Types llama.cpp's quantizer writes beside a mix's main type (llama_tensor_get_type: output and parts of attn_v /
 * ffn_down get more bits). A Q4_K_M file is mostly Q4_K with Q6_K tensors: its verdict is the weaker of the two.
 */
const USUAL_COMPANIONS: Readonly<Record<string, readonly string[]>> = {
  Q2_K: ['Q3_K', 'Q4_K', 'Q6_K'],
  Q2_K_S: ['Q4_K', 'Q6_K'],
  Q3_K_S: ['Q6_K'],
  Q3_K_M: ['Q4_K', 'Q5_K', 'Q6_K'],
  Q3_K_L: ['Q5_K', 'Q6_K'],
  Q4_K_S: ['Q5_K', 'Q6_K'],
  Q4_K_M: ['Q6_K'],
  Q5_K_S: ['Q6_K'],
  Q5_K_M: ['Q6_K'],
  Q4_0: ['Q6_K'],
  Q4_1: ['Q6_K'],
  Q5_0: ['Q6_K'],
  Q5_1: ['Q6_K'],
  IQ4_NL: ['Q6_K'],
};

/** The ggml type a quantization label's weights mostly are: Q4_K_M → Q4_K, IQ2_M → IQ2_S, MXFP4_MOE → MXFP4. */
export function mainWeightType(label: string): string | undefined {
  const upper = label.toUpperCase();
  const stem = upper.replace(/_(XXS|XS|S|M|L|XL|MOE)$/, '');
  return (ggmlTypeByName(upper) ?? ggmlTypeByName(stem) ?? ggmlTypeByName(`${stem}_S`))?.name;
}

/** HF dtype names ('bfloat16', 'torch.float16') → SafeTensors dtype ('BF16'). */
const CONFIG_DTYPES: Readonly<Record<string, string>> = { bfloat16: 'BF16', float16: 'F16', half: 'F16', float32: 'F32', float: 'F32' };

/** Which model of the repository a search result stands for: the preferred format's default, else the other's. */
export function chooseRepoModel(files: readonly ListedFile[], repo: string, prefer?: RepoModelFormat): ModelCandidate | undefined {
  const models = groupModelFiles(files, repo).filter((c) => c.role === 'model' && (c.format === 'gguf' || c.format === 'safetensors'));
  const order: RepoModelFormat[] = prefer === 'safetensors' ? ['safetensors', 'gguf'] : ['gguf', 'safetensors'];
  for (const format of order) {
    const ofFormat = models.filter((c) => c.format === format);
    const i = defaultCandidate(ofFormat);
    if (i >= 0) return ofFormat[i];
  }
  return undefined;
}

export function expectedRepoVerdict(facts: RepoFacts): RepoVerdict {
  const model = chooseRepoModel(facts.files, facts.repo, facts.prefer);
  if (!model) {
    return {
      confidence: 'unsupported',
      reason: 'The repository lists no GGUF or SafeTensors model file (only adapters, projectors or other formats).',
    };
  }
  const base: Omit<RepoVerdict, 'reason'> = {
    format: model.format as RepoModelFormat,
    file: model.primary,
    sizeBytes: model.size,
    fitsBrowser: model.size <= DEFAULT_MEMORY_BUDGET_BYTES,
  };
  const judged = model.format === 'gguf' ? ggufJudgement(facts, model) : safetensorsJudgement(facts);
  const verdict: RepoVerdict = { ...base, ...judged };
  if (verdict.fitsBrowser === false && verdict.confidence !== undefined) {
    verdict.reason += ` Its weights alone (${formatBytes(model.size)}) exceed the ${formatBytes(DEFAULT_MEMORY_BUDGET_BYTES)} a browser can be expected to hold.`;
  }
  return verdict;
}

type Judgement = Pick<RepoVerdict, 'confidence' | 'reason' | 'label' | 'architecture' | 'weightTypes'>;

function ggufJudgement(facts: RepoFacts, model: ModelCandidate): Judgement {
  const label = model.quantization;
  const named = facts.ggufArchitecture ?? facts.modelType;
  const main = label ? mainWeightType(label) : undefined;
  if (!named) {
    return {
      label: label ?? model.label,
      reason: `The hub does not say which architecture ${model.primary} is; open it to read its header.`,
    };
  }
  if (!main) {
    return {
      label: model.label,
      reason: `${model.primary} has no quantization in its name; open it to read its weight types from the header.`,
    };
  }
  const types = [main, ...(USUAL_COMPANIONS[label!.toUpperCase()] ?? [])];
  return judge(named, 'gguf', types, label!.toUpperCase());
}

function safetensorsJudgement(facts: RepoFacts): Judgement {
  const named = facts.modelType ?? facts.ggufArchitecture;
  if (facts.quantMethod) {
    return {
      confidence: 'unsupported',
      label: `SafeTensors ${facts.quantMethod}`,
      reason: `A ${facts.quantMethod}-quantized checkpoint: rbee-web loads SafeTensors weights in F32, F16 or BF16 only; a GGUF of this model is the way in.`,
    };
  }
  const counts = facts.safetensorsParameters ?? {};
  let types = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([dtype]) => dtype.toUpperCase());
  if (types.length === 0 && facts.configDtype) {
    const dtype = CONFIG_DTYPES[facts.configDtype.replace(/^torch\./, '').toLowerCase()];
    if (dtype) types = [dtype];
  }
  if (!named) {
    return { label: types[0] ? `SafeTensors ${types[0]}` : 'SafeTensors', reason: 'No config.json names the architecture; open the model to read it.' };
  }
  if (types.length === 0) {
    return { label: 'SafeTensors', reason: 'Neither the hub nor config.json says which dtype the weights are; open the model to read its header.' };
  }
  return judge(named, 'safetensors', types, `SafeTensors ${types[0]}`);
}

/** The weakest matrix cell over the weight types, and its reason in one line. */
function judge(named: string, format: RepoModelFormat, types: string[], label: string): Judgement {
  const architecture = normaliseArchitecture(named);
  const cells: MatrixCell[] = [...new Set(types)].map((t) => matrixCell(named, format, t, 'webgpu'));
  const confidence = weakest(cells.map((c) => c.confidence));
  const weakestCell = cells.find((c) => c.confidence === confidence)!;
  // 'mistral (runs as llama)': the name the repository uses, and the engine's family when they differ.
  const shown = !architecture ? named : named.toLowerCase() === architecture ? architecture : `${named} (runs as ${architecture})`;
  const what = `${shown} · ${label}`;
  const reason =
    confidence === 'verified'
      ? `${what}: a parity test runs ${cells.map((c) => c.weightType).join(' and ')} ${format === 'gguf' ? 'GGUF' : 'SafeTensors'} weights of this architecture equal to llama.cpp.`
      : `${what}: ${weakestCell.weightType === '*' ? '' : `${weakestCell.weightType} — `}${weakestCell.reason}.`;
  return { confidence, reason, label, weightTypes: cells.map((c) => c.weightType), ...(architecture ? { architecture } : {}) };
}
