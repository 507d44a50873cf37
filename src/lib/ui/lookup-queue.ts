/**
 * Runs per-item lookups a few at a time (the search's per-result file listings: polite to the hub, and the first
 * rows fill in first), and stops them all when the signal aborts: queued items never start, running ones get the
 * aborted signal.
 */
export async function runLookups<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  lookup: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (!signal.aborted && next < items.length) {
      const item = items[next++]!;
      // A lookup reports its own failure (per row); one failing must not stop the others.
      await lookup(item, signal).catch(() => undefined);
    }
  };
  const workers = Math.max(1, Math.min(concurrency, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
}
