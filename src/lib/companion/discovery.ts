/**
 * Finding a native worker from the page, only when the user asks: the configured companion, a companion on its
 * default port, and rbee-hive on its default port (whose heartbeat names its LLM workers). Every probe has a short
 * timeout so "nothing here" answers in about a second.
 *
 * A page cannot read answers from a server that sends no CORS headers for it (a plain rbee worker, or a companion
 * that does not allow this origin); a `no-cors` request still tells whether something listens there, which is
 * enough to say what to do about it.
 */
import { CompanionClient, type CompanionEndpoint } from './client.ts';
import { readHiveWorkers, type HiveWorker } from './hive.ts';
import type { CompanionInfo } from './protocol.ts';
import { COMPANION_PORT, HIVE_PORT } from './protocol.ts';

export const DISCOVERY_TIMEOUT_MS = 1500;
export const DEFAULT_COMPANION_URL = `http://127.0.0.1:${COMPANION_PORT}`;
export const DEFAULT_HIVE_URL = `http://localhost:${HIVE_PORT}`;

export type Sighting =
  /** A companion this page may use. `tokenAccepted` is false when the stored token is wrong or missing. */
  | { kind: 'companion'; url: string; info: CompanionInfo; tokenAccepted: boolean }
  /** A rbee worker that answers this page (it sends CORS): usable directly, model unknown. */
  | { kind: 'worker'; url: string }
  /** Something listens there but will not answer this page (no CORS for this origin). */
  | { kind: 'blocked'; url: string; advice: string }
  /** rbee-hive with its LLM workers (which a page cannot reach without a companion in front). */
  | { kind: 'hive'; url: string; workers: HiveWorker[]; advice: string };

export interface DiscoveryOptions {
  /** The configured endpoint (tried first, with its token). */
  configured?: CompanionEndpoint | null;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Override the default addresses (tests run companions on free ports). */
  candidates?: { companions?: string[]; hives?: string[] };
}

function deadline(options: DiscoveryOptions): AbortSignal {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DISCOVERY_TIMEOUT_MS);
  return options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
}

/** Does anything answer HTTP there at all? (An opaque no-cors answer says yes without showing what.) */
async function listens(url: string, signal: AbortSignal): Promise<boolean> {
  try {
    await fetch(`${url}/health`, { mode: 'no-cors', signal });
    return true;
  } catch {
    return false;
  }
}

const ownOrigin = (): string => globalThis.location?.origin ?? '<this app\'s origin>';

async function probeWorker(endpoint: CompanionEndpoint, options: DiscoveryOptions): Promise<Sighting | null> {
  const signal = deadline(options);
  let health: Response;
  try {
    health = await fetch(`${endpoint.url}/health`, { signal });
  } catch {
    if (signal.aborted && options.signal?.aborted) return null;
    if (await listens(endpoint.url, deadline(options))) {
      return {
        kind: 'blocked',
        url: endpoint.url,
        advice: `Something at ${endpoint.url} answers but not to this page. If it is a rbee worker, run \`rbee-web companion --proxy ${endpoint.url} --allow-origin ${ownOrigin()}\`; if it is a companion, restart it with --allow-origin ${ownOrigin()}.`,
      };
    }
    return null;
  }
  if (!health.ok) return null;
  const client = new CompanionClient(endpoint);
  let info: CompanionInfo;
  try {
    info = await client.info(deadline(options));
    if (info.service !== 'rbee-web-companion') return { kind: 'worker', url: endpoint.url };
  } catch {
    return { kind: 'worker', url: endpoint.url };
  }
  // A job id that cannot exist: 404 means the token passed the lock, 401 means it did not.
  let tokenAccepted = false;
  try {
    const probe = await fetch(`${endpoint.url}/v1/jobs/pairing-check`, {
      headers: endpoint.token ? { authorization: `Bearer ${endpoint.token}` } : {},
      signal: deadline(options),
    });
    tokenAccepted = probe.status === 404;
  } catch {
    tokenAccepted = false;
  }
  return { kind: 'companion', url: endpoint.url, info, tokenAccepted };
}

async function probeHive(url: string, options: DiscoveryOptions): Promise<Sighting | null> {
  try {
    const health = await fetch(`${url}/health`, { signal: deadline(options) });
    if (!health.ok || (await health.text()).trim() !== 'ok') return null;
    const workers = await readHiveWorkers(url, { signal: deadline(options) });
    return {
      kind: 'hive',
      url,
      workers,
      advice: workers.length
        ? `rbee workers do not answer web pages themselves: run \`rbee-web companion --proxy ${url} --allow-origin ${ownOrigin()}\` and pair with the link it prints.`
        : 'The hive runs no LLM worker yet: start one with rbee, then look again.',
    };
  } catch {
    return null;
  }
}

/** Everything found, configured endpoint first. Probes run in parallel; the whole search takes about one timeout. */
export async function discoverNativeWorkers(options: DiscoveryOptions = {}): Promise<Sighting[]> {
  const endpoints: CompanionEndpoint[] = [];
  if (options.configured?.url) endpoints.push(options.configured);
  for (const url of options.candidates?.companions ?? [DEFAULT_COMPANION_URL]) {
    if (!endpoints.some((e) => e.url === url)) endpoints.push({ url, token: options.configured?.token ?? '' });
  }
  const hives = options.candidates?.hives ?? [DEFAULT_HIVE_URL];
  const results = await Promise.all([...endpoints.map((e) => probeWorker(e, options)), ...hives.map((h) => probeHive(h, options))]);
  return results.filter((r): r is Sighting => r !== null);
}
