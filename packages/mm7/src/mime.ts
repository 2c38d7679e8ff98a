/**
 * A strict-where-readers-differ, lenient-where-MMSCs-are MIME walker for MM7 bodies (buffered).
 * busboy only parses multipart/form-data (MM7 parts have no Content-Disposition: zero events), so
 * this walker finds delimiters with Buffer.indexOf on the whole body, reads header blocks
 * (headers.ts), walks nested multiparts, and opens message/* attachments into their inner MIME
 * entity. Part bodies are views into the buffer given to parseMime() (or into an embedded
 * message's decoded bytes). It does not scan, and it does not undo transfer encodings of leaves
 * (transfer-encoding.ts, content-leaves.ts do).
 *
 * The rule against parser differentials (docs/mm7-quirks.md has the table): every occurrence of
 * `--boundary` in a multipart body must be a clean delimiter line that every mainstream stack
 * sees: at the body's start or after a line break of the buffer's one convention, followed only
 * by `--` (close), spaces or tabs, and that line break (or the end of the body). Kannel splits at
 * any occurrence, Python at lines ended by CR, LF or CRLF, strict stacks at CRLF only; an
 * occurrence some of them split at and others do not is refused (AMBIGUOUS), and so is one after
 * the close delimiter. Lenient and accepted: LF-only bodies, transport padding, a missing close
 * delimiter or final line break (reported in `issues`). Bytes outside parts (preamble, epilogue)
 * are reported as `unattributed` so the caller scans them too.
 */
import { Mm7Error, ambiguous, clip, malformed, overLimit } from './errors.js';
import { parseContentTypeStrict, type MimeType } from './content-type.js';
import { lineBreakOf, readHeaderBlock, type LineBreak } from './headers.js';
import { checkBase64, decodeQuotedPrintable, transferEncodingKind } from './transfer-encoding.js';
import { DEFAULT_MAX_UU_FILES, decodeUuencode } from './uuencode.js';

export interface MimeLimits {
  /** Nested multipart and message/* levels. Stops recursion bombs. */
  readonly maxDepth: number;
  /** Parts across the whole tree, embedded messages included. Stops part floods. */
  readonly maxParts: number;
  /** Bytes of one part's header block. Stops header floods kept in memory. */
  readonly maxHeaderBytes: number;
  /**
   * Bytes decoded in all to open message/* attachments carried base64, quoted-printable or
   * uuencoded (each level is a new copy). Stops nested encoded messages from multiplying memory.
   * Past it the message is reported unscannable. Default 32 MiB.
   */
  readonly maxEmbeddedBytes?: number;
  /** Files taken from one x-uuencode body (content-leaves.ts). Stops one part fanning out into
   * thousands of scan targets. Default 100. */
  readonly maxUuencodedFiles?: number;
}

export const DEFAULT_MIME_LIMITS: Required<MimeLimits> = Object.freeze({
  maxDepth: 8, maxParts: 1000, maxHeaderBytes: 16 * 1024, maxEmbeddedBytes: 32 * 1024 * 1024,
  maxUuencodedFiles: DEFAULT_MAX_UU_FILES,
});

/** The limits with defaults filled in; throws RangeError on a value that is not a positive integer (a caller bug). */
export function resolveMimeLimits(l: MimeLimits = DEFAULT_MIME_LIMITS): Required<MimeLimits> {
  const r = { ...DEFAULT_MIME_LIMITS, ...l };
  for (const [k, v] of Object.entries(r)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`MIME limit ${k} must be a positive integer`);
  }
  return r;
}

export interface MimePart {
  /** Header fields in order, names lower-cased, values unfolded. */
  readonly headers: readonly (readonly [string, string])[];
  readonly contentType: MimeType;
  readonly contentId: string | null;
  readonly contentLocation: string | null;
  /** Lower-cased Content-Transfer-Encoding, or null when absent. */
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
  /** For message/* parts (rfc822, global, news, partial, external-body): the MIME entity inside; else null. */
  readonly embedded: EmbeddedMessage | null;
}

/**
 * The message inside a message/* part. Its parts' offsets are relative to `bytes`. When it cannot
 * be parsed, `error` says why and `root` is null: a broken attachment is unscannable content, not
 * a broken MM7 request, so it is never thrown.
 */
export interface EmbeddedMessage {
  /** The inner message: the part's body with its transfer encoding undone. */
  readonly bytes: Uint8Array;
  /** The inner entity: the message's own headers, its body walked like an MM7 body. */
  readonly root: MimePart | null;
  readonly issues: readonly MimeIssue[];
  readonly unattributed: readonly { readonly offset: number; readonly length: number }[];
  /** As ParsedMime.wholeParts, in `bytes`. */
  readonly wholeParts: readonly { readonly offset: number; readonly length: number }[];
  readonly error: Mm7Error | null;
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
  /**
   * Parts (headers and body) that a stack reads as one headerless body: Kannel does so for a part
   * whose delimiter line has transport padding. Scan these bytes whole too.
   */
  readonly wholeParts: readonly { readonly offset: number; readonly length: number }[];
}

/** Shared across a whole parse, embedded messages included. */
interface Ctx {
  readonly limits: Required<MimeLimits>;
  parts: number;
  embeddedBytes: number;
}

/** One buffer being walked: the MM7 body, or the bytes of one embedded message. */
interface Src {
  readonly buf: Buffer;
  readonly br: LineBreak;
  readonly issues: MimeIssue[];
  readonly unattributed: { offset: number; length: number }[];
  readonly wholeParts: { offset: number; length: number }[];
  lfNoted: boolean;
}

/** message/* types stacks open as a message (Python opens every message/* but these two as one). */
const NOT_A_MESSAGE = new Set(['message/delivery-status', 'message/disposition-notification']);

function header(headers: readonly (readonly [string, string])[], name: string): string | undefined {
  for (const [n, v] of headers) if (n === name) return v;
  return undefined;
}

function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}

function noteUnattributed(src: Src, start: number, end: number): void {
  if (end > start && !isBlank(src.buf, start, end)) src.unattributed.push({ offset: start, length: end - start });
}

interface DelimiterLine {
  readonly at: number;
  /** Start of the line break before it (== at for one at the body's start). */
  readonly lineStart: number;
  readonly close: boolean;
  /** First byte after the line (after its line break, or the end of the body). */
  readonly next: number;
  /** Spaces or tabs before its line break (transport padding). */
  readonly padded: boolean;
}

/** Every occurrence of `delim` in [start, end), overlapping ones included; at most `max`. */
function occurrences(buf: Buffer, delim: Buffer, start: number, end: number, max: number): number[] {
  const hits: number[] = [];
  let at = buf.indexOf(delim, start);
  while (at >= 0 && at + delim.length <= end) {
    if (hits.length >= max) throw overLimit(`more than ${max} multipart delimiters`, at);
    hits.push(at);
    at = buf.indexOf(delim, at + 1);
  }
  return hits;
}

/** Classifies one occurrence; throws AMBIGUOUS unless every stack reads it as the same delimiter line. */
function delimiterLine(src: Src, at: number, len: number, start: number, end: number): DelimiterLine {
  const { buf, br } = src;
  let lineStart = at;
  if (at > start) {
    const prev = buf[at - 1];
    if (prev === 0x0d) {
      throw ambiguous('bare CR before a boundary (CR-splitting stacks see a delimiter)', at);
    }
    if (prev !== 0x0a) throw ambiguous('boundary inside a line (Kannel splits there)', at);
    const crlf = at - 2 >= start && buf[at - 2] === 0x0d;
    if (crlf !== (br === '\r\n')) {
      throw ambiguous('delimiter after a line break of the other convention (CRLF vs LF)', at);
    }
    lineStart = at - br.length;
  }
  let q = at + len;
  const close = q + 1 < end && buf[q] === 0x2d && buf[q + 1] === 0x2d;
  if (close) q += 2;
  const padFrom = q;
  while (q < end && (buf[q] === 0x20 || buf[q] === 0x09)) q++;
  const padded = q > padFrom;
  if (padded) src.issues.push({ quirk: 'whitespace after delimiter', offset: padFrom });
  if (q === end) return { at, lineStart, close, next: end, padded };
  if (buf.toString('latin1', q, q + br.length) !== br) {
    throw ambiguous('delimiter line not ended by its line break (text, bare CR or mixed breaks)', q);
  }
  return { at, lineStart, close, next: q + br.length, padded };
}

function parseMultipartBody(
  ctx: Ctx, src: Src, start: number, end: number, boundary: string, depth: number, defaultType: string,
  ancestors: readonly string[],
): MimePart[] {
  if (depth > ctx.limits.maxDepth) throw overLimit(`multipart nested deeper than ${ctx.limits.maxDepth}`, start);
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  // One more than parts can use: the close delimiter.
  const hits = occurrences(src.buf, delim, start, end, ctx.limits.maxParts + 1 - ctx.parts);
  if (hits.length === 0) throw malformed('no multipart delimiter found', start);
  const lines = hits.map((at) => delimiterLine(src, at, delim.length, start, end));
  if (src.br === '\n' && !src.lfNoted) {
    src.lfNoted = true;
    src.issues.push({ quirk: 'LF-only line breaks', offset: hits[0] as number });
  }
  noteUnattributed(src, start, (lines[0] as DelimiterLine).lineStart);
  const parts: MimePart[] = [];
  const inner = [...ancestors, boundary];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as DelimiterLine;
    const following = lines[i + 1];
    if (line.close) {
      if (following !== undefined) {
        throw ambiguous('boundary text after the close delimiter (some stacks split on)', following.at);
      }
      if (line.next === end && src.buf[end - 1] !== 0x0a) {
        src.issues.push({ quirk: 'close delimiter without final line break', offset: line.at });
      }
      noteUnattributed(src, line.next, end);
      return parts;
    }
    const partEnd = following === undefined ? end : following.lineStart;
    if (following === undefined) src.issues.push({ quirk: 'missing close delimiter', offset: end });
    if (++ctx.parts > ctx.limits.maxParts) throw overLimit(`more than ${ctx.limits.maxParts} MIME parts`, line.next);
    // Kannel drops one byte after the delimiter, or two when it is a CR: after padding it loses the
    // line break and reads the part without headers, headers and body as one text.
    if (line.padded && partEnd > line.next) src.wholeParts.push({ offset: line.next, length: partEnd - line.next });
    parts.push(parsePart(ctx, src, line.next, Math.max(line.next, partEnd), depth, defaultType, inner));
  }
  return parts;
}

function parsePart(
  ctx: Ctx, src: Src, start: number, end: number, depth: number, defaultType: string, ancestors: readonly string[],
): MimePart {
  const hb = readHeaderBlock(src.buf, start, end, src.br, ctx.limits.maxHeaderBytes);
  return makePart(ctx, src, hb.headers, start, hb.bodyStart, end, depth, defaultType, ancestors);
}

function makePart(
  ctx: Ctx, src: Src, headers: (readonly [string, string])[], start: number, bodyStart: number, end: number,
  depth: number, defaultType: string, ancestors: readonly string[],
): MimePart {
  const ct = header(headers, 'content-type');
  const contentType = ct === undefined ? { type: defaultType, params: {} } : parseContentTypeStrict(ct, start);
  const cteValue = header(headers, 'content-transfer-encoding');
  if (cteValue !== undefined && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(cteValue)) {
    throw ambiguous('Content-Transfer-Encoding is not a single token', start);
  }
  const cte = cteValue?.toLowerCase() ?? null;
  const kind = transferEncodingKind(cte);
  let children: MimePart[] | null = null;
  let boundary: string | null = null;
  let embedded: EmbeddedMessage | null = null;
  if (contentType.type.startsWith('multipart/')) {
    // RFC 2045 §6.4: only identity encodings. javax.mail decodes before splitting, Python does not.
    if (kind !== 'identity') throw ambiguous(`multipart with Content-Transfer-Encoding ${clip(cte ?? '')}`, start);
    boundary = contentType.params['boundary'] ?? null;
    if (boundary === null) throw malformed('multipart without a boundary', start);
    const b = boundary;
    if (ancestors.some((a) => a.startsWith(b) || b.startsWith(a))) {
      throw ambiguous('nested boundary equal to or a prefix of an enclosing one', start);
    }
    const childType = contentType.type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
    children = parseMultipartBody(ctx, src, bodyStart, end, boundary, depth + 1, childType, ancestors);
  } else {
    if (kind === 'base64') checkBase64(src.buf, bodyStart, end);
    if (contentType.type.startsWith('message/') && !NOT_A_MESSAGE.has(contentType.type) && kind !== 'unknown') {
      embedded = parseEmbedded(ctx, src.buf.subarray(bodyStart, end), kind, depth + 1, ancestors);
    }
  }
  return {
    headers, contentType, contentId: header(headers, 'content-id') ?? null,
    contentLocation: header(headers, 'content-location') ?? null,
    transferEncoding: cte, raw: src.buf.subarray(bodyStart, end), start, bodyStart, children, boundary, embedded,
  };
}

function newSrc(buf: Buffer): Src {
  return { buf, br: lineBreakOf(buf), issues: [], unattributed: [], wholeParts: [], lfNoted: false };
}

function parseEmbedded(
  ctx: Ctx, body: Buffer, kind: 'identity' | 'base64' | 'quoted-printable' | 'uuencode', depth: number,
  ancestors: readonly string[],
): EmbeddedMessage {
  let bytes: Buffer = body;
  try {
    if (kind !== 'identity') {
      bytes = kind === 'base64' ? Buffer.from(body.toString('latin1'), 'base64')
        : kind === 'quoted-printable' ? decodeQuotedPrintable(body)
          : Buffer.concat(decodeUuencode(body, 1).files.map((f) => f.data));
      ctx.embeddedBytes += bytes.length;
      if (ctx.embeddedBytes > ctx.limits.maxEmbeddedBytes) {
        throw overLimit(`more than ${ctx.limits.maxEmbeddedBytes} bytes decoded to open embedded messages`);
      }
    }
    if (depth > ctx.limits.maxDepth) throw overLimit(`message/* nested deeper than ${ctx.limits.maxDepth}`);
    const src = newSrc(bytes);
    const hb = readHeaderBlock(bytes, 0, bytes.length, src.br, ctx.limits.maxHeaderBytes);
    const root = makePart(ctx, src, hb.headers, 0, hb.bodyStart, bytes.length, depth, 'text/plain', ancestors);
    return { bytes, root, issues: src.issues, unattributed: src.unattributed, wholeParts: src.wholeParts, error: null };
  } catch (e) {
    if (!(e instanceof Mm7Error)) throw e;
    return { bytes, root: null, issues: [], unattributed: [], wholeParts: [], error: e };
  }
}

/**
 * Parses a whole MM7 HTTP body whose Content-Type header is `contentType`. Throws Mm7Error (MIME,
 * LIMIT, AMBIGUOUS), each a 2007 at the edge.
 */
export function parseMime(body: Uint8Array, contentType: string, limits: MimeLimits = DEFAULT_MIME_LIMITS): ParsedMime {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const ctx: Ctx = { limits: resolveMimeLimits(limits), parts: 0, embeddedBytes: 0 };
  const src = newSrc(buf);
  const root = makePart(ctx, src, [['content-type', contentType]], 0, 0, buf.length, 0, 'text/plain', []);
  return { root, issues: src.issues, unattributed: src.unattributed, wholeParts: src.wholeParts };
}

/** Leaf parts in document order (message/* parts are leaves here; contentLeaves opens them). */
export function leaves(p: MimePart): MimePart[] {
  if (p.children === null) return [p];
  return p.children.flatMap(leaves);
}

// Kept importable from here, where they used to live.
export { decodeQuotedPrintable, decodedBody } from './transfer-encoding.js';
