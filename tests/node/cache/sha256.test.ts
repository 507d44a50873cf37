import { createHash, randomBytes } from 'node:crypto';
import { expect, test } from 'vitest';
import { Sha256, sha256Hex } from '../../../src/lib/cache/sha256.ts';

test('incremental SHA-256 (hash-wasm) equals Node crypto for every padding boundary, fed in uneven pieces', async () => {
  for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 70_001]) {
    const bytes = new Uint8Array(randomBytes(n));
    const h = await Sha256.create();
    for (let i = 0, k = 1; i < n; i += k, k = (k * 7) % 97 + 1) h.update(bytes.subarray(i, Math.min(n, i + k)));
    const expected = createHash('sha256').update(bytes).digest('hex');
    expect(h.hex()).toBe(expected);
    expect(await sha256Hex(bytes)).toBe(expected);
  }
  // The FIPS 180-4 example.
  expect((await Sha256.create()).update(new TextEncoder().encode('abc')).hex()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
