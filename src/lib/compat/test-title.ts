/**
 * A verifying test's title as it reads in the test report: a parameterised `test.each` title ('%s: equal to …') with
 * its case filled in. The matrix's reasons, the model page and /compat all name tests through this one function.
 */
import type { VerifyingTest } from './verdict.ts';

export function testTitle(test: VerifyingTest): string {
  return test.case === undefined ? test.name : test.name.replace('%s', test.case);
}
