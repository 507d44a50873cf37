/**
 * "Try it now": a link from a model page elsewhere (`/?model=owner/repo&file=…`) that should end in a chat with the
 * model, downloading it first when needed — but never a multi-gigabyte download nobody asked for. Once the header is
 * read and the verdict known, one decision says what the model page does next; kept apart from the component so it
 * can be tested without a browser.
 */
import type { StorageCheck } from '../../cache/model-download.ts';

export type TryItNowStep =
  /** Complete in the cache: open the chat. */
  | { kind: 'chat' }
  /** Small enough and it fits: download at once, then open the chat. */
  | { kind: 'download' }
  /** Larger than the "ask above" size: say how much and ask first. */
  | { kind: 'ask'; neededBytes: number }
  /** The verdict says it does not run in this browser: stay on the page, download nothing. */
  | { kind: 'not-here' }
  /** It does not fit in the storage the browser gives this site: the storage message, download nothing. */
  | { kind: 'no-space' };

export interface TryItNowFacts {
  /** The verdict: runs in this browser on WebGPU. */
  runsHere: boolean;
  /** Every file of the model is stored. */
  cached: boolean;
  storage: Pick<StorageCheck, 'neededBytes' | 'fits'> | undefined;
  askAboveBytes: number;
}

export function tryItNowStep(f: TryItNowFacts): TryItNowStep {
  if (!f.runsHere) return { kind: 'not-here' };
  if (f.cached) return { kind: 'chat' };
  const needed = f.storage?.neededBytes ?? 0;
  if (f.storage && !f.storage.fits) return { kind: 'no-space' };
  // At the threshold exactly: no question (a 1 GiB threshold lets a 1 GiB model start on its own).
  return needed <= f.askAboveBytes ? { kind: 'download' } : { kind: 'ask', neededBytes: needed };
}
