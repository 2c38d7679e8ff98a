/**
 * Encoded-string-value (OMA-MMS-ENC 7.2.9): Text-string, or Value-length
 * Char-set Text-string. The length, not a NUL scan, bounds the text, so
 * UCS-2 strings that begin with 0x00 survive.
 */
import type { ByteReader} from './reader.js';
import { decodeLooseText } from './reader.js';
import type { ByteWriter} from './writer.js';
import { encodeFail } from './writer.js';
import { decodeCharsetText, encodeCharsetText } from './charset.js';
import { isUtf16 } from './tables.js';

export interface EncodedString {
  readonly text: string;
  /** IANA MIBenum of the declared charset; null for a plain Text-string. */
  readonly charset: number | null;
}

export function readEncodedString(r: ByteReader): EncodedString {
  if (!r.isLength()) return { text: r.textString(), charset: null };
  const len = r.valueLength();
  const v = r.sub(len);
  if (v.atEnd()) return { text: '', charset: null };
  const mib = v.integerValue();
  if (!v.atEnd() && v.peek() === 0x7f) v.pos++;
  let raw = v.bytes(v.remaining);
  if (raw.length > r.maxString) raw = raw.subarray(0, r.maxString);
  if (isUtf16(mib)) {
    let end = raw.length;
    if (end % 2 === 1 && raw[end - 1] === 0) end--;
    while (end >= 2 && raw[end - 1] === 0 && raw[end - 2] === 0) end -= 2;
    raw = raw.subarray(0, end);
  } else {
    const nul = raw.indexOf(0);
    if (nul >= 0) raw = raw.subarray(0, nul);
  }
  return { text: mib === 0 ? decodeLooseText(raw) : decodeCharsetText(raw, mib), charset: mib };
}

export function writeEncodedString(w: ByteWriter, s: EncodedString): void {
  if (s.charset === null) {
    w.textString(s.text);
    return;
  }
  const mib = s.charset;
  if (s.text.includes('\0')) encodeFail('text contains a NUL character');
  const text = encodeCharsetText(s.text, mib);
  w.withLength((inner) => {
    inner.integerValue(mib);
    const first = text[0];
    if (first !== undefined && (first >= 0x80 || first === 0x7f)) inner.octet(0x7f);
    inner.bytes(text);
    inner.octet(0);
    if (isUtf16(mib)) inner.octet(0);
  });
}
