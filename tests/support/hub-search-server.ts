/**
 * A stand-in Hugging Face hub for the search: `GET /api/models` answers like the hub's model search (search text
 * matched in the id, `filter` tags ANDed, `pipeline_tag`, sort by downloads, `limit`, only the `expand`ed fields), and
 * each repository's tree listing and files are served by the Range server beside it (so the model page can read a
 * GGUF header from it too). Every search's query parameters are recorded for the tests to check.
 *
 *   const hub = await startHubSearchServer([{ id: 'o/m-GGUF', downloads: 10, tags: ['gguf'], files: { 'm-Q4_K_M.gguf': 4e9 } }]);
 *   await searchHubModels({ text: 'm' }, { hubBase: hub.url });
 *   hub.searches[0].getAll('expand')
 */
import type { ServerResponse } from 'node:http';
import { startRangeServer, type RangeServer } from './range-server.ts';

export interface StandInModel {
  id: string;
  downloads?: number;
  likes?: number;
  tags: string[];
  pipeline_tag?: string;
  library_name?: string;
  gguf?: Record<string, unknown>;
  safetensors?: Record<string, unknown>;
  config?: Record<string, unknown>;
  /** Files by path: bytes (served) or a size only (listed, not served: sizes of real models without their bytes). */
  files: Record<string, Uint8Array | number>;
}

export interface HubSearchServerOptions {
  /** Answer the search with this status (e.g. 429, 503). */
  searchStatus?: number;
  /** With searchStatus 429: the Retry-After header. */
  retryAfter?: string;
  /** Answer the search with this raw body instead (malformed / hostile answers). */
  searchBody?: string;
  /** Wait this long before answering each search (abort tests). */
  searchDelayMs?: number;
  /** Wait this long before answering each tree listing (cancellation of per-result lookups). */
  treeDelayMs?: number;
}

export interface HubSearchServer extends RangeServer {
  /** The query parameters of every search received, in order. */
  readonly searches: URLSearchParams[];
  readonly searchOptions: HubSearchServerOptions;
  /** Tree listings requested, by repository, in order. */
  readonly treeRequests: string[];
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(typeof body === 'string' ? body : JSON.stringify(body));
};

export async function startHubSearchServer(models: StandInModel[], searchOptions: HubSearchServerOptions = {}): Promise<HubSearchServer> {
  const searches: URLSearchParams[] = [];
  const treeRequests: string[] = [];
  const files: Record<string, Uint8Array> = {};
  const trees = new Map<string, { type: 'file'; path: string; size: number; lfs?: { oid: string; size: number } }[]>();
  for (const m of models) {
    trees.set(
      m.id,
      Object.entries(m.files).map(([path, f]) => {
        const size = typeof f === 'number' ? f : f.byteLength;
        return { type: 'file' as const, path, size, ...(size > 1024 ? { lfs: { oid: `sha-${path}`, size } } : {}) };
      }),
    );
    for (const [path, f] of Object.entries(m.files)) if (typeof f !== 'number') files[`/${m.id}/resolve/main/${path}`] = f;
  }

  const server = await startRangeServer(files, {
    route: async (req, res, url) => {
      const treeMatch = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/main$/.exec(url.pathname);
      if (treeMatch) {
        const repo = decodeURIComponent(treeMatch[1]!);
        treeRequests.push(repo);
        if (searchOptions.treeDelayMs) await new Promise((r) => setTimeout(r, searchOptions.treeDelayMs));
        const tree = trees.get(repo);
        if (!tree) json(res, 404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
        else json(res, 200, tree);
        return true;
      }
      if (url.pathname !== '/api/models') return false;
      searches.push(url.searchParams);
      if (searchOptions.searchDelayMs) await new Promise((r) => setTimeout(r, searchOptions.searchDelayMs));
      if (searchOptions.searchStatus) {
        json(res, searchOptions.searchStatus, { error: 'stand-in failure' }, searchOptions.retryAfter ? { 'Retry-After': searchOptions.retryAfter } : {});
        return true;
      }
      if (searchOptions.searchBody !== undefined) {
        json(res, 200, searchOptions.searchBody);
        return true;
      }
      const q = (url.searchParams.get('search') ?? '').toLowerCase();
      const filters = url.searchParams.getAll('filter');
      const pipeline = url.searchParams.get('pipeline_tag');
      const expand = url.searchParams.getAll('expand');
      const limit = Number(url.searchParams.get('limit') ?? 1000);
      const found = models
        .filter((m) => m.id.toLowerCase().includes(q) && filters.every((f) => m.tags.includes(f)) && (!pipeline || m.pipeline_tag === pipeline))
        .sort((a, b) => (url.searchParams.get('sort') === 'downloads' ? (b.downloads ?? 0) - (a.downloads ?? 0) : 0))
        .slice(0, limit)
        .map((m) => {
          // Like the hub: with `expand`, only the id and the expanded fields come back.
          const all: Record<string, unknown> = { ...m, _id: `id-${m.id}`, modelId: m.id, lastModified: '2026-01-01T00:00:00.000Z', gated: false };
          delete all.files;
          return Object.fromEntries(Object.entries(all).filter(([k]) => k === 'id' || k === '_id' || expand.includes(k)));
        });
      json(res, 200, found);
      return true;
    },
  });
  return Object.assign(server, { searches, searchOptions, treeRequests });
}
