import { describe, expect, test } from 'vitest';
import { RbeeError } from '../../src/lib/errors.ts';
import { parseGenerateArgs } from '../../src/cli/generate.ts';

describe('rbee-web generate arguments', () => {
  test('token prompt, greedy, top logprobs, stop ids', () => {
    const a = parseGenerateArgs(['--model', 'm.gguf', '--tokens', '1,403, 407', '--max-tokens', '16', '--temperature', '0', '--top-logprobs', '5', '--stop', '2', '--json']);
    expect(a.prompt).toEqual({ tokens: [1, 403, 407] });
    expect(a.maxTokens).toBe(16);
    expect(a.sampling.temperature).toBe(0);
    expect(a.topLogprobs).toBe(5);
    expect(a.stop).toEqual([2]);
    expect(a.json).toBe(true);
  });

  test('--chat sends the prompt as a user message through the chat template; --system adds a system message', () => {
    expect(parseGenerateArgs(['--model', 'm', '--prompt', 'Hi']).prompt).toEqual({ text: 'Hi' });
    expect(parseGenerateArgs(['--model', 'm', '--prompt', 'Hi', '--chat']).prompt).toEqual({ messages: [{ role: 'user', content: 'Hi' }] });
    expect(parseGenerateArgs(['--model', 'm', '--prompt', 'Hi', '--chat', '--system', 'Be brief.']).prompt).toEqual({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(() => parseGenerateArgs(['--model', 'm', '--tokens', '1', '--chat'])).toThrow(/--chat and --system apply to --prompt/);
  });

  test('llama.cpp sampling defaults; --flag=value form; every sampler option', () => {
    const d = parseGenerateArgs(['--model=m.gguf', '--prompt=Once upon']);
    expect(d.prompt).toEqual({ text: 'Once upon' });
    expect(d.sampling).toMatchObject({ temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1 });
    const s = parseGenerateArgs(['--model', 'm', '--tokens', '1', '--seed', '7', '--top-k', '3', '--top-p', '0.5', '--min-p', '0.1', '--repeat-penalty', '1.1', '--repeat-last-n', '32', '--no-stop', '--context', '256']);
    expect(s.sampling).toMatchObject({ seed: 7, topK: 3, topP: 0.5, minP: 0.1, repeatPenalty: 1.1, repeatLastN: 32 });
    expect(s.stop).toEqual([]);
    expect(s.contextLength).toBe(256);
  });

  test.each([
    [['--tokens', '1']], // no model
    [['--model', 'm']], // no prompt
    [['--model', 'm', '--tokens', '1', '--prompt', 'x']], // both
    [['--model', 'm', '--tokens', '1,x']],
    [['--model', 'm', '--tokens', '1', '--max-tokens', '0']],
    [['--model', 'm', '--tokens', '1', '--temperature', '-1']],
    [['--model', 'm', '--tokens', '1', '--top-p', '2']],
    [['--model', 'm', '--tokens', '1', '--bogus']],
  ])('rejects %j with an RbeeError', (argv) => {
    expect(() => parseGenerateArgs(argv)).toThrow(RbeeError);
  });

  test("Node's parser reads the options: an unknown or value-less option is named, with where the options are listed", () => {
    const error = (argv: string[]) => {
      try {
        parseGenerateArgs(argv);
      } catch (e) {
        return e as RbeeError;
      }
      throw new Error('no error');
    };
    expect(error(['--model', 'm', '--tokens', '1', '--bogus'])).toMatchObject({ code: 'bad-value', message: expect.stringContaining("'--bogus'"), hint: 'rbee-web generate --help lists the options.' });
    expect(error(['--model', 'm', '--tokens'])).toMatchObject({ code: 'bad-value', message: expect.stringContaining('--tokens') });
    expect(error(['--model', 'm', '--tokens', '1', '--threads', '0']).message).toBe('--threads must be at least 1, not 0.');
  });
});
