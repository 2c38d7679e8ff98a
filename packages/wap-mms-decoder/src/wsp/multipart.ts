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
import { ByteReader, decodeLooseText } from './reader.js';
import { ByteWriter } from './writer.js';
import { MmsError, MmsErrorCode } from '../errors.js';
import type { DecodeLimits } from '../limits.js';
import {
  type ContentType,
  type ContentTypeParam,
  isWspMultipart,
  paramValue,
  readContentType,
  readParams,
  writeContentType,
  writeParams,
} from './content-type.js';
import { DISPOSITIONS, PART_HEADER, PART_HEADER_NAMES, charsetMib } from './tables.js';

export type PartHeader =
  | { readonly type: 'content-location'; readonly value: string }
  | { readonly type: 'content-id'; readonly value: string }
  | {
      readonly type: 'content-disposition';
      /** The header code used: 0x2E (WSP 1.1-1.3) or 0x45 (WSP 1.4). */
      readonly code: number;
      readonly disposition: string;
      readonly params: readonly ContentTypeParam[];
    }
  /** A well-known header the codec does not interpret: its value octets as they came. */
  | { readonly type: 'well-known'; readonly code: number; readonly name: string; readonly raw: Uint8Array }
  | { readonly type: 'application'; readonly name: string; readonly value: string };

export interface DecodeIssue {
  readonly code: string;
  readonly message: string;
  readonly offset: number;
}

export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

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

function readPartHeaders(r: ByteReader, ctx: Ctx): PartHeader[] {
  const headers: PartHeader[] = [];
  while (!r.atEnd()) {
    if (headers.length >= ctx.limits.maxHeaders) r.fail(MmsErrorCode.LIMIT, `more than ${ctx.limits.maxHeaders} part headers`);
    const c = r.peek();
    if (c >= 0x80) {
      r.pos++;
      const code = c & 0x7f;
      if (code === PART_HEADER.CONTENT_LOCATION) {
        headers.push({ type: 'content-location', value: r.textString() });
      } else if (code === PART_HEADER.CONTENT_ID) {
        headers.push({ type: 'content-id', value: r.quotedString() });
      } else if (code === PART_HEADER.CONTENT_DISPOSITION || code === PART_HEADER.CONTENT_DISPOSITION_14) {
        headers.push(readDisposition(r, code, ctx));
      } else {
        const name = PART_HEADER_NAMES.get(code) ?? `x-wsp-header-0x${code.toString(16)}`;
        headers.push({ type: 'well-known', code, name, raw: r.skipValue() });
      }
    } else if (c >= 0x20 && c !== 0x7f) {
      const name = r.textString();
      const vc = r.peek();
      const value = decodeLooseText(vc === 0 || vc >= 0x20 ? r.textBytes() : r.skipValue());
      headers.push({ type: 'application', name, value });
    } else {
      // 0x7F or 0x01-0x1F at a name position is a WSP code-page shift; the
      // rest of the block is on a page we do not know: keep it unparsed.
      ctx.issues.push({ code: MmsErrorCode.BAD_HEADER, message: 'code-page shift in part headers', offset: r.pos });
      ctx.unparsed.push({ offset: r.pos, length: r.remaining });
      r.pos = r.end;
    }
  }
  return headers;
}

function readDisposition(r: ByteReader, code: number, ctx: Ctx): PartHeader {
  const v = r.sub(r.valueLength());
  let disposition = '';
  if (!v.atEnd()) {
    const c = v.peek();
    if (c >= 0x80) {
      const d = v.shortInteger();
      disposition = DISPOSITIONS.get(d) ?? `x-wsp-disposition-0x${d.toString(16)}`;
    } else {
      disposition = v.textString();
    }
  }
  return { type: 'content-disposition', code, disposition, params: readParams(v, ctx.limits.maxHeaders) };
}

function readEntry(r: ByteReader, ctx: Ctx, depth: number): MmsPart {
  const offset = r.pos;
  const headersLen = r.uintvar();
  const dataLen = r.uintvar();
  const h = r.sub(headersLen);
  const rawHeaders = r.buf.subarray(h.pos, h.end);
  const contentType = readContentType(h, ctx.limits.maxHeaders);
  const headers = readPartHeaders(h, ctx);
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
    declaredDataLength: dataLen, children, rawHeaders,
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

/** Part metadata the way a scanner or a log line wants it. */
export interface PartInfo {
  readonly name: string | null;
  readonly filename: string | null;
  readonly contentLocation: string | null;
  readonly contentId: string | null;
  readonly disposition: string | null;
  readonly charset: number | null;
  readonly transferEncoding: string | null;
}

export function partInfo(p: Pick<MmsPart, 'contentType' | 'headers'>): PartInfo {
  let contentLocation: string | null = null;
  let contentId: string | null = null;
  let disposition: string | null = null;
  let filename: string | null = null;
  let transferEncoding: string | null = null;
  for (const h of p.headers) {
    if (h.type === 'content-location' && contentLocation === null) contentLocation = h.value;
    else if (h.type === 'content-id' && contentId === null) contentId = h.value;
    else if (h.type === 'content-disposition' && disposition === null) {
      disposition = h.disposition;
      for (const q of h.params) {
        if (q.name === 'filename' && typeof q.value === 'string') {
          filename = q.value;
          break;
        }
      }
    } else if (h.type === 'application' && h.name.toLowerCase() === 'content-transfer-encoding') {
      transferEncoding = h.value.trim().toLowerCase();
    }
  }
  const n = paramValue(p.contentType, 'name');
  if (filename === null) {
    const f = paramValue(p.contentType, 'filename');
    if (typeof f === 'string') filename = f;
  }
  const cs = paramValue(p.contentType, 'charset');
  const charset = typeof cs === 'number' ? cs : typeof cs === 'string' ? charsetMib(cs) : null;
  return {
    name: typeof n === 'string' ? n : null,
    filename, contentLocation, contentId, disposition, charset, transferEncoding,
  };
}

