import { afterEach, describe, expect, test } from 'vitest';
import { DEFAULT_TRY_ASK_ABOVE_MIB, saveTryAskAboveMib, tryAskAboveBytes } from '../../../src/lib/ui/downloads/download-settings.ts';
import { tryItNowStep } from '../../../src/lib/ui/downloads/try-it-now.ts';
import { remoteRef, tryItNowPage } from '../../../src/lib/ui/model-links.ts';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const fits = (neededBytes: number) => ({ neededBytes, fits: true });

describe('what a "try it now" link does once the verdict is known', () => {
  test('a model that does not run here: stay on the page, whatever its size or cache state', () => {
    expect(tryItNowStep({ runsHere: false, cached: true, storage: fits(1), askAboveBytes: GiB })).toEqual({ kind: 'not-here' });
    expect(tryItNowStep({ runsHere: false, cached: false, storage: fits(10 * GiB), askAboveBytes: GiB })).toEqual({ kind: 'not-here' });
  });
  test('stored already: straight to the chat, even above the threshold', () => {
    expect(tryItNowStep({ runsHere: true, cached: true, storage: fits(0), askAboveBytes: 0 })).toEqual({ kind: 'chat' });
  });
  test('up to the threshold (inclusive) it downloads on its own; above, it asks with the size', () => {
    expect(tryItNowStep({ runsHere: true, cached: false, storage: fits(GiB), askAboveBytes: GiB })).toEqual({ kind: 'download' });
    expect(tryItNowStep({ runsHere: true, cached: false, storage: fits(GiB + 1), askAboveBytes: GiB })).toEqual({ kind: 'ask', neededBytes: GiB + 1 });
    // A threshold of 0 always asks.
    expect(tryItNowStep({ runsHere: true, cached: false, storage: fits(1), askAboveBytes: 0 })).toEqual({ kind: 'ask', neededBytes: 1 });
  });
  test('what does not fit is never started, small or large', () => {
    for (const needed of [MiB, 5 * GiB]) {
      expect(tryItNowStep({ runsHere: true, cached: false, storage: { neededBytes: needed, fits: false }, askAboveBytes: GiB })).toEqual({ kind: 'no-space' });
    }
  });
});

describe('the "ask above" setting', () => {
  const saved = new Map<string, string>();
  const local = {
    getItem: (k: string) => saved.get(k) ?? null,
    setItem: (k: string, v: string) => void saved.set(k, v),
    removeItem: (k: string) => void saved.delete(k),
  };
  (globalThis as { localStorage?: unknown }).localStorage = local;
  afterEach(() => saved.clear());

  test('1 GiB by default; a saved size in MiB (0 included) replaces it; nonsense is ignored', () => {
    expect(DEFAULT_TRY_ASK_ABOVE_MIB).toBe(1024);
    expect(tryAskAboveBytes()).toBe(GiB);
    saveTryAskAboveMib(1);
    expect(tryAskAboveBytes()).toBe(MiB);
    saveTryAskAboveMib(0);
    expect(tryAskAboveBytes()).toBe(0);
    saveTryAskAboveMib(-5);
    expect(tryAskAboveBytes()).toBe(0);
    saved.set('rbee-web:try-ask-above-mib', 'lots');
    expect(tryAskAboveBytes()).toBe(GiB);
    saved.set('rbee-web:try-ask-above-mib', '');
    expect(tryAskAboveBytes()).toBe(GiB);
  });
});

test('a deep link lands on the model page in try mode, with its file', () => {
  expect(tryItNowPage(remoteRef('owner/repo', 'm-Q4_K_M.gguf'))).toBe('/model?model=owner%2Frepo&file=m-Q4_K_M.gguf&try=1');
  expect(tryItNowPage(remoteRef(' https://x.test/a b.gguf '))).toBe('/model?model=https%3A%2F%2Fx.test%2Fa+b.gguf&try=1');
});
