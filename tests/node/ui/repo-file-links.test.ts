// The repository list on a model page: where each other file's "Open" link goes (keeping "try it now" mode), and the
// first guess from a file's name, which must be the same rule the search results use.
import { describe, expect, test } from 'vitest';
import { matrixCell } from '../../../src/lib/compat/matrix.ts';
import { mainWeightType } from '../../../src/lib/compat/repo-verdict.ts';
import type { InspectResult } from '../../../src/lib/model/inspect.ts';
import type { ModelCandidate } from '../../../src/lib/model/model-candidates.ts';
import { modelRefFromUrl, type ModelRef } from '../../../src/lib/model/model-ref.ts';
import { candidateHref, confidenceFromName } from '../../../src/lib/ui/open-model.ts';

const candidate = (primary: string, quantization?: string, role: ModelCandidate['role'] = 'model'): ModelCandidate => ({
  id: primary,
  format: 'gguf',
  label: quantization ?? primary,
  primary,
  files: [primary],
  size: 1,
  role,
  ...(quantization ? { quantization } : {}),
});

const hfResult = (revision: string): InspectResult =>
  ({ hf: { repo: 'owner/repo', revision, url: `https://hub.test/owner/repo`, files: [] }, candidates: [], chosen: 0 }) as unknown as InspectResult;
const urlResult = { candidates: [], chosen: -1 } as unknown as InspectResult;

describe('links to the other files of a repository', () => {
  const remote: ModelRef = { kind: 'remote', source: 'owner/repo', file: 'm-Q8_0.gguf' };
  const small = candidate('sub/m-Q4_K_M.gguf', 'Q4_K_M');

  test('a plain model page links to plain model pages', () => {
    expect(candidateHref(remote, hfResult('main'), small)).toBe('/model?model=owner%2Frepo&file=sub%2Fm-Q4_K_M.gguf');
    expect(candidateHref(remote, hfResult('main'), small, { tryMode: false })).not.toContain('try=');
    expect(candidateHref(remote, hfResult('v2'), small)).toBe('/model?model=owner%2Frepo%40v2&file=sub%2Fm-Q4_K_M.gguf');
  });

  test('in try mode the links keep try=1, on the same source and revision', () => {
    const href = candidateHref(remote, hfResult('v2'), small, { tryMode: true });
    expect(href).toBe('/model?model=owner%2Frepo%40v2&file=sub%2Fm-Q4_K_M.gguf&try=1');
    // The page the link opens reads it back as the same request, in try mode.
    const url = new URL(href, 'http://app');
    expect(modelRefFromUrl(url)).toEqual({ kind: 'remote', source: 'owner/repo@v2', file: 'sub/m-Q4_K_M.gguf' });
    expect(url.searchParams.get('try')).toBe('1');
    // A source that is not a hub repository (a URL) keeps its own form.
    expect(candidateHref({ kind: 'remote', source: 'https://x.test/m.gguf' }, urlResult, small, { tryMode: true })).toBe(
      '/model?model=https%3A%2F%2Fx.test%2Fm.gguf&file=sub%2Fm-Q4_K_M.gguf&try=1',
    );
  });

  test('local files never get try mode (try links name a remote source)', () => {
    expect(candidateHref({ kind: 'local', id: 'abc' }, urlResult, small, { tryMode: true })).toBe('/model?local=abc&file=sub%2Fm-Q4_K_M.gguf');
  });
});

describe("a sibling's first guess uses the search results' weight-type rule", () => {
  test('same main weight type as mainWeightType for every label shape', () => {
    for (const label of ['Q4_K_M', 'q4_k_m', 'Q4_K_S', 'Q8_0', 'IQ2_M', 'IQ2_XS', 'IQ3_XXS', 'IQ4_NL', 'MXFP4_MOE', 'F16', 'BF16']) {
      const type = mainWeightType(label);
      expect(type, label).toBeDefined();
      expect(confidenceFromName('llama', candidate('x.gguf', label)), label).toBe(matrixCell('llama', 'gguf', type!, 'webgpu').confidence);
    }
  });
  test('no label, or not a model: no guess; an unknown label: no guess', () => {
    expect(mainWeightType('NOTAQUANT')).toBeUndefined();
    expect(confidenceFromName('llama', candidate('x.gguf', 'NOTAQUANT'))).toBeUndefined();
    expect(confidenceFromName('llama', candidate('x.gguf'))).toBeUndefined();
    expect(confidenceFromName('llama', candidate('x.gguf', 'F16', 'projector'))).toBeUndefined();
  });
  test('the cases the page has always shown', () => {
    expect(confidenceFromName('llama', candidate('x.gguf', 'Q4_K_M'))).toBe(matrixCell('llama', 'gguf', 'Q4_K', 'webgpu').confidence);
    expect(confidenceFromName('llama', candidate('x.gguf', 'IQ2_M'))).toBe(matrixCell('llama', 'gguf', 'IQ2_S', 'webgpu').confidence);
    expect(confidenceFromName('bert', candidate('x.gguf', 'Q8_0'))).toBe('unsupported');
  });
});
