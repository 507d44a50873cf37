/**
 * SHA-256 for the download cache. A cached model is gigabytes in chunks, and the hub's hash is of the whole file, so
 * the file is hashed incrementally, chunk by chunk, never as one buffer. WebCrypto's digest() only takes a whole
 * message, so the incremental hash is hash-wasm's (a maintained WebAssembly SHA-256, 2–3× the hand-written JS one
 * this replaced in Chromium here: bench/cache-browser.ts). Single chunks use WebCrypto where it exists (native, and
 * off the page's thread in Chromium), hash-wasm elsewhere (pages over plain http have no crypto.subtle).
 */
import { createSHA256, type IHasher } from 'hash-wasm';

/** An incremental SHA-256: feed the file in order, then read the hex digest once. */
export class Sha256 {
  private finished: string | undefined;
  private constructor(private readonly hasher: IHasher) {}

  /** hash-wasm compiles its module on first use (once per page); every later hasher is ready at once. */
  static async create(): Promise<Sha256> {
    const hasher = await createSHA256();
    hasher.init();
    return new Sha256(hasher);
  }

  update(bytes: Uint8Array): this {
    if (this.finished !== undefined) throw new Error('Sha256: update after digest');
    this.hasher.update(bytes);
    return this;
  }

  hex(): string {
    this.finished ??= this.hasher.digest('hex');
    return this.finished;
  }
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** SHA-256 of one chunk, hex: WebCrypto where present (native speed), else hash-wasm. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle) return toHex(new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
  return (await Sha256.create()).update(bytes).hex();
}

