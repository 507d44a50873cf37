import { expect, test } from 'vitest';
import { modelRefFromUrl } from '../../../src/lib/model/model-ref.ts';
import { contextLengthFromUrl } from '../../../src/routes/chat/context-length.ts';

test('&ctx= asks for a context length; anything but a positive whole number is the default', () => {
  const at = (q: string) => new URL(`http://localhost/chat?model=o%2Fr${q}`);
  expect(contextLengthFromUrl(at('&ctx=256'))).toBe(256);
  expect(contextLengthFromUrl(at(''))).toBeUndefined();
  for (const bad of ['0', '-5', '2.5', 'big', '']) expect(contextLengthFromUrl(at(`&ctx=${bad}`))).toBeUndefined();
  expect(modelRefFromUrl(at('&ctx=256'))).toEqual({ kind: 'remote', source: 'o/r' });
});
