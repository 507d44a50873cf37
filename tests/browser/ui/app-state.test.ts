// The app's small state modules, in a real browser (real localStorage / sessionStorage, real URL parsing).
import { afterEach, expect, test } from 'vitest';
import type { ModelCandidate } from '../../../src/lib/model/model-candidates.ts';
import { matrixCell } from '../../../src/lib/compat/matrix.ts';
import { runsLabel } from '../../../src/lib/compat/confidence-meaning.ts';
import { modelRefFromUrl } from '../../../src/lib/model/model-ref.ts';
import { confidenceFromName } from '../../../src/lib/ui/open-model.ts';
import { openedFiles, rememberOpenedFiles } from '../../../src/lib/model/opened-files.ts';
import { formatBytes, formatParameterCount } from '../../../src/lib/quantities.ts';
import {
  adoptHubFromUrl,
  DEFAULT_HUB_BASE,
  hubBase,
  normaliseHubBase,
  saveHubBase,
} from '../../../src/lib/ui/settings.ts';

afterEach(() => {
  localStorage.clear();
  sessionStorage.clear();
});

test('hub base: default, saved setting, and a ?hub= override for this tab only', () => {
  expect(hubBase()).toBe(DEFAULT_HUB_BASE);
  expect(saveHubBase('https://hf-mirror.example/')).toBe(true);
  expect(hubBase()).toBe('https://hf-mirror.example');
  adoptHubFromUrl(new URL('http://app/?hub=http%3A%2F%2F127.0.0.1%3A9%2F'));
  expect(hubBase()).toBe('http://127.0.0.1:9');
  expect(localStorage.getItem('rbee-web:hub-base')).toBe('https://hf-mirror.example');
  expect(saveHubBase('')).toBe(true);
  expect(hubBase()).toBe(DEFAULT_HUB_BASE);
});

test('hub base accepts only absolute http(s) URLs', () => {
  expect(normaliseHubBase('javascript:alert(1)')).toBeUndefined();
  expect(normaliseHubBase('huggingface.co')).toBeUndefined();
  expect(saveHubBase('ftp://x')).toBe(false);
  adoptHubFromUrl(new URL('http://app/?hub=javascript%3Aalert(1)'));
  expect(hubBase()).toBe(DEFAULT_HUB_BASE);
});

test('model page URLs name a remote source or local files, with an optional file', () => {
  expect(modelRefFromUrl(new URL('http://app/model?model=owner%2Frepo&file=a%2Fb.gguf'))).toEqual({
    kind: 'remote',
    source: 'owner/repo',
    file: 'a/b.gguf',
  });
  expect(modelRefFromUrl(new URL('http://app/model?local=abc'))).toEqual({ kind: 'local', id: 'abc' });
  expect(modelRefFromUrl(new URL('http://app/model?model=%20%20'))).toBeUndefined();
});

test('opened files are kept by id for this page only', () => {
  const file = new File([new Uint8Array([1, 2, 3])], 'm.gguf');
  const id = rememberOpenedFiles([file]);
  expect(openedFiles(id)).toEqual([file]);
  expect(openedFiles('nope')).toBeUndefined();
});

test('a sibling file is first judged by its quantization label, as the matrix says', () => {
  const candidate = (quantization: string | undefined, role: ModelCandidate['role'] = 'model'): ModelCandidate => ({
    id: 'x',
    format: 'gguf',
    label: quantization ?? 'x',
    primary: 'x.gguf',
    files: ['x.gguf'],
    size: 1,
    role,
    ...(quantization ? { quantization } : {}),
  });
  expect(confidenceFromName('llama', candidate('Q4_K_M'))).toBe(matrixCell('llama', 'gguf', 'Q4_K', 'webgpu').confidence);
  expect(confidenceFromName('llama', candidate('IQ2_M'))).toBe(matrixCell('llama', 'gguf', 'IQ2_S', 'webgpu').confidence);
  expect(confidenceFromName('llama', candidate('IQ2_XS'))).toBe('planned');
  expect(confidenceFromName('bert', candidate('Q8_0'))).toBe('unsupported');
  expect(confidenceFromName('llama', candidate(undefined))).toBeUndefined();
  expect(confidenceFromName('llama', candidate('F16', 'projector'))).toBeUndefined();
});

test('sizes and parameter counts read the way people write them', () => {
  expect(formatBytes(1185376)).toBe('1.1 MiB');
  expect(formatBytes(512)).toBe('512 B');
  expect(formatBytes(4.37 * 1024 ** 3)).toBe('4.4 GiB');
  // One rule for every size the app writes (pages, verdict reasons, CLI, downloader errors).
  expect(formatBytes(16 * 1024 ** 2)).toBe('16 MiB');
  expect(formatBytes(2 * 1024 ** 3 - 4)).toBe('2 GiB');
  expect(formatBytes(114.3 * 1024 ** 2)).toBe('114 MiB');
  expect(formatBytes(1024 ** 2 - 10)).toBe('1 MiB');
  expect(formatBytes(undefined)).toBe('—');
  expect(formatParameterCount(292_800)).toBe('293K');
  expect(formatParameterCount(1_100_048_384)).toBe('1.1B');
  expect(formatParameterCount(6_738_415_616)).toBe('6.74B');
});

test('a verdict is worded no stronger than its confidence', () => {
  const memory = (fits: boolean) => ({ fits }) as Parameters<typeof runsLabel>[0]['memory'];
  expect(runsLabel({ runs: true, confidence: 'verified', memory: memory(true) })).toBe('runs');
  expect(runsLabel({ runs: true, confidence: 'expected', memory: memory(true) })).toBe('should run');
  expect(runsLabel({ runs: false, confidence: 'planned', memory: memory(true) })).toBe('does not run');
  expect(runsLabel({ runs: false, confidence: 'expected', memory: memory(false) })).toBe('does not run (too large)');
});
