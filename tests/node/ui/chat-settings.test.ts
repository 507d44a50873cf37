// The chat form's settings (issue 17, bug 5): each bad value is caught in the form with its own message, by the
// engine's own rules, so Send never carries it to the worker; good values become the engine's sampling settings.
import { describe, expect, it } from 'vitest';
import { validateSamplingSettings } from '../../../src/lib/engine/sampling.ts';
import { DEFAULT_CHAT_SETTINGS, MAX_REPLY_TOKENS, samplingOf, settingProblems } from '../../../src/lib/ui/chat/chat-settings.ts';

describe('chat settings', () => {
  it('the defaults are good and become llama.cpp-style sampling the engine accepts', () => {
    expect(settingProblems(DEFAULT_CHAT_SETTINGS)).toEqual({});
    const sampling = samplingOf(DEFAULT_CHAT_SETTINGS);
    expect(sampling).toEqual({ temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1 });
    expect(() => validateSamplingSettings(sampling)).not.toThrow();
    expect(samplingOf({ ...DEFAULT_CHAT_SETTINGS, seed: 42 }).seed).toBe(42);
  });

  it('max tokens 0 and temperature −3 (what the issue sent) are each named, with the allowed range', () => {
    const p = settingProblems({ ...DEFAULT_CHAT_SETTINGS, maxTokens: 0, temperature: -3 });
    expect(Object.keys(p).sort()).toEqual(['maxTokens', 'temperature']);
    expect(p.maxTokens).toBe(`Max tokens must be a whole number from 1 to ${MAX_REPLY_TOKENS}, not 0.`);
    expect(p.temperature).toBe('Temperature must be a number ≥ 0, not -3.');
  });

  it('the sampling section: top-k, top-p, min-p, repeat penalty and seed, by the engine rules', () => {
    const p = settingProblems({ ...DEFAULT_CHAT_SETTINGS, topK: 2.5, topP: 0, minP: 1.5, repeatPenalty: 0, seed: -1 });
    expect(p).toEqual({
      topK: 'Top-k must be an integer ≥ 0, not 2.5.',
      topP: 'Top-p must be in (0, 1], not 0.',
      minP: 'Min-p must be in [0, 1], not 1.5.',
      repeatPenalty: 'Repeat penalty must be a number > 0, not 0.',
      seed: 'Seed must be an integer in [0, 2^32), not -1.',
    });
    // Edges that are allowed.
    expect(settingProblems({ ...DEFAULT_CHAT_SETTINGS, topK: 0, topP: 1, minP: 0, repeatPenalty: 1.3, seed: 0, temperature: 0, maxTokens: MAX_REPLY_TOKENS })).toEqual({});
    expect(settingProblems({ ...DEFAULT_CHAT_SETTINGS, maxTokens: MAX_REPLY_TOKENS + 1 }).maxTokens).toContain('not 4097');
  });

  it('an emptied field (the number input gives null) needs a number; an empty seed means random', () => {
    const p = settingProblems({ ...DEFAULT_CHAT_SETTINGS, maxTokens: null, temperature: null, topP: undefined, seed: null });
    expect(p).toEqual({ maxTokens: 'Max tokens needs a whole number.', temperature: 'Temperature needs a number.', topP: 'Top-p needs a number.' });
    expect(samplingOf({ ...DEFAULT_CHAT_SETTINGS, seed: null })).not.toHaveProperty('seed');
  });
});
