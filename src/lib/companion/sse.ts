/**
 * Server-sent events read from a fetch() body. The app reads job streams with fetch rather than EventSource because
 * EventSource cannot send the Authorization header the companion requires, and cannot be cancelled by an AbortSignal.
 * The grammar (CRLF / LF / CR line ends, `data:` lines joined with "\n", a blank line dispatches, `:` comments, an
 * event cut off by the end of the stream dropped) is eventsource-parser's, a well-kept implementation of the WHATWG
 * event-stream parser; what this file adds is the bound on what one event may buffer, because the same reader runs
 * on streams we do not control: a companion's, a rbee worker's behind the proxy, a hive's heartbeats.
 */
import { createParser } from 'eventsource-parser';
import { RbeeError } from '../errors.ts';

export const SSE_LIMITS = {
  /**
   * Characters one event may hold before its closing blank line, its unfinished last line included (so this bounds
   * a line too: a line is part of its event). The largest events here are a job's final `done` with the whole reply
   * (32,768 tokens of a few characters each ≈ 200k) and a hive heartbeat listing its workers (a few KB); 4 Mi is
   * twenty times that. An upstream that never ends an event stops here instead of growing without bound.
   */
  eventChars: 4 * 1024 * 1024,
} as const;

export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
}

export interface ReadServerSentEventsOptions {
  /** Who sends the stream, for the error message ('the native worker at http://127.0.0.1:7855'). */
  source?: string;
  /** Default SSE_LIMITS.eventChars. */
  maxEventChars?: number;
}

/**
 * The events of `body`, as they arrive. Throws RbeeError 'limit-exceeded' when one event grows past the limit; the
 * body is cancelled whenever the reading stops (the end, a break, a throw, an abort).
 */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>, options: ReadServerSentEventsOptions = {}): AsyncGenerator<ServerSentEvent> {
  const limit = options.maxEventChars ?? SSE_LIMITS.eventChars;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const ready: ServerSentEvent[] = [];
  let overflowed = false;
  // The last event ID persists across events until the stream sets another (as EventSource's lastEventId does).
  let lastId: string | undefined;
  const parser = createParser({
    maxBufferSize: limit,
    onId: (id) => {
      lastId = id;
    },
    onEvent: (m) => ready.push({ event: m.event ?? 'message', data: m.data, ...(lastId !== undefined ? { id: lastId } : {}) }),
    onError: (e) => {
      if (e.type === 'max-buffer-size-exceeded') overflowed = true;
    },
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      // At the end, an event without its closing blank line is incomplete and, per the spec, dropped.
      parser.feed(done ? decoder.decode() : decoder.decode(value, { stream: true }));
      while (ready.length > 0) yield ready.shift()!;
      if (overflowed) {
        throw new RbeeError(
          'limit-exceeded',
          `${options.source ?? 'The event stream'} sent an event longer than ${limit} characters without ending it; the stream was closed.`,
          { hint: 'The server is not speaking the rbee event protocol (or is broken): restart it, or check that the address is a rbee worker or companion.' },
        );
      }
      if (done) return;
    }
  } finally {
    // Leaving early (break, throw, abort) cancels the body: for a job stream that tells the worker to stop.
    await reader.cancel().catch(() => {});
  }
}
