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

const appConfigOf = (records: readonly MlcModelRecord[]) => ({ model_list: records.map((r) => ({ ...r })) as import('@mlc-ai/web-llm').ModelRecord[] });

/** For each record, whether web-llm holds its weights (every shard of its tensor cache). */
export async function listWebLlmCache(records: readonly MlcModelRecord[], lib: () => Promise<WebLlm> = importWebLlm): Promise<WebLlmCacheEntry[]> {
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
  } catch (e) {
    throw toRbeeError(e);
  }
}
