/**
 * GgufReader: a forward-only cursor over the start of a ByteSource that fetches the file in growing windows as the
 * parse needs them. The parser reads with synchronous typed getters after `ensure(n)` has made n bytes available, so
 * the hot loops (hundreds of thousands of vocabulary strings) never await; only running out of bytes does.
 *
 * How much to fetch: the first window is `initialRead` bytes. When the parse runs out, the reader fetches at least
 * what the parse is known to need (its lower bound: an array of N more strings needs ≥ 8N bytes) and as much as the
 * parser's estimate of the rest of the header (see gguf.ts), with a floor that doubles on every refill so even a
 * bad estimate costs only logarithmically many requests. Bytes already parsed are dropped, so memory holds the
 * unparsed window only.
 */
import { RbeeError } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';

/** Default first window: enough for the whole header of most models with vocabularies up to ~60k tokens. */
export const GGUF_INITIAL_READ = 1 << 20;
/** Smallest refill, so a parse that runs out by a few bytes does not cost a request per few bytes. */
const MIN_REFILL = 64 << 10;
/** Most one refill fetches beyond what the parse needs right now, until twice this much has been fetched. */
const SPECULATION_CAP = 8 << 20;

export interface GgufReaderOptions {
  initialRead?: number;
  signal?: AbortSignal;
  /** Total header bytes the reader may fetch before failing with limit-exceeded. */
  maxHeaderBytes: number;
  /** The parser's estimate of the bytes the rest of the header takes (from the current position). */
  estimateRemaining?: () => number;
}

export class GgufReader {
  /** The buffered window: file bytes [start, start + buf.byteLength). */
  private buf: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(this.buf.buffer);
  private start = 0;
  /** Absolute file offset of the next unread byte. */
  pos = 0;
  /** File size; known after open(). */
  size = 0;
  littleEndian = true;
  /** Bytes fetched from the source by this reader. */
  fetched = 0;
  requests = 0;
  private floor: number;

  constructor(
    readonly source: ByteSource,
    private readonly options: GgufReaderOptions,
  ) {
    this.floor = MIN_REFILL;
  }

  async open(): Promise<void> {
    const first = await this.fetch(0, this.options.initialRead ?? GGUF_INITIAL_READ);
    this.size = await this.source.size();
    this.setWindow(0, first);
  }

  /** Bytes buffered beyond pos. */
  get available(): number {
    return this.start + this.buf.byteLength - this.pos;
  }

  /** Bytes left in the file beyond pos. */
  get remaining(): number {
    return this.size - this.pos;
  }

  /**
   * Make `n` bytes at pos available. `atLeast` (≥ n) is what the structure being read is known to need in all,
   * fetched in the same request when the file has it.
   */
  async ensure(n: number, what: string, atLeast = n): Promise<void> {
    if (this.available >= n) return;
    if (n > this.remaining) {
      throw new RbeeError('truncated', `The file ends inside ${what} (at byte ${this.size}, ${n} bytes needed at ${this.pos}).`, {
        hint: 'The file is incomplete or damaged: download it again.',
      });
    }
    if (this.pos + n > this.options.maxHeaderBytes) {
      throw new RbeeError('limit-exceeded', `The GGUF header is larger than ${this.options.maxHeaderBytes} bytes (${what}).`, {
        hint: 'This is not a header any model has; the file is probably damaged.',
      });
    }
    const end = this.start + this.buf.byteLength;
    const estimate = this.options.estimateRemaining?.() ?? 0;
    // Lower bounds and estimates come from counts in the file; a damaged count must not make one request fetch a
    // model's weights. Speculation beyond what is needed now grows at most geometrically with what was fetched.
    const cap = Math.max(SPECULATION_CAP, 2 * this.fetched);
    let want = Math.max(n, Math.min(Math.max(atLeast, estimate), cap)) - this.available;
    want = Math.max(want, this.floor);
    this.floor *= 2;
    // When the guess nearly reaches the end of the file anyway (vocabulary-only files, tiny models), take the rest:
    // a few more bytes are cheaper than another round trip.
    if (want * 1.25 >= this.size - end) want = this.size - end;
    // Never past the header bound (plus the slack a last estimate may add) nor past the file.
    want = Math.min(want, this.size - end, this.options.maxHeaderBytes - end);
    want = Math.max(want, this.pos + n - end);
    const chunk = await this.fetch(end, want);
    if (chunk.byteLength < want) {
      throw new RbeeError('truncated', `The file ended early while reading ${what}.`, {
        hint: 'The file changed or the connection broke; try again.',
      });
    }
    const keep = this.buf.subarray(this.pos - this.start);
    const next = new Uint8Array(keep.byteLength + chunk.byteLength);
    next.set(keep, 0);
    next.set(chunk, keep.byteLength);
    this.setWindow(this.pos, next);
  }

  private async fetch(offset: number, length: number): Promise<Uint8Array> {
    this.requests++;
    const bytes = await this.source.read(offset, length, this.options.signal);
    this.fetched += bytes.byteLength;
    return bytes;
  }

  private setWindow(start: number, bytes: Uint8Array): void {
    this.start = start;
    this.buf = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  // Synchronous getters: callers ensure() first.
  u8(): number {
    return this.view.getUint8(this.pos++ - this.start);
  }
  i8(): number {
    return this.view.getInt8(this.pos++ - this.start);
  }
  u16(): number {
    const v = this.view.getUint16(this.pos - this.start, this.littleEndian);
    this.pos += 2;
    return v;
  }
  i16(): number {
    const v = this.view.getInt16(this.pos - this.start, this.littleEndian);
    this.pos += 2;
    return v;
  }
  u32(): number {
    const v = this.view.getUint32(this.pos - this.start, this.littleEndian);
    this.pos += 4;
    return v;
  }
  i32(): number {
    const v = this.view.getInt32(this.pos - this.start, this.littleEndian);
    this.pos += 4;
    return v;
  }
  f32(): number {
    const v = this.view.getFloat32(this.pos - this.start, this.littleEndian);
    this.pos += 4;
    return v;
  }
  f64(): number {
    const v = this.view.getFloat64(this.pos - this.start, this.littleEndian);
    this.pos += 8;
    return v;
  }
  /** u64 as a number when exact (≤ 2^53), else a bigint. */
  u64(): number | bigint {
    const at = this.pos - this.start;
    this.pos += 8;
    const lo = this.view.getUint32(at + (this.littleEndian ? 0 : 4), this.littleEndian);
    const hi = this.view.getUint32(at + (this.littleEndian ? 4 : 0), this.littleEndian);
    if (hi < 0x200000 || (hi === 0x200000 && lo === 0)) return hi * 0x1_0000_0000 + lo;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  i64(): number | bigint {
    const at = this.pos - this.start;
    this.pos += 8;
    const lo = this.view.getUint32(at + (this.littleEndian ? 0 : 4), this.littleEndian);
    const hi = this.view.getInt32(at + (this.littleEndian ? 4 : 0), this.littleEndian);
    const v = hi * 0x1_0000_0000 + lo;
    if (v >= -(2 ** 53) && v <= 2 ** 53) return v;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  /** Raw bytes [pos, pos + n) without copying (valid until the next ensure()). */
  bytes(n: number): Uint8Array {
    const at = this.pos - this.start;
    this.pos += n;
    return this.buf.subarray(at, at + n);
  }
  /** A UTF-8 string of n bytes at pos. */
  string(n: number): string {
    const at = this.pos - this.start;
    this.pos += n;
    return decodeUtf8(this.buf, at, n);
  }
}

// ignoreBOM: keep a leading U+FEFF — it is a real token in some vocabularies (Llama's id 30143), not a marker.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * UTF-8 → string. Vocabulary entries are short (a few bytes) and there are hundreds of thousands of them; a call
 * into TextDecoder costs more than decoding a short string by hand, so short well-formed strings are decoded here and
 * anything long or malformed goes to TextDecoder (which replaces bad sequences with U+FFFD, as llama.cpp's
 * consumers do when they print tokens).
 */
export function decodeUtf8(buf: Uint8Array, at: number, n: number): string {
  if (n > SHORT) return utf8.decode(buf.subarray(at, at + n));
  const end = at + n;
  let i = at;
  let k = 0;
  while (i < end) {
    const b = buf[i]!;
    if (b < 0x80) {
      units[k++] = b;
      i++;
    } else if (b >= 0xc2 && b < 0xe0 && i + 1 < end && (buf[i + 1]! & 0xc0) === 0x80) {
      units[k++] = ((b & 0x1f) << 6) | (buf[i + 1]! & 0x3f);
      i += 2;
    } else if (b >= 0xe0 && b < 0xf0 && i + 2 < end && (buf[i + 1]! & 0xc0) === 0x80 && (buf[i + 2]! & 0xc0) === 0x80) {
      const c = ((b & 0x0f) << 12) | ((buf[i + 1]! & 0x3f) << 6) | (buf[i + 2]! & 0x3f);
      // Overlong forms and UTF-16 surrogates are malformed: let TextDecoder handle them the standard way.
      if (c < 0x800 || (c >= 0xd800 && c < 0xe000)) return utf8.decode(buf.subarray(at, end));
      units[k++] = c;
      i += 3;
    } else {
      // 4-byte sequences (emoji) and anything malformed: rare in vocabularies; the standard decoder is exact.
      return utf8.decode(buf.subarray(at, end));
    }
  }
  return fromUnits(k);
}

/** Strings up to this many bytes are decoded by hand into `units`. */
const SHORT = 48;
const units = new Uint16Array(SHORT);
const scratch: number[] = [];

/**
 * The string of units[0..k). Short strings (most tokens) go straight to String.fromCharCode with arguments, which
 * allocates nothing but the result; longer ones through a reused array.
 */
function fromUnits(k: number): string {
  const u = units;
  switch (k) {
    case 0:
      return '';
    case 1:
      return String.fromCharCode(u[0]!);
    case 2:
      return String.fromCharCode(u[0]!, u[1]!);
    case 3:
      return String.fromCharCode(u[0]!, u[1]!, u[2]!);
    case 4:
      return String.fromCharCode(u[0]!, u[1]!, u[2]!, u[3]!);
    case 5:
      return String.fromCharCode(u[0]!, u[1]!, u[2]!, u[3]!, u[4]!);
    case 6:
      return String.fromCharCode(u[0]!, u[1]!, u[2]!, u[3]!, u[4]!, u[5]!);
    case 7:
      return String.fromCharCode(u[0]!, u[1]!, u[2]!, u[3]!, u[4]!, u[5]!, u[6]!);
    case 8:
      return String.fromCharCode(u[0]!, u[1]!, u[2]!, u[3]!, u[4]!, u[5]!, u[6]!, u[7]!);
    default:
      scratch.length = k;
      for (let i = 0; i < k; i++) scratch[i] = u[i]!;
      return String.fromCharCode.apply(null, scratch);
  }
}
