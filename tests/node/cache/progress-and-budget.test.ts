import { describe, expect, test } from 'vitest';
import { etaSeconds, RATE_WINDOW_MS, RateMeter } from '../../../src/lib/cache/progress.ts';
import { estimateStorage, quotaError, requestPersistence } from '../../../src/lib/cache/storage-budget.ts';

describe('rate and time left', () => {
  test('the rate is measured over the recent window, not since the start', () => {
    let now = 0;
    const meter = new RateMeter(() => now);
    expect(meter.rate()).toBe(0);
    // 10 s at 1 MB/s, then 10 s at 4 MB/s: the rate follows the change.
    let total = 0;
    for (; now <= 10_000; now += 500) meter.record((total = now * 1000));
    expect(meter.rate()).toBeCloseTo(1_000_000, -3);
    for (; now <= 20_000; now += 500) meter.record((total += 2_000_000));
    expect(meter.rate()).toBeCloseTo(4_000_000, -4);
    expect(RATE_WINDOW_MS).toBeLessThan(10_000);
    expect(etaSeconds(8_000_000, meter.rate())).toBeCloseTo(2, 1);
    expect(etaSeconds(0, 0)).toBe(0);
    expect(etaSeconds(100, 0)).toBeUndefined();
  });
});

describe('storage budget', () => {
  test('free space from navigator.storage.estimate(), or unknown where there is none', async () => {
    expect(await estimateStorage({ estimate: async () => ({ quota: 10_000, usage: 2_500 }) })).toEqual({ freeBytes: 7_500, quotaBytes: 10_000, usageBytes: 2_500 });
    expect(await estimateStorage(undefined)).toEqual({ freeBytes: undefined, quotaBytes: undefined, usageBytes: undefined });
    expect((await estimateStorage({ estimate: () => Promise.reject(new Error('no')) })).freeBytes).toBeUndefined();
  });

  test("persist(): the browser's answer, true when already persisted, undefined without the API", async () => {
    expect(await requestPersistence({ persisted: async () => false, persist: async () => false })).toBe(false);
    expect(await requestPersistence({ persisted: async () => true, persist: async () => false })).toBe(true);
    expect(await requestPersistence({ persist: async () => true })).toBe(true);
    expect(await requestPersistence(undefined)).toBeUndefined();
  });

  test('the quota message says what is needed against what is free', () => {
    const e = quotaError(3 * 1024 ** 3, 1024 ** 3);
    expect(e.code).toBe('quota');
    expect(e.message).toBe('Not enough storage: this download needs 3 GiB more and 1 GiB is free.');
    expect(e.hint).toMatch(/library/);
  });
});
