/**
 * web-llm's own cache (the browser's Cache API, scopes webllm/model, webllm/config, webllm/wasm) for the library page:
 * which MLC builds are stored, and removing one. rbee-web's download cache (src/lib/cache) holds GGUF files; MLC
 * weights live where web-llm put them, so the library lists both.
 */
import { toRbeeError } from '../errors.ts';
import type { MlcModelRecord } from './web-llm-records.ts';

type WebLlm = typeof import('@mlc-ai/web-llm');
const importWebLlm = (): Promise<WebLlm> => import('@mlc-ai/web-llm');

export interface WebLlmCacheEntry {
  modelId: string;
  model: string;
  cached: boolean;
}

/** Where the page remembers the MLC builds it loaded, so the library can ask web-llm about them later. */
const REMEMBERED_KEY = 'rbee.web-llm.records';

function storage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined; // storage disabled (private mode settings)
  }
}

/** The MLC builds this app has loaded (newest first). */
export function rememberedWebLlmRecords(): MlcModelRecord[] {
  try {
    const parsed = JSON.parse(storage()?.getItem(REMEMBERED_KEY) ?? '[]') as unknown;
    return Array.isArray(parsed) ? parsed.filter((r): r is MlcModelRecord => typeof r?.model_id === 'string' && typeof r?.model === 'string' && typeof r?.model_lib === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberWebLlmRecord(record: MlcModelRecord): void {
  const others = rememberedWebLlmRecords().filter((r) => r.model_id !== record.model_id);
  storage()?.setItem(REMEMBERED_KEY, JSON.stringify([record, ...others]));
}

export function forgetWebLlmRecord(modelId: string): void {
  storage()?.setItem(REMEMBERED_KEY, JSON.stringify(rememberedWebLlmRecords().filter((r) => r.model_id !== modelId)));
}

const appConfigOf = (records: readonly MlcModelRecord[]) => ({ model_list: records.map((r) => ({ ...r })) as import('@mlc-ai/web-llm').ModelRecord[] });

/** For each record (default: the remembered ones), whether web-llm holds its weights (every shard of its tensor cache). */
export async function listWebLlmCache(records: readonly MlcModelRecord[] = rememberedWebLlmRecords(), lib: () => Promise<WebLlm> = importWebLlm): Promise<WebLlmCacheEntry[]> {
  try {
    const { hasModelInCache } = await lib();
    const appConfig = appConfigOf(records);
    return await Promise.all(records.map(async (r) => ({ modelId: r.model_id, model: r.model, cached: await hasModelInCache(r.model_id, appConfig) })));
  } catch (e) {
    throw toRbeeError(e);
  }
}

/** Removes a build's weights, config and model library from web-llm's cache. */
export async function deleteWebLlmModel(record: MlcModelRecord, lib: () => Promise<WebLlm> = importWebLlm): Promise<void> {
  try {
    const { deleteModelAllInfoInCache } = await lib();
    await deleteModelAllInfoInCache(record.model_id, appConfigOf([record]));
    forgetWebLlmRecord(record.model_id);
  } catch (e) {
    throw toRbeeError(e);
  }
}
