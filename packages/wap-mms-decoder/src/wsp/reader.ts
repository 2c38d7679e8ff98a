/**
 * WSP primitive reader (WAP-230-WSP 8.4.2) over one Uint8Array.
 *
 * A reader is a window [pos, end) on the whole PDU buffer, so every error
 * offset is absolute. `sub(n)` narrows the window to a Value-length so a value
 * can never read into its neighbour. Nothing here copies payload bytes:
 * `bytes(n)` returns a view.
 */
import { MmsError, MmsErrorCode } from '../errors.js';

/** ISO-8859-1 proper (WHATWG's 'latin1' label is windows-1252). */
export function decodeLatin1(b: Uint8Array): string {
  let s = '';
  if (b.length <= 32) {
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i] as number);
    return s;
  }
  for (let i = 0; i < b.length; i += 4096) {
    // apply() takes the typed array directly; a spread would go through the iterator protocol.
    s += String.fromCharCode.apply(null, b.subarray(i, i + 4096) as unknown as number[]);
  }
  return s;
}
const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Text bytes as a string: strict UTF-8, falling back to ISO-8859-1 (what handsets actually put in
 * "US-ASCII" Text-strings).
 */
export function decodeLooseText(b: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < b.length; i++) {
    if ((b[i] as number) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return b.length < 16 ? decodeLatin1(b) : utf8.decode(b);
  try {
    return utf8Fatal.decode(b);
  } catch {
    return decodeLatin1(b);
  }
}

export class ByteReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  readonly maxString: number;

  constructor(buf: Uint8Array, pos = 0, end = buf.length, maxString = 64 * 1024) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.maxString = maxString;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  fail(code: MmsErrorCode, message: string, at = this.pos): never {
    throw new MmsError(code, message, at);
  }

  peek(): number {
    if (this.pos >= this.end) this.fail(MmsErrorCode.TRUNCATED, 'unexpected end of data');
    return this.buf[this.pos] as number;
  }

  octet(): number {
    const v = this.peek();
    this.pos++;
    return v;
  }

  /** A view of the next n octets. */
  bytes(n: number): Uint8Array {
    if (n < 0 || n > this.end - this.pos) {
      this.fail(MmsErrorCode.TRUNCATED, `value of ${n} octets runs past the end (${this.end - this.pos} left)`);
    }
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  skip(n: number): void {
    if (n < 0 || n > this.end - this.pos) {
      this.fail(MmsErrorCode.TRUNCATED, `value of ${n} octets runs past the end (${this.end - this.pos} left)`);
    }
    this.pos += n;
  }

  /** A reader over the next n octets; this reader moves past them. */
  sub(n: number): ByteReader {
    const start = this.pos;
    this.skip(n);
    return new ByteReader(this.buf, start, start + n, this.maxString);
  }

  /** Uintvar: 1-5 octets of 7 bits, MSB group first. Leading 0x80 groups are legal padding. */
  uintvar(): number {
    const start = this.pos;
    let v = 0;
    for (let i = 0; i < 5; i++) {
      const c = this.octet();
      v = v * 128 + (c & 0x7f);
      if ((c & 0x80) === 0) {
        if (v > 0xffffffff) this.fail(MmsErrorCode.UINTVAR, 'uintvar above 32 bits', start);
        return v;
      }
    }
    return this.fail(MmsErrorCode.UINTVAR, 'uintvar longer than 5 octets', start);
  }

  /** Value-length = Short-length (0-30) | Length-quote (31) Uintvar. Checked against the octets present. */
  valueLength(): number {
    const start = this.pos;
    const c = this.octet();
    let n: number;
    if (c < 31) n = c;
    else if (c === 31) n = this.uintvar();
    else return this.fail(MmsErrorCode.BAD_VALUE, `octet 0x${c.toString(16)} is not a Value-length`, start);
    if (n > this.end - this.pos) {
      this.fail(MmsErrorCode.TRUNCATED, `Value-length ${n} runs past the end (${this.end - this.pos} left)`, start);
    }
    return n;
  }

  /** True when the next octet starts a Value-length (0x00-0x1F). */
  isLength(): boolean {
    return this.peek() < 32;
  }

  shortInteger(): number {
    const start = this.pos;
    const c = this.octet();
    if ((c & 0x80) === 0) this.fail(MmsErrorCode.BAD_VALUE, 'expected a Short-integer', start);
    return c & 0x7f;
  }

  /** Long-integer = Short-length (1-30) + big-endian octets. Values above 2^53 are refused. */
  longInteger(): number {
    const start = this.pos;
    const n = this.octet();
    if (n > 30) this.fail(MmsErrorCode.BAD_VALUE, 'expected a Long-integer', start);
    return this.multiOctet(n, start);
  }

  multiOctet(n: number, start: number): number {
    const b = this.bytes(n);
    let v = 0;
    for (let i = 0; i < b.length; i++) {
      v = v * 256 + (b[i] as number);
    }
    if (v > Number.MAX_SAFE_INTEGER) {
      this.fail(MmsErrorCode.INTEGER_OVERFLOW, `integer of ${n} octets too large`, start);
    }
    return v;
  }

  /** Integer-value = Short-integer | Long-integer. */
  integerValue(): number {
    const c = this.peek();
    if (c & 0x80) {
      this.pos++;
      return c & 0x7f;
    }
    return this.longInteger();
  }

  /** Raw octets up to (not including) the next NUL; consumes the NUL. A missing NUL at the window end is tolerated. */
  cstring(): Uint8Array {
    const start = this.pos;
    const buf = this.buf;
    const end = this.end;
    let stop = start;
    // Bounded by the window: an unterminated string must not scan the rest of the PDU.
    while (stop < end && buf[stop] !== 0) stop++;
    const terminated = stop < end;
    if (stop - start > this.maxString) {
      this.fail(MmsErrorCode.LIMIT, `string of ${stop - start} octets exceeds the ${this.maxString} limit`, start);
    }
    if (!terminated && stop === start) this.fail(MmsErrorCode.TRUNCATED, 'unexpected end of data');
    // An unterminated string at the window's end is taken as ended there:
    // encoders that drop the final NUL exist, and the window bounds it anyway.
    this.pos = terminated ? stop + 1 : stop;
    return this.buf.subarray(start, stop);
  }

  /** Text-string: [Quote 0x7F] TEXT NUL, as raw octets (the quote removed). */
  textBytes(): Uint8Array {
    if (this.peek() === 0x7f) this.pos++;
    return this.cstring();
  }

  textString(): string {
    return decodeLooseText(this.textBytes());
  }

  /** Quoted-string (Content-ID): leading 0x22, text, NUL; a trailing 0x22 (real handsets) is dropped too. */
  quotedString(): string {
    if (this.peek() === 0x22) this.pos++;
    let b = this.cstring();
    if (b.length > 0 && b[b.length - 1] === 0x22) b = b.subarray(0, b.length - 1);
    return decodeLooseText(b);
  }

  /**
   * Generic skip by the first octet (WSP 8.4.1.2): 00-1E short length, 1F
   * uintvar length, 20-7F text to NUL, 80-FF one octet. Returns the raw
   * value octets so unknown fields can be kept and re-encoded as they came.
   */
  skipValue(): Uint8Array {
    const start = this.pos;
    const c = this.peek();
    if (c < 31) {
      this.pos++;
      this.skip(c);
    } else if (c === 31) {
      this.pos++;
      this.skip(this.uintvar());
    } else if (c < 128) {
      this.cstring();
    } else {
      this.pos++;
    }
    return this.buf.subarray(start, this.pos);
  }
}
