import { expect, test } from 'vitest';
test('unit runner works', () => expect(1 + 1).toBe(2));
