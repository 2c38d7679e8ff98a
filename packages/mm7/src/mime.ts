/**
 * A strict-where-it-matters, lenient-where-MMSCs-are MIME walker for MM7
 * bodies (buffered). busboy only parses multipart/form-data (MM7 parts have no
 * Content-Disposition: zero events), so this walker finds delimiters with
 * Buffer.indexOf on the whole body, unfolds headers, keeps every header, walks
 * nested multiparts and decodes transfer encodings. Part bodies are views into
 * the buffer given to parseMime().
 *
 * Quirks of real MMSCs and what we do (docs/mm7-quirks.md has the table):
 *   LF-only line breaks            lenient: accepted as CRLF
 *   whitespace after a delimiter   lenient: ignored (RFC 2046 transport padding)
 *   missing close delimiter        lenient: the last part ends at the end of the body; reported
 *   binary body without CTE        lenient: taken as binary (the 7bit default would be wrong)
 *   folded header lines            unfolded
 *   no delimiter at all            rejected (2007): nothing could be attributed to a part
 *   broken part header block       rejected (2007)
 * Bytes outside parts (preamble, epilogue) are reported as `unattributed` so
 * the caller scans them too.
 */
import { Mm7Error, Mm7ErrorCode } from './errors.js';
import { parseContentType, type MimeType } from './content-type.js';

export interface MimeLimits {
  /** Nested multipart levels. Stops recursion bombs. */
  readonly maxDepth: number;
  /** Parts across the whole tree. Stops part floods. */
  readonly maxParts: number;
  /** Bytes of one part's header block. Stops header floods kept in memory. */
  readonly maxHeaderBytes: number;
}

export const DEFAULT_MIME_LIMITS: MimeLimits = Object.freeze({ maxDepth: 8, maxParts: 1000, maxHeaderBytes: 16 * 1024 });

export interface MimePart {
  /** Header fields in order, names lower-cased, values unfolded. */
  readonly headers: readonly (readonly [string, string])[];
  readonly contentType: MimeType;
  readonly contentId: string | null;
  readonly contentLocation: string | null;
  readonly transferEncoding: string | null;
  /** The part's body as carried (still transfer-encoded). */
  readonly raw: Uint8Array;
  /** Offsets in the parsed buffer of the whole part (headers + body) and of the body. */
  readonly start: number;
  readonly bodyStart: number;
  /** Children when the part is itself a multipart. */
  readonly children: readonly MimePart[] | null;
  /** For multiparts: the boundary in use. */
  readonly boundary: string | null;
}

export interface MimeIssue {
  readonly quirk: string;
  readonly offset: number;
}

export interface ParsedMime {
  readonly root: MimePart;
  readonly issues: readonly MimeIssue[];
  /** Non-whitespace byte ranges no part owns (preambles, epilogues). */
  readonly unattributed: readonly { readonly offset: number; readonly length: number }[];
}

interface Ctx {
  readonly buf: Buffer;
  readonly limits: MimeLimits;
  readonly issues: MimeIssue[];
  readonly unattributed: { offset: number; length: number }[];
  parts: number;
}

function header(headers: readonly (readonly [string, string])[], name: string): string | undefined {
  for (const [n, v] of headers) if (n === name) return v;
  return undefined;
}

function parseHeaders(ctx: Ctx, start: number, end: number): (readonly [string, string])[] {
  if (end - start > ctx.limits.maxHeaderBytes) throw new Mm7Error(Mm7ErrorCode.LIMIT, `part header block over ${ctx.limits.maxHeaderBytes} bytes`, start);
  const text = ctx.buf.toString('latin1', start, end);
  const lines = text.split(/\r?\n/);
  const out: [string, string][] = [];
  for (const line of lines) {
    if (line.length === 0) continue;
    if (line[0] === ' ' || line[0] === '\t') {
      const last = out[out.length - 1];
      if (last === undefined) throw new Mm7Error(Mm7ErrorCode.MIME, 'continuation line before any header', start);
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Mm7Error(Mm7ErrorCode.MIME, 'part header line without a field name', start);
    out.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return out;
}

/** Position of the blank line ending a header block starting at `from`: [headersEnd, bodyStart]. */
function headerEnd(buf: Buffer, from: number, to: number): [number, number] | null {
  if (buf[from] === 0x0d && buf[from + 1] === 0x0a) return [from, from + 2];
  if (buf[from] === 0x0a) return [from, from + 1];
  const crlf = buf.indexOf('\r\n\r\n', from);
  const lf = buf.indexOf('\n\n', from);
  const a = crlf >= 0 && crlf < to ? crlf : -1;
  const b = lf >= 0 && lf < to ? lf : -1;
  if (a < 0 && b < 0) return null;
  if (a >= 0 && (b < 0 || a <= b)) return [a, a + 4];
  return [b, b + 2];
}

/** Next delimiter line `--boundary` at a line start in [from, to). Returns its offset, or -1. */
function findDelimiter(buf: Buffer, delim: Buffer, from: number, to: number): number {
  let at = buf.indexOf(delim, from);
  while (at >= 0 && at < to) {
    if (at === 0 || buf[at - 1] === 0x0a) return at;
    at = buf.indexOf(delim, at + 1);
  }
  return -1;
}

function lineEnd(buf: Buffer, from: number, to: number): number {
  const nl = buf.indexOf(0x0a, from);
  return nl < 0 || nl >= to ? to : nl + 1;
}

function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}

function noteUnattributed(ctx: Ctx, start: number, end: number): void {
  if (end > start && !isBlank(ctx.buf, start, end)) ctx.unattributed.push({ offset: start, length: end - start });
}

function parseMultipartBody(ctx: Ctx, start: number, end: number, boundary: string, depth: number): MimePart[] {
  if (depth > ctx.limits.maxDepth) throw new Mm7Error(Mm7ErrorCode.LIMIT, `multipart nested deeper than ${ctx.limits.maxDepth}`, start);
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  let at = findDelimiter(ctx.buf, delim, start, end);
  if (at < 0) throw new Mm7Error(Mm7ErrorCode.MIME, 'no multipart delimiter found', start);
  noteUnattributed(ctx, start, at);
  const parts: MimePart[] = [];
  for (;;) {
    const after = at + delim.length;
    if (ctx.buf[after] === 0x2d && ctx.buf[after + 1] === 0x2d) {
      const eol = lineEnd(ctx.buf, after + 2, end);
      if (eol === end && (ctx.buf[end - 1] !== 0x0a)) ctx.issues.push({ quirk: 'close delimiter without final line break', offset: after });
      noteUnattributed(ctx, eol, end);
      return parts;
    }
    const eol = lineEnd(ctx.buf, after, end);
    if (!isBlank(ctx.buf, after, eol)) throw new Mm7Error(Mm7ErrorCode.MIME, 'text after a multipart delimiter', after);
    if (eol - after > 2 || (eol - after === 1 && ctx.buf[after] !== 0x0a)) ctx.issues.push({ quirk: 'whitespace after delimiter', offset: after });
    if (eol - after === 1 && ctx.buf[after] === 0x0a) ctx.issues.push({ quirk: 'LF-only line breaks', offset: after });
    const partStart = eol;
    const next = findDelimiter(ctx.buf, delim, partStart, end);
    let partEnd: number;
    if (next < 0) {
      ctx.issues.push({ quirk: 'missing close delimiter', offset: end });
      partEnd = end;
    } else {
      partEnd = next;
      // The line break before a delimiter belongs to the delimiter.
      if (ctx.buf[partEnd - 1] === 0x0a) partEnd--;
      if (ctx.buf[partEnd - 1] === 0x0d) partEnd--;
    }
    if (++ctx.parts > ctx.limits.maxParts) throw new Mm7Error(Mm7ErrorCode.LIMIT, `more than ${ctx.limits.maxParts} MIME parts`, partStart);
    parts.push(parsePart(ctx, partStart, Math.max(partStart, partEnd), depth));
    if (next < 0) return parts;
    at = next;
  }
}

function parsePart(ctx: Ctx, start: number, end: number, depth: number): MimePart {
  const he = headerEnd(ctx.buf, start, end);
  if (he === null) throw new Mm7Error(Mm7ErrorCode.MIME, 'part without the blank line that ends its headers', start);
  const headers = parseHeaders(ctx, start, he[0]);
  return makePart(ctx, headers, start, he[1], end, depth);
}

function makePart(ctx: Ctx, headers: (readonly [string, string])[], start: number, bodyStart: number, end: number, depth: number): MimePart {
  const contentType = parseContentType(header(headers, 'content-type'));
  const cte = header(headers, 'content-transfer-encoding')?.trim().toLowerCase() ?? null;
  let children: MimePart[] | null = null;
  let boundary: string | null = null;
  if (contentType.type.startsWith('multipart/')) {
    boundary = contentType.params['boundary'] ?? null;
    if (boundary === null || boundary.length === 0) throw new Mm7Error(Mm7ErrorCode.MIME, 'multipart without a boundary', start);
    children = parseMultipartBody(ctx, bodyStart, end, boundary, depth + 1);
  }
  return {
    headers, contentType, contentId: header(headers, 'content-id') ?? null, contentLocation: header(headers, 'content-location') ?? null,
    transferEncoding: cte, raw: ctx.buf.subarray(bodyStart, end), start, bodyStart, children, boundary,
  };
}

/** Parses a whole MM7 HTTP body whose Content-Type header is `contentType`. */
export function parseMime(body: Uint8Array, contentType: string, limits: MimeLimits = DEFAULT_MIME_LIMITS): ParsedMime {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const ctx: Ctx = { buf, limits, issues: [], unattributed: [], parts: 0 };
  const root = makePart(ctx, [['content-type', contentType]], 0, 0, buf.length, 0);
  return { root, issues: ctx.issues, unattributed: ctx.unattributed };
}

function decodeQuotedPrintable(b: Uint8Array): Buffer {
  const s = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1').replace(/=\r?\n/g, '');
  const out = Buffer.alloc(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const hex = s.slice(i + 1, i + 3);
    if (c === 0x3d && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else out[n++] = c;
  }
  return out.subarray(0, n);
}

/** The part's body with its Content-Transfer-Encoding undone (base64, quoted-printable); others as carried. */
export function decodedBody(p: Pick<MimePart, 'raw' | 'transferEncoding'>): Uint8Array {
  if (p.transferEncoding === 'base64') return Buffer.from(Buffer.from(p.raw.buffer, p.raw.byteOffset, p.raw.byteLength).toString('latin1'), 'base64');
  if (p.transferEncoding === 'quoted-printable') return decodeQuotedPrintable(p.raw);
  return p.raw;
}

/** Leaf parts in document order. */
export function leaves(p: MimePart): MimePart[] {
  if (p.children === null) return [p];
  return p.children.flatMap(leaves);
}

export { decodeQuotedPrintable };
