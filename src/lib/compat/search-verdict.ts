/**
 * A search result's expected verdict, looked up without downloading weights: the repository's file list (one hub
 * request: which model, how large), and config.json when the hub's search answer did not already say the model type
 * (one small request). The judgement itself is compat/repo-verdict.ts.
 */
import { expectedRepoVerdict, chooseRepoModel, type RepoModelFormat, type RepoVerdict } from './repo-verdict.ts';
import { hfModelType } from '../formats/safetensors-config.ts';
import { RbeeError } from '../errors.ts';
import { DEFAULT_HUB, hfFileUrl, hubHeaders, listHfFiles, readJson, type HfRef, type HubOptions } from '../hub/hf.ts';
import type { HubModelSummary } from '../hub/hf-search.ts';

export interface SearchVerdictOptions extends HubOptions {
  /** The format the user searched for (both: GGUF first, like the model page). */
  prefer?: RepoModelFormat;
}

export async function lookupSearchVerdict(summary: HubModelSummary, opts: SearchVerdictOptions = {}): Promise<RepoVerdict> {
  const ref: HfRef = { repo: summary.repo, revision: 'main' };
  const files = await listHfFiles(ref, opts);
  const model = chooseRepoModel(files, summary.repo, opts.prefer);

  let modelType = summary.config?.modelType ?? summary.config?.architectures?.[0];
  let quantMethod = summary.config?.quantMethod;
  let configDtype: string | undefined;
  const needsConfig =
    model !== undefined &&
    (model.format === 'safetensors' ? modelType === undefined || summary.safetensors === undefined : summary.gguf?.architecture === undefined && modelType === undefined);
  const dir = model?.primary.includes('/') ? model.primary.slice(0, model.primary.lastIndexOf('/') + 1) : '';
  const configPath = [`${dir}config.json`, 'config.json'].find((p) => files.some((f) => f.path === p));
  if (needsConfig && configPath) {
    const config = await readConfig(ref, configPath, opts);
    if (config) {
      modelType ??= hfModelType(config);
      const q = config.quantization_config;
      if (quantMethod === undefined && typeof q === 'object' && q !== null && typeof (q as Record<string, unknown>).quant_method === 'string') {
        quantMethod = (q as Record<string, string>).quant_method;
      }
      const dtype = config.torch_dtype ?? config.dtype;
      if (typeof dtype === 'string') configDtype = dtype;
    }
  }
  return expectedRepoVerdict({
    repo: summary.repo,
    files,
    ...(opts.prefer ? { prefer: opts.prefer } : {}),
    ...(summary.gguf?.architecture ? { ggufArchitecture: summary.gguf.architecture } : {}),
    ...(modelType ? { modelType } : {}),
    ...(quantMethod ? { quantMethod: quantMethod.slice(0, 60) } : {}),
    ...(configDtype ? { configDtype } : {}),
    ...(summary.safetensors ? { safetensorsParameters: summary.safetensors.parameters } : {}),
  });
}

/** config.json as an object, or undefined when it is missing or not an object (the verdict then says it cannot tell). */
async function readConfig(ref: HfRef, path: string, opts: HubOptions): Promise<Record<string, unknown> | undefined> {
  const url = hfFileUrl(ref, path, opts.hubBase ?? DEFAULT_HUB);
  const fetchFn = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  let response: Response;
  try {
    response = await fetchFn(url, { headers: hubHeaders(opts.token), signal: opts.signal });
  } catch (e) {
    if (opts.signal?.aborted || (e as { name?: string })?.name === 'AbortError') throw new RbeeError('aborted', 'Cancelled.', { cause: e });
    return undefined;
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  try {
    const json = await readJson(response, url);
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  } catch (e) {
    if (opts.signal?.aborted) throw new RbeeError('aborted', 'Cancelled.', { cause: e });
    return undefined;
  }
}
