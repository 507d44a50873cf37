/** What each confidence means, in the words the legend on /compat and the badges' tooltips use. */
import { isRunnable, type Confidence, type Verdict } from './verdict.ts';

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

/**
 * The verdict in one sentence a person reads first (the model page leads with it; the reasons, with the tests and
 * matrix cells behind them, stay one click away). No stronger than the confidence, like runsLabel.
 */
export function verdictSummary(v: Pick<Verdict, 'runs' | 'confidence' | 'engine' | 'memory' | 'reasons' | 'cells' | 'backends'>): string {
  const browser = v.backends.find((b) => b.backend === 'webgpu');
  if (v.cells.length === 0 && v.engine === 'none') return v.reasons[0] ?? 'rbee-web cannot run this model.';
  if (v.runs && v.engine === 'companion') {
    return v.confidence === 'verified'
      ? 'Runs on the rbee companion (a native program on this computer), tested to give the same words as llama.cpp.'
      : 'Should run on the rbee companion (a native program on this computer), not in this browser.';
  }
  if (v.runs) {
    return v.confidence === 'verified'
      ? 'Tested: in this browser it gives the same words as llama.cpp does for this kind of model.'
      : 'Should run in this browser: the code for this kind of model exists, but no test covers this exact combination yet.';
  }
  const companion = v.engine === 'companion' ? ' The rbee companion (a native program on this computer) could run it, but none is running here.' : '';
  if (browser && isRunnable(browser.confidence) && !v.memory.fits) {
    return `Too large for this browser here: it needs more memory than a browser can be expected to give one model.${companion}`;
  }
  if (companion) return 'Runs only on the rbee companion (a native program on this computer), which is not running here.';
  if (browser && isRunnable(browser.confidence)) return 'It would run, but not in this browser as it is: see why below.';
  if (v.confidence === 'planned') return 'Not yet: rbee-web does not run this kind of model yet (it is planned).';
  return 'rbee-web does not run this kind of model.';
}

/** Whether the memory estimate means something for this verdict: a model that does not run gets no fit figure,
 * unless its size is what stops it. */
export function showsMemoryFit(v: Pick<Verdict, 'runs' | 'memory' | 'cells'>): boolean {
  if (v.cells.length === 0) return false;
  return v.runs || !v.memory.fits;
}
