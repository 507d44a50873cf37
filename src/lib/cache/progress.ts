/**
 * Download progress as users read it: bytes done of total, the rate over the last few seconds (not since the start:
 * a resumed or throttled download should show what it does now), and the time left at that rate.
 */

export interface DownloadProgress {
  /** Bytes of this file already stored (complete chunks, counting those from earlier sessions). */
  bytesStored: number;
  /** Stored plus bytes received for chunks still in flight: what a progress bar shows. */
  bytesReceived: number;
  bytesTotal: number;
  chunksDone: number;
  chunksTotal: number;
  /** Bytes per second over the last RATE_WINDOW_MS; 0 until there is something to measure. */
  bytesPerSecond: number;
  /** Seconds left at the current rate; undefined while the rate is unknown. */
  etaSeconds: number | undefined;
  state: DownloadState;
}

export type DownloadState = 'starting' | 'downloading' | 'verifying' | 'paused' | 'done' | 'failed' | 'cancelled';

/** Long enough to smooth over chunk boundaries, short enough to follow a changing connection. */
export const RATE_WINDOW_MS = 5000;

export class RateMeter {
  private readonly samples: { t: number; bytes: number }[] = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Records that `total` bytes have arrived so far (a running total for this session). */
  record(total: number): void {
    const t = this.now();
    this.samples.push({ t, bytes: total });
    while (this.samples.length > 2 && t - this.samples[1]!.t > RATE_WINDOW_MS) this.samples.shift();
  }

  /** Bytes per second over the window; 0 with fewer than two samples or no time between them. */
  rate(): number {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const dt = (last.t - first.t) / 1000;
    return dt > 0 ? (last.bytes - first.bytes) / dt : 0;
  }

  reset(): void {
    this.samples.length = 0;
  }
}

export function etaSeconds(remainingBytes: number, bytesPerSecond: number): number | undefined {
  if (remainingBytes <= 0) return 0;
  return bytesPerSecond > 0 ? remainingBytes / bytesPerSecond : undefined;
}
