/** What each confidence means, in the words the legend on /compat and the badges' tooltips use. */
import type { Confidence, Verdict } from '../compat/verdict.ts';

export const CONFIDENCE_MEANING: Readonly<Record<Confidence, string>> = {
  verified: 'A parity test in this repository runs this combination and matches llama.cpp token for token in CI.',
  expected: 'The code path exists, but no test covers this exact combination yet: it should run.',
  planned: 'Not implemented yet: rbee-web stops with a clear message and says what to use instead.',
  unsupported: 'Not on the roadmap, or not a model format/weight type any engine here runs.',
};

export const HONESTY_RULE =
  'Nothing is called verified unless a test in this repository names it and passes in CI; a test enforces this rule.';

/** A verdict in two or three words, no stronger than its confidence: only a verified combination "runs". */
export function runsLabel(v: Pick<Verdict, 'runs' | 'confidence' | 'memory'>): string {
  if (!v.runs) return v.memory.fits ? 'does not run' : 'does not run (too large)';
  return v.confidence === 'verified' ? 'runs' : 'should run';
}
