/**
 * Server-sent events read from a fetch() body. The app reads job streams with fetch rather than EventSource because
 * EventSource cannot send the Authorization header the companion requires, and cannot be cancelled by an AbortSignal.
 * Follows the WHATWG event-stream grammar: lines end with CRLF, LF or CR; `data:` lines join with "\n"; a blank line
 * dispatches; lines starting with ":" are comments.
 */
export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
}

export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let lineEnd: number;
      while ((lineEnd = buffer.search(/\r\n|\r|\n/)) >= 0) {
        // A lone CR at the very end may be the first half of CRLF: wait for the next chunk.
        if (buffer[lineEnd] === '\r' && lineEnd === buffer.length - 1 && !done) break;
        const line = buffer.slice(0, lineEnd);
        buffer = buffer.slice(lineEnd + (buffer.startsWith('\r\n', lineEnd) ? 2 : 1));
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), id };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') data.push(value);
        else if (field === 'event') event = value;
        else if (field === 'id') id = value;
      }
      if (done) return; // an event without its closing blank line is incomplete and, per the spec, dropped
    }
  } finally {
    // Leaving early (break, throw, abort) cancels the body: for a job stream that tells the worker to stop.
    await reader.cancel().catch(() => {});
  }
}
