// The library page's "ask above" field: what it accepts, and that a valid entry changes what a try link reads.
import { afterEach, expect, test } from 'vitest';
import {
  MAX_TRY_ASK_ABOVE_MIB,
  parseTryAskAboveMib,
  saveTryAskAboveMib,
  tryAskAboveBytes,
  tryAskAboveMib,
} from '../../../src/lib/ui/downloads/download-settings.ts';

const saved = new Map<string, string>();
(globalThis as { localStorage?: unknown }).localStorage = {
  getItem: (k: string) => saved.get(k) ?? null,
  setItem: (k: string, v: string) => void saved.set(k, v),
  removeItem: (k: string) => void saved.delete(k),
};
afterEach(() => saved.clear());

test('whole MiB from 0 to 1 TiB are accepted, with spaces around; anything else is not', () => {
  expect(parseTryAskAboveMib('0')).toBe(0);
  expect(parseTryAskAboveMib(' 2048 ')).toBe(2048);
  expect(parseTryAskAboveMib(String(MAX_TRY_ASK_ABOVE_MIB))).toBe(1024 * 1024);
  for (const bad of ['', ' ', '-1', '1.5', '1e3', '0x10', 'lots', '12 MiB', String(MAX_TRY_ASK_ABOVE_MIB + 1)]) {
    expect(parseTryAskAboveMib(bad), bad).toBeUndefined();
  }
});

test('a valid entry saved is what the next try link reads, in MiB and in bytes', () => {
  expect(tryAskAboveMib()).toBe(1024);
  saveTryAskAboveMib(parseTryAskAboveMib('300')!);
  expect(saved.get('rbee-web:try-ask-above-mib')).toBe('300');
  expect(tryAskAboveMib()).toBe(300);
  expect(tryAskAboveBytes()).toBe(300 * 1024 ** 2);
  saveTryAskAboveMib(parseTryAskAboveMib('0')!);
  expect(tryAskAboveBytes()).toBe(0);
});
