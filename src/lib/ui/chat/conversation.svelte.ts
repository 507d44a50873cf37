/**
 * One conversation in a chat view: its messages, the draft, the sampling settings the composer edits, and the reply
 * being generated (Stop aborts it). Engines differ only in how a reply is generated, which the view hands to
 * `reply`; streaming, figures, stopping and errors behave the same on WebGPU, the native worker, web-llm and
 * transformers.js.
 */
import { RbeeError, toRbeeError } from '../../errors.ts';
import type { SamplingSettings } from '../../engine/sampling.ts';
import { DEFAULT_CHAT_SETTINGS, samplingOf, settingProblems, type ChatSettings, type SettingProblems } from './chat-settings.ts';
import { fitConversation, windowNote, type WindowRequest } from '../../runtime/conversation-window.ts';
import type { ChatMessage } from '../../tokenizer/types.ts';
import type { ReplyFigures, TranscriptMessage } from './transcript.ts';

/**
 * Generates one reply to `history`, passing its text to `onText` as it comes (and, where the engine reports it, how
 * much of the prompt it has read to `onReading`); resolves with its figures.
 */
export type ReplyRun = (
  history: ChatMessage[],
  onText: (text: string) => void,
  signal: AbortSignal,
  onReading: (done: number, total: number) => void,
) => Promise<ReplyFigures>;

export class Conversation {
  messages: TranscriptMessage[] = $state([]);
  draft = $state('');
  generating = $state(false);
  /** Why the last reply failed (cleared when the next one starts). */
  error: RbeeError | undefined = $state(undefined);
  // The composer's settings (chat-settings.ts checks them before Send); number fields are null while empty.
  temperature: number | null = $state(DEFAULT_CHAT_SETTINGS.temperature);
  maxTokens: number | null = $state(DEFAULT_CHAT_SETTINGS.maxTokens);
  topK: number | null = $state(DEFAULT_CHAT_SETTINGS.topK);
  topP: number | null = $state(DEFAULT_CHAT_SETTINGS.topP);
  minP: number | null = $state(DEFAULT_CHAT_SETTINGS.minP);
  repeatPenalty: number | null = $state(DEFAULT_CHAT_SETTINGS.repeatPenalty);
  seed: number | null = $state(DEFAULT_CHAT_SETTINGS.seed);
  /**
   * Said when the last reply's prompt left the oldest messages out to fit the model's context (the transcript still
   * shows them all).
   */
  contextNote: string | undefined = $state(undefined);
  /** While the engine reads the prompt (before the reply's first text): tokens read of those it evaluates. */
  reading: { done: number; total: number } | undefined = $state(undefined);
  /** Stop was pressed and the engine has not stopped yet. */
  stopping = $state(false);
  #stopper: AbortController | undefined;

  /** The settings as the composer shows them. */
  get settings(): ChatSettings {
    const { maxTokens, temperature, topK, topP, minP, repeatPenalty, seed } = this;
    return { maxTokens, temperature, topK, topP, minP, repeatPenalty, seed };
  }

  /** What is wrong with the settings (empty: Send may go). */
  get problems(): SettingProblems {
    return settingProblems(this.settings);
  }

  /** The reply's length and sampling, once the settings are good; throws the first problem otherwise. */
  generation(): { maxTokens: number; sampling: SamplingSettings } {
    const problem = Object.values(this.problems)[0];
    if (problem) throw new RbeeError('bad-value', problem, { hint: 'Correct the setting under the message box.' });
    return { maxTokens: this.maxTokens as number, sampling: samplingOf(this.settings) };
  }

  /**
   * Moves the draft into the conversation as the user's next message. False (nothing changed) while a reply runs, or
   * when the draft is blank and `blankSends` is not set.
   */
  takeDraft(blankSends = false): boolean {
    const text = this.draft.trim();
    if (this.generating || (!text && !blankSends) || Object.keys(this.problems).length > 0) return false;
    this.draft = '';
    this.messages.push({ role: 'user', content: text });
    return true;
  }

  /**
   * Generates the assistant's reply to the conversation so far; resolves with the error it failed with, if any. With
   * `fit` the engine gets only the newest turns that fit its context (conversation-window.ts), and a newest message
   * too long for it fails here, before anything is sent or added to the transcript.
   */
  async reply(run: ReplyRun, fit?: WindowRequest): Promise<RbeeError | undefined> {
    this.error = undefined;
    let history: ChatMessage[] = this.messages.map((m) => ({ role: m.role, content: m.content }));
    // Busy from here: the composer must not send while the conversation is being fitted.
    this.generating = true;
    if (fit) {
      try {
        const window = await fitConversation(history, fit);
        history = window.messages;
        this.contextNote = windowNote(window, fit.contextLength);
      } catch (e) {
        this.error = toRbeeError(e);
        this.generating = false;
        return this.error;
      }
    } else this.contextNote = undefined;
    this.messages.push({ role: 'assistant', content: '' });
    // The pushed message as the state proxy, so the streamed text shows as it arrives.
    const reply = this.messages[this.messages.length - 1]!;
    const stopper = (this.#stopper = new AbortController());
    try {
      reply.figures = await run(
        history,
        (text) => {
          this.reading = undefined;
          reply.content += text;
        },
        stopper.signal,
        (done, total) => (this.reading = { done, total }),
      );
      return undefined;
    } catch (e) {
      this.error = toRbeeError(e);
      // A reply that failed before its first word leaves no empty bubble behind.
      if (reply.content === '' && this.messages[this.messages.length - 1] === reply) this.messages.pop();
      return this.error;
    } finally {
      this.generating = false;
      this.reading = undefined;
      this.stopping = false;
      this.#stopper = undefined;
    }
  }

  /** Ends the reply being generated (its engine stops within a token or a prompt slice and reports it stopped). */
  stop(): void {
    if (!this.#stopper) return;
    this.stopping = true;
    this.#stopper.abort();
  }

  /** Removes a broken-off reply so that it can be generated again. */
  dropLastReply(): void {
    if (this.messages[this.messages.length - 1]?.role === 'assistant') this.messages.pop();
  }

  /** A fresh conversation (a new model was loaded, or "New chat"); the settings stay. */
  clear(): void {
    this.stop();
    this.messages = [];
    this.error = undefined;
    this.contextNote = undefined;
  }
}
