/**
 * Teacher-forced scoring's rules without a GPU: how a sequence is cut into windows, what is scored, the perplexity
 * and top-1 from given logits, abort between chunks — against a model whose logits are a known function of the
 * input (the real engine's agreement with llama.cpp is tests/parity/score-parity.test.ts), and the CLI's
 * refusals of bad input before Chromium starts.
 */
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { MAX_TEXT_BYTES, parseScoreArgs, readScoreText } from '../../../src/cli/score.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { scoreTokens, scoreWindows, type ScoringModel } from '../../../src/lib/engine/scoring.ts';

const BOS = 1;

describe('scoreWindows', () => {
  test('a BOS sequence: every window starts with BOS and every text token is in exactly one window', () => {
    const tokens = [BOS, ...Array.from({ length: 10 }, (_, i) => 100 + i)];
    const windows = scoreWindows(tokens, 4, BOS);
    expect(windows).toEqual([
      [BOS, 100, 101, 102],
      [BOS, 103, 104, 105],
      [BOS, 106, 107, 108],
      [BOS, 109],
    ]);
  });
  test('one window when the sequence fits', () => {
    expect(scoreWindows([BOS, 5, 6], 8, BOS)).toEqual([[BOS, 5, 6]]);
  });
  test('without BOS: plain slices, and a one-token tail is dropped (nothing to predict)', () => {
    expect(scoreWindows([5, 6, 7, 8, 9], 2)).toEqual([
      [5, 6],
      [7, 8],
    ]);
  });
  test('a window shorter than 2 tokens is refused', () => {
    expect(() => scoreWindows([BOS, 5], 1, BOS)).toThrow(/at least 2/);
  });
});

/** Logits that make token (input + 1) mod V likely, with a fixed, computable spread. */
function countingModel(vocab: number, chunk: number): ScoringModel & { calls: number[][]; resets: number } {
  const m = {
    allPositionsChunk: chunk,
    calls: [] as number[][],
    resets: 0,
    async prefillAllPositions(tokens: number[]) {
      m.calls.push(tokens);
      const out = new Float32Array(tokens.length * vocab);
      tokens.forEach((t, i) => (out[i * vocab + ((t + 1) % vocab)] = 2));
      return out;
    },
    reset() {
      m.resets++;
    },
  };
  return m;
}

describe('scoreTokens', () => {
  test('log-probabilities, top-1 and perplexity from the logits, in chunks, each window from an empty cache', async () => {
    const V = 8;
    const model = countingModel(V, 3);
    // 1 → 2 is the likely continuation, 2 → 5 is not.
    const r = await scoreTokens(model, { tokens: [BOS, 2, 5, 6, 7, 0], window: 4, bos: BOS });
    const likely = 2 - Math.log(Math.exp(2) + V - 1);
    const unlikely = 0 - Math.log(Math.exp(2) + V - 1);
    // Windows [1,2,5,6] and [1,7,0]: inputs [1,2,5] and [1,7].
    expect(model.calls).toEqual([
      [BOS, 2, 5],
      [BOS, 7],
    ]);
    expect(r.windows).toBe(2);
    expect(r.positions).toBe(5);
    expect(r.top1).toEqual([2, 3, 6, 2, 0]);
    const expected = [likely, unlikely, likely, unlikely, likely];
    r.logprobs.forEach((lp, i) => expect(lp).toBeCloseTo(expected[i]!, 6));
    expect(r.perplexity).toBeCloseTo(Math.exp(-expected.reduce((a, b) => a + b) / 5), 6);
    expect(model.resets).toBe(3); // before each window, and after (the next generate starts clean)
  });
  test('chunks never exceed allPositionsChunk', async () => {
    const model = countingModel(16, 2);
    await scoreTokens(model, { tokens: [BOS, 3, 4, 5, 6, 7, 8], window: 100, bos: BOS });
    expect(model.calls.map((c) => c.length)).toEqual([2, 2, 2]);
  });
  test('abort between chunks ends with RbeeError aborted', async () => {
    const model = countingModel(16, 1);
    let n = 0;
    await expect(scoreTokens(model, { tokens: [BOS, 3, 4, 5], window: 10, bos: BOS, aborted: () => ++n > 1 })).rejects.toMatchObject({ code: 'aborted' });
    expect(model.calls).toHaveLength(1);
  });
  test('a text of one token has nothing to score: bad-value', async () => {
    await expect(scoreTokens(countingModel(8, 4), { tokens: [BOS], window: 8, bos: BOS })).rejects.toMatchObject({ code: 'bad-value' });
  });
});

describe('rbee-web score input', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return isRbeeError(e) ? e.code : `not an RbeeError: ${String(e)}`;
    }
    return undefined;
  };
  test('arguments', () => {
    expect(parseScoreArgs(['--model', 'm.gguf', '--text-file', 't.txt', '--window', '64', '--json'])).toMatchObject({ model: 'm.gguf', textFile: 't.txt', window: 64, json: true });
    expect(code(() => parseScoreArgs(['--text-file', 't.txt']))).toBe('bad-value');
    expect(code(() => parseScoreArgs(['--model', 'm.gguf']))).toBe('bad-value');
    expect(code(() => parseScoreArgs(['--model', 'm.gguf', '--text-file', 't', '--window', '1']))).toBe('bad-value');
    expect(code(() => parseScoreArgs(['--model', 'm.gguf', '--text-file', 't', '--engine', 'wasm']))).toBe('bad-value');
  });
  test('text files: missing, empty, not UTF-8, too large are refused with a code; UTF-8 text is read', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rbee-score-args-'));
    const ok = join(dir, 'ok.txt');
    const empty = join(dir, 'empty.txt');
    const binary = join(dir, 'model.bin');
    await writeFile(ok, 'Once upon a time — ünïcode.');
    await writeFile(empty, '  \n');
    await writeFile(binary, new Uint8Array([0x47, 0x47, 0x55, 0x46, 0xff, 0xfe, 0x80]));
    expect(readScoreText(ok)).toBe('Once upon a time — ünïcode.');
    expect(code(() => readScoreText(join(dir!, 'missing.txt')))).toBe('not-found');
    expect(code(() => readScoreText(empty))).toBe('bad-value');
    expect(code(() => readScoreText(binary))).toBe('bad-value');
    // Past the limit: refused from its size alone (a sparse file: nothing is read).
    const huge = join(dir, 'huge.txt');
    const handle = await open(huge, 'w');
    await handle.truncate(MAX_TEXT_BYTES + 1);
    await handle.close();
    expect(code(() => readScoreText(huge))).toBe('limit-exceeded');
  });
});
