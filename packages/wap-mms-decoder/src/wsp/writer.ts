/**
 * WSP primitive writer: the mirror of reader.ts. Grows one buffer; `finish()`
 * returns a view of the written octets. Always writes the canonical (shortest)
 * form; the decoder accepts the others.
 */
import { MmsError, MmsErrorCode } from '../errors.js';

const utf8 = new TextEncoder();

function encodeFail(message: string): never {
  throw new MmsError(MmsErrorCode.ENCODE, message, -1);
}

export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  get length(): number {
    return this.len;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  octet(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 255) encodeFail('octet out of range');
    this.room(1);
    this.buf[this.len++] = v;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  uintvar(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) encodeFail('uintvar out of range');
    const groups: number[] = [];
    let x = v;
    do {
      groups.push(x % 128);
      x = Math.floor(x / 128);
    } while (x > 0);
    for (let i = groups.length - 1; i >= 0; i--) this.octet((groups[i] as number) | (i > 0 ? 0x80 : 0));
    return this;
  }

  valueLength(n: number): this {
    if (n < 31) return this.octet(n);
    return this.octet(31).uintvar(n);
  }

  shortInteger(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 127) encodeFail('short-integer out of range');
    return this.octet(v | 0x80);
  }

  longInteger(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) encodeFail('long-integer out of range');
    const out: number[] = [];
    let x = v;
    do {
      out.push(x % 256);
      x = Math.floor(x / 256);
    } while (x > 0);
    this.octet(out.length);
    for (let i = out.length - 1; i >= 0; i--) this.octet(out[i] as number);
    return this;
  }

  integerValue(v: number): this {
    return v >= 0 && v < 128 ? this.shortInteger(v) : this.longInteger(v);
  }

  /** Text-string from raw octets: Quote 0x7F when the first octet is >= 0x80, NUL end. */
  textBytes(b: Uint8Array): this {
    if (b.includes(0)) encodeFail('text contains a NUL octet');
    const first = b[0];
    // A Text-string cannot start with a control octet: 0x01-0x1F would read back as a Value-length.
    if (first !== undefined && first < 0x20) encodeFail('text starts with a control character');
    if (first !== undefined && first >= 0x7f) this.octet(0x7f);
    return this.bytes(b).octet(0);
  }

  textString(s: string): this {
    return this.textBytes(utf8.encode(s));
  }

  /** Token-text (application header names, untyped parameter names): no quote, must start 0x20-0x7E. */
  tokenText(s: string): this {
    const b = utf8.encode(s);
    if (b.length === 0 || (b[0] as number) < 0x20 || (b[0] as number) > 0x7e || b.includes(0)) {
      encodeFail('token text must start with a printable ASCII octet');
    }
    return this.bytes(b).octet(0);
  }

  quotedString(s: string): this {
    const b = utf8.encode(s);
    if (b.includes(0)) encodeFail('text contains a NUL octet');
    return this.octet(0x22).bytes(b).octet(0);
  }

  /** Writes what `body` writes, prefixed by its Value-length. */
  withLength(body: (w: ByteWriter) => void): this {
    const inner = new ByteWriter(64);
    body(inner);
    const b = inner.finish();
    return this.valueLength(b.length).bytes(b);
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

export { encodeFail };
