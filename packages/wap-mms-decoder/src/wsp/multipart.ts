/**
 * WSP multipart bodies (WAP-230-WSP 8.5): nEntries, then per entry
 * HeadersLen, DataLen, Content-Type, headers, data. Part data are views into
 * the PDU buffer (zero-copy). Nested WSP multiparts are decoded as children.
 *
 * Real PDUs lie about their lengths (see mms-encoding.md §10.6). Decoding is
 * lenient where the bytes still say unambiguously what a part is, and every
 * deviation is reported as an issue with its offset, plus the byte ranges no
 * part owns, so a scanner can still look at them.
 */
import { ByteReader } from './reader.js';
import { ByteWriter, encodeFail } from './writer.js';
import { MmsError, MmsErrorCode } from '../errors.js';
import type { DecodeLimits } from '../limits.js';
import {
  type ContentType,
  isWspMultipart,
  readContentType,
  readMedia,
  writeContentType,
  writeParams,
} from './content-type.js';
import { readAospEntryHeaders } from './aosp-part-headers.js';
import { type ByteRange, type DecodeIssue, type PartHeader, readPartHeaders } from './part-headers.js';
import { disagreeingFields } from './part-info.js';
import { type PartReadings, ReadingsBuilder } from './part-readings.js';
import { DISPOSITIONS, PART_HEADER } from './tables.js';

export type { ByteRange, DecodeIssue, PartHeader } from './part-headers.js';
export { partInfo, type PartInfo } from './part-info.js';

export interface MmsPart {
  readonly contentType: ContentType;
  readonly headers: readonly PartHeader[];
  /**
   * The part's octets as carried in the PDU. A view into the buffer given to
   * decode(): valid as long as that buffer is not reused or modified.
   */
  readonly data: Uint8Array;
  /** Offset of the entry (its HeadersLen) and of its data, from the start of the PDU. */
  readonly offset: number;
  readonly dataOffset: number;
  /** DataLen ran past the end of the body: `data` holds only the octets present. */
  readonly truncated: boolean;
  readonly declaredDataLength: number;
  /** Decoded entries when the part is itself a WSP multipart. */
  readonly children: readonly MmsPart[] | null;
  /** The entry's Content-Type + headers octets as carried, reused verbatim when re-encoding an unchanged part. */
  readonly rawHeaders: Uint8Array | null;
  /**
   * Values other mainstream readers take from the entry's header octets (Android's PduParser under both
   * Content-Disposition settings, MediaTek's, mmsd's), which `headers` may not show; `partInfo` merges them.
   */
  readonly otherReadings: PartReadings;
}

export interface Multipart {
  readonly declaredEntries: number;
  readonly parts: readonly MmsPart[];
}

interface Ctx {
  readonly limits: DecodeLimits;
  readonly issues: DecodeIssue[];
  readonly unparsed: ByteRange[];
  partCount: number;
}

function issue(ctx: Ctx, e: MmsError): void {
  ctx.issues.push({ code: e.code, message: e.message, offset: e.offset });
}

/**
 * The entry's Content-Type. Damage inside it costs the Content-Type (media type kept when it was read),
 * not the entry: its octets are framed by the generic rule and the headers after it are still read.
 */
function readEntryContentType(h: ByteReader, ctx: Ctx): ContentType {
  const start = h.pos;
  try {
    return readContentType(h, ctx.limits.maxHeaders);
  } catch (e) {
    if (!(e instanceof MmsError) || e.code === MmsErrorCode.LIMIT) throw e;
    ctx.issues.push({ code: e.code, message: `part Content-Type: ${e.message}`, offset: e.offset });
    h.pos = start;
    let mediaType = '';
    try {
      if (h.peek() < 0x20) {
        const v = h.sub(h.valueLength());
        if (!v.atEnd()) mediaType = readMedia(v);
      } else {
        h.skipValue();
      }
    } catch (inner) {
      if (!(inner instanceof MmsError) || inner.code === MmsErrorCode.LIMIT) throw inner;
      if (h.end > start) ctx.unparsed.push({ offset: start, length: h.end - start });
      h.pos = h.end;
    }
    return { mediaType, params: [] };
  }
}

function readEntry(r: ByteReader, ctx: Ctx, depth: number): MmsPart {
  const offset = r.pos;
  const headersLen = r.uintvar();
  const dataLen = r.uintvar();
  const h = r.sub(headersLen);
  const blockStart = h.pos;
  const rawHeaders = r.buf.subarray(h.pos, h.end);
  const other = new ReadingsBuilder();
  const contentType = readEntryContentType(h, ctx);
  const headers = readPartHeaders(h, ctx, other);
  // The same octets as Android frames them; its input stream is this window (the PDU, or the enclosing part).
  readAospEntryHeaders(r.buf, blockStart, h.end, r.end, other, ctx.limits);
  const otherReadings = other.finish();
  const differ = disagreeingFields({ contentType, headers }, otherReadings);
  if (differ.length > 0) {
    ctx.issues.push({
      code: MmsErrorCode.PART_HEADERS_AMBIGUOUS,
      message: `part headers read differently by another reader (${differ.join(', ')}): scan every reading`,
      offset: blockStart,
    });
  }
  const dataOffset = r.pos;
  const truncated = dataLen > r.remaining;
  if (truncated) {
    ctx.issues.push({
      code: MmsErrorCode.TRUNCATED,
      message: `part data of ${dataLen} octets runs past the end (${r.remaining} present)`,
      offset: dataOffset,
    });
  }
  const data = r.bytes(Math.min(dataLen, r.remaining));
  let children: MmsPart[] | null = null;
  if (isWspMultipart(contentType.mediaType) && data.length > 0) {
    children = readNested(r.buf, dataOffset, dataOffset + data.length, ctx, depth + 1);
  }
  return {
    contentType, headers, data, offset, dataOffset, truncated,
    declaredDataLength: dataLen, children, rawHeaders, otherReadings,
  };
}

function readNested(buf: Uint8Array, start: number, end: number, ctx: Ctx, depth: number): MmsPart[] | null {
  const before = { issues: ctx.issues.length, unparsed: ctx.unparsed.length, parts: ctx.partCount };
  const parts: MmsPart[] = [];
  try {
    readEntries(new ByteReader(buf, start, end, ctx.limits.maxStringBytes), ctx, depth, parts);
    return parts;
  } catch (e) {
    // Limits are never softened: a bomb fails the whole decode.
    if (!(e instanceof MmsError) || e.code === MmsErrorCode.LIMIT) throw e;
    // A part labelled multipart that is not one stays an opaque part (scanned as bytes).
    ctx.issues.length = before.issues;
    ctx.unparsed.length = before.unparsed;
    ctx.partCount = before.parts;
    issue(ctx, e);
    return null;
  }
}

/** Reads entries into `parts` as it goes, so a later failure keeps the earlier parts. Returns nEntries. */
function readEntries(r: ByteReader, ctx: Ctx, depth: number, parts: MmsPart[]): number {
  if (depth > ctx.limits.maxDepth) r.fail(MmsErrorCode.LIMIT, `multipart nested deeper than ${ctx.limits.maxDepth}`);
  const declaredEntries = r.uintvar();
  while (!r.atEnd()) {
    if (parts.length >= declaredEntries) {
      ctx.issues.push({
        code: MmsErrorCode.MULTIPART,
        message: `${r.remaining} octets after the ${declaredEntries} declared entries`,
        offset: r.pos,
      });
      ctx.unparsed.push({ offset: r.pos, length: r.remaining });
      break;
    }
    if (++ctx.partCount > ctx.limits.maxParts) r.fail(MmsErrorCode.LIMIT, `more than ${ctx.limits.maxParts} parts`);
    parts.push(readEntry(r, ctx, depth));
  }
  if (parts.length < declaredEntries) {
    ctx.issues.push({
      code: MmsErrorCode.MULTIPART,
      message: `${declaredEntries} entries declared, ${parts.length} present`,
      offset: r.pos,
    });
  }
  return declaredEntries;
}

export interface MultipartResult extends Multipart {
  readonly issues: DecodeIssue[];
  readonly unparsed: ByteRange[];
}

/**
 * Decodes the multipart in buf[start, end). An entry that cannot be read
 * (broken lengths) ends the walk: what decoded is kept, the rest is reported
 * unparsed, and the error becomes an issue. Limit errors are thrown.
 */
export function readMultipart(
  buf: Uint8Array, start: number, end: number, limits: DecodeLimits,
): MultipartResult {
  const ctx: Ctx = { limits, issues: [], unparsed: [], partCount: 0 };
  const parts: MmsPart[] = [];
  let declaredEntries = 0;
  try {
    declaredEntries = readEntries(new ByteReader(buf, start, end, limits.maxStringBytes), ctx, 1, parts);
  } catch (e) {
    if (!(e instanceof MmsError) || e.code === MmsErrorCode.LIMIT) throw e;
    issue(ctx, e);
    const last = parts[parts.length - 1];
    const from = last !== undefined ? last.dataOffset + last.data.length : start;
    if (end > from) ctx.unparsed.push({ offset: from, length: end - from });
  }
  return { declaredEntries, parts, issues: ctx.issues, unparsed: ctx.unparsed };
}

/** What a new part needs; the codec derives the rest. */
export interface PartInit {
  readonly contentType: ContentType;
  readonly headers?: readonly PartHeader[];
  readonly data: Uint8Array;
  /** Encode these entries as the part's data instead of `data`. */
  readonly children?: readonly PartInit[] | null;
  /** Reuse these Content-Type + header octets verbatim (unchanged parts of a decoded PDU). */
  readonly rawHeaders?: Uint8Array | null;
}

function writePartHeaders(w: ByteWriter, headers: readonly PartHeader[]): void {
  for (const h of headers) {
    switch (h.type) {
      case 'content-location':
        w.shortInteger(PART_HEADER.CONTENT_LOCATION).textString(h.value);
        break;
      case 'content-id':
        w.shortInteger(PART_HEADER.CONTENT_ID).quotedString(h.value);
        break;
      case 'content-disposition':
        w.shortInteger(h.code).withLength((inner) => {
          const code = [...DISPOSITIONS].find(([, n]) => n === h.disposition)?.[0];
          if (code !== undefined) inner.shortInteger(code);
          else inner.textString(h.disposition);
          writeParams(inner, h.params);
        });
        break;
      case 'well-known':
        w.shortInteger(h.code).bytes(h.raw);
        break;
      case 'application':
        w.tokenText(h.name).textString(h.value);
        break;
      case 'shift':
        if (h.shortcut) {
          if (h.page < 1 || h.page > 0x1f) encodeFail('a shortcut shift names a page 1-31');
          w.octet(h.page);
        } else {
          w.octet(0x7f).octet(h.page);
        }
        break;
    }
  }
}

export function writeMultipart(w: ByteWriter, parts: readonly PartInit[]): void {
  w.uintvar(parts.length);
  for (const p of parts) {
    let head = p.rawHeaders ?? null;
    if (head === null) {
      const hw = new ByteWriter(128);
      writeContentType(hw, p.contentType);
      writePartHeaders(hw, p.headers ?? []);
      head = hw.finish();
    }
    let data = p.data;
    if (p.children !== undefined && p.children !== null) {
      const dw = new ByteWriter(data.length + 64);
      writeMultipart(dw, p.children);
      data = dw.finish();
    }
    w.uintvar(head.length).uintvar(data.length).bytes(head).bytes(data);
  }
}
