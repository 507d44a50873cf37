/**
 * The download cache's whole-file SHA-256, off the page's thread: the page posts a file's bytes in order, a chunk at
 * a time, and asks for the digest at the end. Hashing a 32 MiB chunk takes 100–300 ms (hash-wasm); on the page's
 * thread that time is taken from reading the network stream and storing chunks, here it runs beside them.
 *
 * Messages in: { bytes: Uint8Array } (hash these next) · { digest: true } (finish). Out: { ready: true } once
 * hash-wasm is loaded · { accepted: number } after each chunk (the page keeps at most a few chunks queued here) ·
 * { hex: string } · { error: string }.
 */
// hash-wasm directly (not ../lib/cache/sha256.ts, which starts this worker): a worker must not bundle itself.
import { createSHA256 } from 'hash-wasm';

const hasher = createSHA256().then((h) => {
  h.init();
  return h;
});
let accepted = 0;
hasher.then(
  () => self.postMessage({ ready: true }),
  (e: unknown) => self.postMessage({ error: e instanceof Error ? e.message : String(e) }),
);

self.onmessage = async (event: MessageEvent<{ bytes?: Uint8Array; digest?: boolean }>) => {
  try {
    const h = await hasher;
    if (event.data.bytes) {
      h.update(event.data.bytes);
      self.postMessage({ accepted: ++accepted });
    } else if (event.data.digest) {
      self.postMessage({ hex: h.digest('hex') });
    }
  } catch (e) {
    self.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
};
