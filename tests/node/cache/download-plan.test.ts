import { describe, expect, test } from 'vitest';
import type { Verdict } from '../../../src/lib/compat/verdict.ts';
import type { InspectResult } from '../../../src/lib/model/inspect.ts';
import { downloadPlan } from '../../../src/lib/ui/downloads/download-plan.ts';
import { formatEta, formatRate } from '../../../src/lib/ui/downloads/download-figures.ts';

const verdict = { runs: true, confidence: 'expected', engine: 'webgpu', reasons: ['It runs.'] } as unknown as Verdict;
const OID = 'a'.repeat(64);

describe('what "Download to this device" fetches', () => {
  test('a repository candidate: every part, hub URLs, the hub SHA-256, ids per hub / repo / revision / path', () => {
    const result = {
      input: 'o/r',
      descriptor: { format: 'gguf', architecture: 'llama', fileType: 'Q4_K_M', name: 'r', files: [] },
      candidates: [{ id: 'm-00001-of-00002.gguf', format: 'gguf', label: 'Q4_K_M', primary: 'm-00001-of-00002.gguf', files: ['m-00001-of-00002.gguf', 'm-00002-of-00002.gguf'], size: 30, role: 'model' }],
      chosen: 0,
      hf: { repo: 'o/r', revision: 'main', url: 'http://hub/o/r', files: [{ path: 'm-00001-of-00002.gguf', size: 10, lfs: { oid: OID, size: 10 } }, { path: 'm-00002-of-00002.gguf', size: 20 }] },
    } as unknown as InspectResult;
    const plan = downloadPlan({ kind: 'remote', source: 'o/r' }, result, verdict, 'http://hub/');
    expect(plan.id).toBe('hf:http://hub/o/r@main/m-00001-of-00002.gguf');
    expect(plan.origin).toEqual({ kind: 'hf', hubBase: 'http://hub/', repo: 'o/r', revision: 'main' });
    expect(plan.files).toEqual([
      { path: 'm-00001-of-00002.gguf', fileId: 'hf:http://hub/o/r@main/m-00001-of-00002.gguf', url: 'http://hub/o/r/resolve/main/m-00001-of-00002.gguf', size: 10, sha256: OID },
      { path: 'm-00002-of-00002.gguf', fileId: 'hf:http://hub/o/r@main/m-00002-of-00002.gguf', url: 'http://hub/o/r/resolve/main/m-00002-of-00002.gguf', size: 20 },
    ]);
    expect(plan.verdict).toEqual({ runs: true, confidence: 'expected', engine: 'webgpu', summary: 'It runs.' });
    expect(plan.quantization).toBe('Q4_K_M');
  });

  test('a plain URL: the files the header named, keyed by URL; local files are refused with a reason', () => {
    const result = {
      input: 'http://x/m.gguf',
      descriptor: { format: 'gguf', architecture: 'llama', name: 'm', files: [{ location: 'http://x/dir/m%20a.gguf', size: 5 }] },
      candidates: [],
      chosen: -1,
    } as unknown as InspectResult;
    const plan = downloadPlan({ kind: 'remote', source: 'http://x/dir/m%20a.gguf' }, result, verdict, 'https://huggingface.co');
    expect(plan.origin).toEqual({ kind: 'url' });
    expect(plan.files).toEqual([{ path: 'm a.gguf', fileId: 'http://x/dir/m%20a.gguf', url: 'http://x/dir/m%20a.gguf', size: 5 }]);
    expect(() => downloadPlan({ kind: 'local', id: '1' }, result, verdict, 'https://huggingface.co')).toThrow(/already on this device/);
  });

  test('rate and time left read as people say them', () => {
    expect(formatRate(0)).toBe('—');
    expect(formatRate(3 * 1024 * 1024)).toBe('3 MiB/s');
    expect(formatEta(undefined)).toBe('time left unknown');
    expect(formatEta(42.2)).toBe('43 s left');
    expect(formatEta(600)).toBe('about 10 min left');
    expect(formatEta(3 * 3600 + 600)).toBe('about 3 h 10 min left');
  });
});
