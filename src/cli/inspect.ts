/**
 * `rbee-web inspect [--json] [--hub URL] <file|folder|url|hf-ref>...` — what each model is and whether it runs,
 * from its header alone. Several inputs in one process; exit 0 when every input was read, 1 when any failed, 2 for
 * a usage error. Errors are `code: message` lines (or JSON objects), never stack traces.
 *
 * --json prints one JSON object per input per line: the ModelDescriptor with its verdict (`{...descriptor,
 * verdict}`), plus `candidates`/`chosen` when the input was a repository or folder holding several models; or
 * `{"source": input, "error": {"code", "message", "hint"?}}`. GGUF metadata arrays longer than
 * JSON_ARRAY_LIMIT (the vocabulary: tokenizer.ggml.tokens, scores, token_type, merges) are summarised as
 * `{"type": "array", "length": N}`; 64-bit integers past 2^53 are written as decimal strings.
 *
 * A Hugging Face token for gated repositories comes from $HF_TOKEN (never from the command line, where it would
 * land in shell history), and goes to huggingface.co only unless --send-token-to-hub (hub-token.ts).
 */
import { redactUrl } from '../lib/url-redaction.ts';
import { check, type SiblingFile } from '../lib/compat/check.ts';
import { formatBytes } from '../lib/quantities.ts';
import type { Verdict } from '../lib/compat/verdict.ts';
import { showsMemoryFit, verdictSummary } from '../lib/compat/confidence-meaning.ts';
import { countOf } from '../lib/quantities.ts';
import { toRbeeError } from '../lib/errors.ts';
import type { GgufValue, ModelDescriptor } from '../lib/formats/descriptor.ts';
import { DEFAULT_HUB } from '../lib/hub/hf.ts';
import { inspectSet, type InspectResult } from '../lib/model/inspect.ts';
import { inspectRef } from '../lib/model/resolve.ts';
import { hubTokenFor, SEND_TOKEN_FLAG } from './hub-token.ts';
import { isLocalPath, localFileMissing, localFileSet, looksLikeLocalPath } from './local-file-set.ts';
import { hubOption, MODEL_OPTIONS, readOptions, sendsTokenToHub } from './options.ts';

/** Metadata arrays up to this length are printed whole; longer ones (vocabularies) as {type, length}. */
export const JSON_ARRAY_LIMIT = 64;

const USAGE = `usage: rbee-web inspect [--json] [--hub URL [--send-token-to-hub]] <file|folder|url|hf-ref>...

  <file|folder>   a .gguf / .safetensors file (split parts and shards are found beside it), or a model folder
  <url>           an http(s) URL of a model file (read with Range requests: the header only)
  <hf-ref>        owner/repo, owner/repo@revision, owner/repo/file.gguf, hf:owner/repo, or a huggingface.co link
  --json          one JSON object per input per line (the descriptor with its verdict, or {source, error})
  --hub URL       Hugging Face hub base URL (default ${DEFAULT_HUB}); HF_TOKEN is sent for gated repositories,
                  to ${DEFAULT_HUB} only unless --send-token-to-hub says this hub may have it too`;

interface Args {
  json: boolean;
  hub: string;
  sendTokenToHub: boolean;
  inputs: string[];
}

const INSPECT_OPTIONS = { json: MODEL_OPTIONS.json, hub: MODEL_OPTIONS.hub, [SEND_TOKEN_FLAG.slice(2)]: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

function parseArgs(argv: string[]): Args | string {
  let read: ReturnType<typeof readOptions<typeof INSPECT_OPTIONS>>;
  try {
    read = readOptions('inspect', argv, INSPECT_OPTIONS, true);
  } catch (e) {
    return (e as Error).message.replace(/\.$/, '');
  }
  const { values, positionals } = read;
  if (values.help) return '';
  const args: Args = { json: values.json === true, hub: hubOption(values), sendTokenToHub: sendsTokenToHub(values), inputs: positionals };
  if (!/^https?:\/\//.test(args.hub)) return `--hub must be an http(s) URL, not '${args.hub}'`;
  if (args.inputs.length === 0) return 'give at least one file, folder, URL or Hugging Face reference';
  return args;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    if (args) console.error(`rbee-web inspect: ${args}\n`);
    console.error(USAGE);
    return args ? 2 : 0;
  }
  const token = hubTokenFor(args.hub, args.sendTokenToHub);
  let failed = 0;
  for (const input of args.inputs) {
    try {
      const result = await inspectInput(input, args.hub, token);
      const verdict = check(result.descriptor, undefined, { siblings: siblingsOf(result) });
      if (args.json) process.stdout.write(`${JSON.stringify(jsonOf(result, verdict), jsonReplacer)}\n`);
      else process.stdout.write(`${humanOf(redactUrl(input), result, verdict)}\n`);
    } catch (e) {
      failed++;
      const err = toRbeeError(e);
      if (args.json) process.stdout.write(`${JSON.stringify({ source: redactUrl(input), error: err.toJSON() })}\n`);
      else process.stdout.write(`${redactUrl(input)}\n  error: ${err.code}: ${err.message}${err.hint ? `\n  ${err.hint}` : ''}\n\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

async function inspectInput(input: string, hubBase: string, token: string | undefined): Promise<InspectResult> {
  if (isLocalPath(input)) {
    const set = localFileSet(input);
    try {
      return await inspectSet(set);
    } finally {
      await set.close?.();
    }
  }
  if (looksLikeLocalPath(input)) throw localFileMissing(input);
  return inspectRef({ kind: 'remote', source: input }, { hubBase, ...(token ? { token } : {}) });
}

/** The repository's other models, so the verdict can recommend one that runs. */
function siblingsOf(result: InspectResult): SiblingFile[] {
  return result.candidates
    .filter((_, i) => i !== result.chosen)
    .filter((c) => c.role === 'model')
    .map((c) => ({ fileName: c.primary.slice(c.primary.lastIndexOf('/') + 1), ...(c.quantization ? { fileType: c.quantization } : {}), sizeBytes: c.size }));
}

function jsonOf(result: InspectResult, verdict: Verdict): Record<string, unknown> {
  const d = result.descriptor;
  const out: Record<string, unknown> = { ...d, files: d.files.map((f) => ({ ...f, location: redactUrl(f.location) })) };
  if (d.gguf) out.gguf = { ...d.gguf, metadata: summariseMetadata(d.gguf.metadata) };
  out.verdict = verdict;
  if (result.candidates.length > 0) {
    out.candidates = result.candidates;
    out.chosen = result.chosen;
  }
  if (result.hf) out.hf = { repo: result.hf.repo, revision: result.hf.revision, url: result.hf.url };
  return out;
}

function summariseMetadata(metadata: Record<string, GgufValue>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(metadata).map(([k, v]) => [k, Array.isArray(v) && v.length > JSON_ARRAY_LIMIT ? { type: 'array', length: v.length } : v]),
  );
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

const count = (n: number): string =>
  n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n);

function humanOf(input: string, result: InspectResult, verdict: Verdict): string {
  const d: ModelDescriptor = result.descriptor;
  const lines: string[] = [`${d.name}  (${input})`];
  const row = (label: string, text: string | undefined): void => {
    if (text) lines.push(`  ${label.padEnd(12)}${text}`);
  };
  const format = d.format === 'gguf' ? `GGUF v${d.gguf?.version ?? '?'}` : d.format === 'mlc' ? 'MLC (web-llm)' : d.format === 'onnx' ? 'ONNX (transformers.js)' : 'SafeTensors';
  row('format', `${format} · ${d.kind} · ${d.architecture}${d.fileType ? ` · ${d.fileType}` : ''}`);
  row('size', `${count(d.parameterCount)} parameters · ${formatBytes(d.totalWeightBytes)} of weights in ${d.files.length} file${d.files.length === 1 ? '' : 's'} · ${countOf(d.tensors.length, 'tensor')}`);
  row('weights', d.weightTypes.map((w) => `${w.type} ×${w.tensors} (${formatBytes(w.bytes)})`).join(', '));
  const shape = [
    d.contextLength && `ctx ${d.contextLength}`,
    d.embeddingLength && `embd ${d.embeddingLength}`,
    d.blockCount && countOf(d.blockCount, 'layer'),
    d.headCount && `${countOf(d.headCount, 'head')}${d.headCountKv ? ` (${d.headCountKv} kv)` : ''}`,
    d.headDim && `head dim ${d.headDim}`,
    d.feedForwardLength && `ffn ${d.feedForwardLength}`,
    d.vocabSize && `vocab ${d.vocabSize}`,
  ].filter(Boolean);
  row('shape', shape.join(' · '));
  if (d.rope) {
    const r = d.rope;
    row('rope', [r.layout, r.freqBase && `base ${r.freqBase}`, r.scalingType && r.scalingType !== 'none' && `${r.scalingType}${r.scalingFactor ? ` ×${r.scalingFactor}` : ''}`].filter(Boolean).join(' · '));
  }
  row('tokenizer', `${d.tokenizer ?? 'unknown'} · chat template: ${d.hasChatTemplate ? 'yes' : 'no'}`);
  // No fit figure for a model that does not run, unless its size is what stops it (as on the model page).
  const memory = showsMemoryFit(verdict) ? ` · needs ~${formatBytes(verdict.memory.totalBytes)}` : '';
  row('verdict', `${verdict.runs ? 'runs' : 'does not run'} · ${verdict.confidence} · engine ${verdict.engine}${memory}`);
  row('', verdictSummary(verdict));
  for (const r of verdict.reasons) if (r !== verdictSummary(verdict)) row('', r);
  // Among them: that the device was assumed (a typical desktop GPU), since the CLI probes none.
  for (const w of verdict.warnings) row('note', w);
  for (const r of verdict.recommendations) row('try', r);
  for (const w of d.warnings) row('note', w);
  if (result.candidates.length > 1) {
    lines.push(`  ${result.candidates.length} models here (* = shown):`);
    result.candidates.forEach((c, i) =>
      lines.push(`    ${i === result.chosen ? '*' : ' '} ${c.label.padEnd(24)} ${formatBytes(c.size).padStart(10)}  ${c.primary}${c.role !== 'model' ? ` (${c.role})` : ''}`),
    );
  }
  return `${lines.join('\n')}\n`;
}
