/**
 * How the app writes sizes and counts for people — the pages, the verdict's reasons, the CLI and the downloader's
 * errors alike: binary byte units (what file managers and the hub show for model files) and short parameter counts
 * (260K, 1.1B — how models are named).
 */

/** "512 B", "1.1 MiB", "16 MiB", "114 MiB", "2 GiB": one decimal below 100 (a trailing .0 dropped), none from 100. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '—';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  // Rounding can reach the next unit (1023.96 KiB → "1024 KiB"): say "1 MiB" instead.
  if (Math.round(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, '')} ${units[unit]}`;
}

export function formatParameterCount(count: number | undefined): string {
  if (count === undefined || !Number.isFinite(count)) return '—';
  const steps: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [scale, suffix] of steps) {
    if (count >= scale) {
      const v = count / scale;
      return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1).replace(/\.0$/, '') : v.toFixed(2).replace(/\.?0+$/, '')}${suffix}`;
    }
  }
  return String(count);
}

/** Thousands separators, for exact counts (tensors, tokens, limits). */
export function formatInteger(n: number | bigint | undefined): string {
  if (n === undefined) return '—';
  return n.toLocaleString('en-US');
}

/** "1 layer", "5 layers", "1,024 tensors": a count with its noun in the right number (regular plurals only). */
export function countOf(n: number, noun: string): string {
  return `${formatInteger(n)} ${noun}${n === 1 ? '' : 's'}`;
}
