/**
 * Content-Transfer-Encoding: which kind a value names, undoing it, and refusing base64 that
 * decoders disagree on. Encodings we do not know are left to the caller to report (unscannable):
 * their decoded bytes are unknown to us, so they are never "binary and clean".
 */
import { Mm7Error, Mm7ErrorCode } from './errors.js';
import { decodeUuencode } from './uuencode.js';

export type TransferEncodingKind = 'identity' | 'base64' | 'quoted-printable' | 'uuencode' | 'unknown';

const IDENTITY = new Set(['7bit', '8bit', 'binary']);
/** The names mail and MIME stacks (Thunderbird, Python, GNU) decode as uuencode. */
const UUENCODE = new Set(['x-uuencode', 'uuencode', 'x-uue', 'uue']);

/** The kind of a lower-cased Content-Transfer-Encoding value; null (no header) is identity. */
export function transferEncodingKind(cte: string | null): TransferEncodingKind {
  if (cte === null || IDENTITY.has(cte)) return 'identity';
  if (cte === 'base64' || cte === 'quoted-printable') return cte;
  if (UUENCODE.has(cte)) return 'uuencode';
  return 'unknown';
}

/**
 * Quoted-printable, decoded as RFC 2045 says and as the most lenient stacks do, so that content
 * split by tricks some decoders undo is rejoined here: trailing spaces and tabs on a line are
 * transport padding and dropped, `=` at the end of a line (even before padding) is a soft break
 * whether the line ends in CRLF, LF or a bare CR (Python splits there), `=XX` is accepted in either
 * case, and an `=` not followed by two hex digits is kept as it is.
 */
export function decodeQuotedPrintable(b: Uint8Array): Buffer {
  const text = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  const out = Buffer.alloc(text.length);
  let n = 0;
  const breaks = /\r\n|\n|\r/g;
  let from = 0;
  for (;;) {
    const m = breaks.exec(text);
    const to = m === null ? text.length : m.index;
    let line = text.slice(from, to).replace(/[ \t]+$/, '');
    const soft = line.endsWith('=');
    if (soft) line = line.slice(0, -1);
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 0x3d && /^[0-9A-Fa-f]{2}$/.test(line.slice(i + 1, i + 3))) {
        out[n++] = parseInt(line.slice(i + 1, i + 3), 16);
        i += 2;
      } else out[n++] = c;
    }
    if (m === null) break;
    if (!soft) n += out.write(m[0], n, 'latin1');
    from = to + m[0].length;
  }
  return out.subarray(0, n);
}

/**
 * Why base64 decoders would disagree on this body, or null. Some stop at the first `=` (Node,
 * Python), some decode on after it quartet by quartet (javax.mail), some skip it; Node also takes
 * the URL-safe `-` and `_` that others skip. Data after padding or URL-safe characters → refused.
 */
export function base64Ambiguity(buf: Uint8Array, start: number, end: number): string | null {
  // Native searches: this runs over every base64 body, megabytes at a time.
  const body = Buffer.from(buf.buffer, buf.byteOffset + start, Math.max(0, end - start));
  if (body.indexOf(0x2d) >= 0 || body.indexOf(0x5f) >= 0) return 'URL-safe characters in a base64 body';
  const pad = body.indexOf(0x3d);
  if (pad < 0) return null;
  for (let i = pad + 1; i < body.length; i++) if (isB64(body[i] as number)) return 'base64 data after its padding';
  return null;
}

function isB64(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
}

/** Throws AMBIGUOUS when `base64Ambiguity` finds something. */
export function checkBase64(buf: Uint8Array, start: number, end: number): void {
  const why = base64Ambiguity(buf, start, end);
  if (why !== null) throw new Mm7Error(Mm7ErrorCode.AMBIGUOUS, why, start);
}

/**
 * The part's body with its Content-Transfer-Encoding undone: base64, quoted-printable, and
 * uuencode (the files of every begin…end section, one after the other; the body as carried when
 * there is none). Identity and unknown encodings: the body as carried (callers must report an
 * unknown one: see `transferEncodingKind`, `contentLeaves`).
 */
export function decodedBody(p: { readonly raw: Uint8Array; readonly transferEncoding: string | null }): Uint8Array {
  const raw = Buffer.from(p.raw.buffer, p.raw.byteOffset, p.raw.byteLength);
  switch (transferEncodingKind(p.transferEncoding?.trim().toLowerCase() ?? null)) {
    case 'base64':
      return Buffer.from(raw.toString('latin1'), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(raw);
    case 'uuencode': {
      const { files } = decodeUuencode(raw);
      return files.length === 0 ? p.raw : Buffer.concat(files.map((f) => f.data));
    }
    default:
      return p.raw;
  }
}
