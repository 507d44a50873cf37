/**
 * The order of the search results: by downloads (as the hub ranks them) or by size. Sizes come from each result's
 * lazy lookup, so while they arrive the rows with a known size sort among themselves and the rest wait at the end.
 */
import type { HubModelSummary } from '../hub/hf-search.ts';

export type SearchSort = 'downloads' | 'size-asc' | 'size-desc';

export function sortSearchResults(
  results: readonly HubModelSummary[],
  sort: SearchSort,
  sizeOf: (repo: string) => number | undefined,
): HubModelSummary[] {
  const indexed = results.map((r, i) => ({ r, i }));
  const known = (n: number | undefined): n is number => n !== undefined && Number.isFinite(n);
  indexed.sort((a, b) => {
    if (sort === 'downloads') return (b.r.downloads ?? -1) - (a.r.downloads ?? -1) || a.i - b.i;
    const sa = sizeOf(a.r.repo);
    const sb = sizeOf(b.r.repo);
    if (!known(sa) || !known(sb)) return Number(!known(sa)) - Number(!known(sb)) || a.i - b.i;
    return (sort === 'size-asc' ? sa - sb : sb - sa) || a.i - b.i;
  });
  return indexed.map(({ r }) => r);
}
