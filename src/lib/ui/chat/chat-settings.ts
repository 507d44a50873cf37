/**
 * The chat's generation settings as the composer edits them (max tokens, temperature, and the "Sampling" section:
 * top-k, top-p, min-p, repeat penalty, seed), checked in the form before Send: each field that is out of range gets
 * its own message, by the same rules the engine enforces (validateSamplingSettings), so a bad value never reaches the
 * worker and never leaves a message with an empty reply in the transcript.
 */
import { LLAMA_CPP_SAMPLING_DEFAULTS, validateSamplingSettings, type SamplingSettings } from '../../engine/sampling.ts';

/** A number field's value: a number, or null / undefined when the field is empty or not a number. */
type Field = number | null | undefined;

export interface ChatSettings {
  maxTokens: Field;
  temperature: Field;
  topK: Field;
  topP: Field;
  minP: Field;
  repeatPenalty: Field;
  /** Empty: a fresh random seed each reply. */
  seed: Field;
}

/** llama.cpp's defaults, which the CLI's `generate` uses too (repeat penalty 1 = off); no seed: random. */
export const DEFAULT_CHAT_SETTINGS: Readonly<{ [K in keyof ChatSettings]: number | null }> = {
  maxTokens: 128,
  ...LLAMA_CPP_SAMPLING_DEFAULTS,
  seed: null,
};

/** The composer's max tokens field allows this much; the conversation window also keeps it under half the context. */
export const MAX_REPLY_TOKENS = 4096;

export type SettingProblems = Partial<Record<keyof ChatSettings, string>>;

const SAMPLING_FIELDS = ['temperature', 'topK', 'topP', 'minP', 'repeatPenalty', 'seed'] as const;

/** Each field that cannot be used, with why in words for the form; empty when every field is good. */
export function settingProblems(s: ChatSettings): SettingProblems {
  const problems: SettingProblems = {};
  if (!isNumber(s.maxTokens)) problems.maxTokens = 'Max tokens needs a whole number.';
  else if (!Number.isInteger(s.maxTokens) || s.maxTokens < 1 || s.maxTokens > MAX_REPLY_TOKENS)
    problems.maxTokens = `Max tokens must be a whole number from 1 to ${MAX_REPLY_TOKENS}, not ${s.maxTokens}.`;
  for (const field of SAMPLING_FIELDS) {
    const value = s[field];
    if (field === 'seed' && (value === null || value === undefined)) continue;
    if (!isNumber(value)) {
      problems[field] = `${LABELS[field]} needs a number.`;
      continue;
    }
    try {
      validateSamplingSettings(field === 'temperature' ? { temperature: value } : { temperature: 0, [field]: value });
    } catch (e) {
      // "Sampling setting top-p must be in (0, 1], not 2." → "Top-p must be in (0, 1], not 2."
      problems[field] = `${LABELS[field]} ${(e as Error).message.replace(/^Sampling setting \S+ /, '')}`;
    }
  }
  return problems;
}

/** The settings as the engine takes them (call only when settingProblems is empty). */
export function samplingOf(s: ChatSettings): SamplingSettings {
  return {
    temperature: s.temperature as number,
    topK: s.topK as number,
    topP: s.topP as number,
    minP: s.minP as number,
    repeatPenalty: s.repeatPenalty as number,
    ...(isNumber(s.seed) ? { seed: s.seed } : {}),
  };
}

const LABELS: Record<(typeof SAMPLING_FIELDS)[number], string> = {
  temperature: 'Temperature',
  topK: 'Top-k',
  topP: 'Top-p',
  minP: 'Min-p',
  repeatPenalty: 'Repeat penalty',
  seed: 'Seed',
};

const isNumber = (v: Field): v is number => typeof v === 'number' && Number.isFinite(v);
