// The engine's capabilities as data (src/lib/engine/capabilities.ts) against the kernels themselves: the matrix reads
// the list, so a decoder added or removed without the list (or the reverse) would make the matrix lie.
import { expect, test } from 'vitest';
import { WEBGPU_KERNELS } from '../../../src/lib/compat/matrix.ts';
import { ggmlTypeByName } from '../../../src/lib/formats/ggml-types.ts';
import { WEIGHT_TYPES_WITH_KERNELS } from '../../../src/lib/engine/capabilities.ts';
import { formatNames, weightFormat } from '../../../src/lib/engine/kernels/weight-formats.ts';

test('the weight types with kernels are exactly the types weight-formats.ts decodes', () => {
  expect([...formatNames()].sort()).toEqual([...WEIGHT_TYPES_WITH_KERNELS].sort());
  for (const name of WEIGHT_TYPES_WITH_KERNELS) expect(weightFormat(ggmlTypeByName(name)!.id).name).toBe(name);
});

test('the matrix lists them as having a kernel, and every other GGUF type it lists as planned', () => {
  for (const name of WEIGHT_TYPES_WITH_KERNELS) expect(WEBGPU_KERNELS[name]).toBe('kernel');
  const others = Object.entries(WEBGPU_KERNELS).filter(([name]) => !(WEIGHT_TYPES_WITH_KERNELS as readonly string[]).includes(name));
  expect(others.length).toBeGreaterThan(0);
  for (const [, kernel] of others) expect(kernel).toBe('planned');
});
