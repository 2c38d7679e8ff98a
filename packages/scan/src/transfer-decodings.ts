/**
 * The forms a lenient receiver might turn a part's bytes into before it saves
 * or runs them: the declared Content-Transfer-Encoding decoded, and — whatever
 * the headers say — base64 when the bytes are entirely base64, quoted-printable
 * when they carry QP soft breaks or escapes, uuencode when they hold a
 * `begin` block. Headers are attacker-controlled and parsers disagree on them
 * (issue 14 class 1), so every plausible decoding is scanned.
 *
 * Pure and bounded: each decoding is at most as long as its input, the work
 * is linear, nothing throws. It does not decode recursively (a receiver
 * decodes once) and it does not parse MIME: callers pass one part's body.
 */

export type TransferEncodingName = 'base64' | 'quoted-printable' | 'x-uuencode';

export interface TransferDecoding {
  readonly encoding: TransferEncodingName;
  /** `declared`: the part's Content-Transfer-Encoding named it; `content`: the bytes themselves are valid in it. */
  readonly reason: 'declared' | 'content';
  /** For target paths and logs, e.g. `base64-decoded`, `base64-decoded to the first padding`. */
  readonly label: string;
  readonly data: Uint8Array;
}

export interface TransferDecodingOptions {
  /**
   * Base64 characters (whitespace excluded) below which undeclared content is not treated as base64. Stops every
   * short word of a text part ("Hello", "2024") from being decoded and scanned as binary; 16 characters decode to
   * 12 bytes, less than any executable or archive header worth scanning.
   */
  readonly minBase64Chars?: number;
}

export const DEFAULT_MIN_BASE64_CHARS = 16;

const B64 = new Int16Array(256).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) {
  B64[c.charCodeAt(0)] = i;
}
const PAD = 0x3d; // '='

function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;
}

/** Normalises a Content-Transfer-Encoding value; null when it names no transformation we know. */
export function transferEncodingName(value: string | null | undefined): TransferEncodingName | null {
  if (value === null || value === undefined) return null;
  const v = value.trim().replace(/^"(.*)"$/, '$1').trim().toLowerCase();
  if (v === 'base64') return 'base64';
  if (v === 'quoted-printable') return 'quoted-printable';
  if (v === 'x-uuencode' || v === 'uuencode' || v === 'x-uue' || v === 'uue') return 'x-uuencode';
  return null;
}

/**
 * Base64 the way lenient decoders read it: characters outside the alphabet are skipped, `=` closes a group and
 * decoding goes on after it (Android's PduParser does; concatenated base64 bodies decode whole). `firstSegment`
 * is what a decoder that stops at the first padding yields, when that differs.
 */
export function decodeBase64Lenient(data: Uint8Array): { all: Uint8Array; firstSegment: Uint8Array | null } {
  const out = new Uint8Array(Math.floor((data.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let bits = 0;
  let firstEnd = -1;
  let afterPad = false;
  for (const b of data) {
    if (b === PAD) {
      // Padding ends the group: leftover bits (fewer than 8) are dropped, as every decoder does.
      acc = 0;
      bits = 0;
      if (firstEnd < 0) firstEnd = n;
      continue;
    }
    const v = B64[b] as number;
    if (v < 0) continue;
    if (firstEnd >= 0) afterPad = true;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  const all = out.subarray(0, n);
  return { all, firstSegment: afterPad && firstEnd >= 0 ? all.slice(0, firstEnd) : null };
}

/** True when every byte is base64 alphabet, padding or whitespace, and there are enough alphabet characters. */
export function looksLikeBase64(data: Uint8Array, minChars = DEFAULT_MIN_BASE64_CHARS): boolean {
  let chars = 0;
  for (const b of data) {
    if (isWhitespace(b) || b === PAD) continue;
    if ((B64[b] as number) < 0) return false;
    chars++;
  }
  return chars >= minChars;
}

function hexValue(b: number | undefined): number {
  if (b === undefined) return -1;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

/** Length of a soft line break starting at the `=` at i (`=`, optional transport padding, LF or CRLF); 0 if none. */
function softBreakAt(d: Uint8Array, i: number): number {
  let j = i + 1;
  while (d[j] === 0x20 || d[j] === 0x09) j++;
  if (d[j] === 0x0a) return j + 1 - i;
  if (d[j] === 0x0d && d[j + 1] === 0x0a) return j + 2 - i;
  return 0;
}

/** Quoted-printable, leniently: `=XX` in either case is a byte, soft breaks vanish, any other `=` stays literal. */
export function decodeQuotedPrintable(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i] as number;
    if (b === PAD) {
      const hi = hexValue(data[i + 1]);
      const lo = hexValue(data[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
      const soft = softBreakAt(data, i);
      if (soft > 0) {
        i += soft - 1;
        continue;
      }
    }
    out[n++] = b;
  }
  return out.slice(0, n);
}

/** True when no byte has the high bit set: quoted-printable output (RFC 2045 §6.7) is 7-bit by construction. */
function sevenBit(data: Uint8Array): boolean {
  for (let i = 0; i < data.length; i++) if ((data[i] as number) >= 0x80) return false;
  return true;
}

/**
 * True when the bytes could be quoted-printable — 7-bit, as QP output always is — and hold at least one QP escape
 * (`=XX`) or soft line break. Binary parts almost always contain some `=XX` by chance; decoding them "as QP" found
 * nothing a receiver would see (none QP-decodes 8-bit content it was not told is QP; a declared QP is decoded
 * above) and cost 10–17 ms of CPU per 300 KB part, so 8-bit content is not guessed to be QP.
 */
export function hasQuotedPrintableMarks(data: Uint8Array): boolean {
  if (!sevenBit(data)) return false;
  for (let i = data.indexOf(PAD); i >= 0; i = data.indexOf(PAD, i + 1)) {
    if ((hexValue(data[i + 1]) >= 0 && hexValue(data[i + 2]) >= 0) || softBreakAt(data, i) > 0) return true;
  }
  return false;
}

const UU_BEGIN = /(?:^|\n)begin(-base64)? [0-7]{3,4} [^\r\n]*\r?\n/;

function latin1(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
}

/**
 * The first uuencoded block (`begin MODE NAME` … `end`), or `begin-base64` … `====` (uuencode -m); null when there
 * is none. A missing `end` is tolerated, as uudecode implementations do.
 */
export function decodeUuencode(data: Uint8Array): Uint8Array | null {
  // A native search first: most parts hold no `begin`, and the latin1 copy below costs a string as long as the part.
  if (Buffer.from(data.buffer, data.byteOffset, data.byteLength).indexOf('begin') < 0) return null;
  const text = latin1(data);
  const m = UU_BEGIN.exec(text);
  if (m === null) return null;
  const body = text.slice(m.index + m[0].length);
  if (m[1] !== undefined) {
    const stop = body.search(/^====\r?$/m);
    return decodeBase64Lenient(Buffer.from(stop < 0 ? body : body.slice(0, stop), 'latin1')).all.slice();
  }
  const out = new Uint8Array(data.length);
  let n = 0;
  for (const line of body.split('\n')) {
    const l = line.replace(/\r$/, '');
    if (l === 'end' || l.length === 0) break;
    // The first character gives the line's byte count; `` ` `` (count 0) ends the data.
    const count = (l.charCodeAt(0) - 32) & 63;
    if (count === 0) break;
    const six = (i: number): number => ((i < l.length ? l.charCodeAt(i) : 32) - 32) & 63;
    let got = 0;
    for (let i = 1; got < count && i < l.length; i += 4) {
      const [a, b, c, d] = [six(i), six(i + 1), six(i + 2), six(i + 3)];
      for (const byte of [(a << 2) | (b >> 4), (b << 4) | (c >> 2), (c << 6) | d]) {
        if (got < count && n < out.length) out[n++] = byte & 0xff;
        got++;
      }
    }
  }
  return out.slice(0, n);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length),
    Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

/**
 * Every decoded form of one part's bytes a lenient receiver might see, declared first. Forms equal to the input or
 * to an earlier form are left out, so an empty list means "scan the bytes as carried and nothing else".
 */
export function transferDecodings(
  data: Uint8Array, declaredEncoding?: string | null, opts: TransferDecodingOptions = {},
): TransferDecoding[] {
  const minChars = opts.minBase64Chars ?? DEFAULT_MIN_BASE64_CHARS;
  const declared = transferEncodingName(declaredEncoding);
  const out: TransferDecoding[] = [];
  type Reason = TransferDecoding['reason'];
  const add = (encoding: TransferEncodingName, reason: Reason, label: string, d: Uint8Array | null): void => {
    if (d === null || sameBytes(d, data) || out.some((o) => sameBytes(o.data, d))) return;
    out.push({ encoding, reason, label, data: d });
  };
  const base64 = (reason: TransferDecoding['reason']): void => {
    const { all, firstSegment } = decodeBase64Lenient(data);
    add('base64', reason, 'base64-decoded', all);
    add('base64', reason, 'base64-decoded to the first padding', firstSegment);
  };
  if (declared === 'base64') base64('declared');
  else if (declared === 'quoted-printable') {
    add(declared, 'declared', 'quoted-printable-decoded', decodeQuotedPrintable(data));
  }
  else if (declared === 'x-uuencode') add(declared, 'declared', 'uudecoded', decodeUuencode(data));
  if (declared !== 'base64' && looksLikeBase64(data, minChars)) base64('content');
  if (declared !== 'quoted-printable' && hasQuotedPrintableMarks(data)) {
    add('quoted-printable', 'content', 'quoted-printable-decoded', decodeQuotedPrintable(data));
  }
  if (declared !== 'x-uuencode') add('x-uuencode', 'content', 'uudecoded', decodeUuencode(data));
  return out;
}
