/**
 * rbee-hive knows which workers run on its machine and tells anyone who listens: GET /v1/heartbeats/stream sends
 * `event: heartbeat` SSE messages whose data lists `workers`. LLM workers carry `group: "llm"`, their port in
 * `instance` and the model they serve in `model`. The hive answers browsers (it sends permissive CORS); its workers do not.
 */
import { RbeeError } from '../errors.ts';
import { readServerSentEvents } from './sse.ts';

export interface HiveWorker {
  /** Where the worker listens, e.g. http://localhost:8080 (the hive's host with the worker's port). */
  url: string;
  model: string;
  id?: string;
}

function portOf(instance: unknown): number | undefined {
  if (typeof instance === 'number' && Number.isInteger(instance)) return instance;
  if (typeof instance !== 'string') return undefined;
  if (/^\d+$/.test(instance)) return Number(instance);
  // Some builds report "host:port" or a whole URL: the port is what matters, the host is the hive's.
  const match = /:(\d+)\/?$/.exec(instance);
  return match ? Number(match[1]) : undefined;
}

/** The LLM workers in one heartbeat's data (other groups, e.g. image workers, are left out). */
export function parseHeartbeat(data: unknown, hiveUrl: string): HiveWorker[] {
  const body = data as { workers?: unknown; hive?: { workers?: unknown } } | null;
  const workers = Array.isArray(body?.workers) ? body.workers : Array.isArray(body?.hive?.workers) ? body.hive.workers : [];
  const hive = new URL(hiveUrl);
  const found: HiveWorker[] = [];
  for (const w of workers as Array<Record<string, unknown>>) {
    if (typeof w !== 'object' || w === null) continue;
    const group = w.group ?? w.worker_group;
    if (group !== undefined && group !== 'llm') continue;
    const port = portOf(w.instance ?? w.port);
    if (port === undefined || port <= 0 || port > 65535) continue;
    const model = typeof w.model === 'string' ? w.model : typeof w.model_id === 'string' ? w.model_id : 'unknown model';
    found.push({ url: `${hive.protocol}//${hive.host.replace(/:\d+$/, '')}:${port}`, model, id: typeof w.id === 'string' ? w.id : undefined });
  }
  return found;
}

/** Reads the first heartbeat (leaving the stream at once) and returns the LLM workers it lists. */
export async function readHiveWorkers(hiveUrl: string, options: { signal?: AbortSignal; fetch?: typeof fetch } = {}): Promise<HiveWorker[]> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const response = await doFetch(new URL('/v1/heartbeats/stream', hiveUrl), {
    headers: { accept: 'text/event-stream' },
    signal: options.signal,
  });
  if (!response.ok || !response.body) {
    throw new RbeeError('companion', `The rbee hive at ${hiveUrl} did not stream heartbeats (HTTP ${response.status}).`, {
      hint: 'Check that rbee-hive is running and up to date.',
    });
  }
  for await (const message of readServerSentEvents(response.body)) {
    if (message.event !== 'heartbeat' && message.event !== 'message') continue;
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch {
      continue; // a heartbeat we cannot read tells us nothing; wait for the next one
    }
    // The hive sends its whole worker list in every heartbeat, so the first one is the answer.
    return parseHeartbeat(data, hiveUrl);
  }
  return [];
}
