/**
 * The headers of one multipart entry after its Content-Type (WAP-230-WSP
 * 8.4.2.6 and 8.5), read the way Wireshark frames them: well-known headers by
 * the generic value rule, application headers as two strings, code-page
 * shifts (0x7F page, or 0x01-0x1F) taken and read past. It never throws on
 * damage, only on a limit: a header it cannot frame ends the block with an
 * issue, and the octets from there on are reported unparsed.
 *
 * Alongside, it notes into `other` what other readers take from the same
 * framing where they differ from us: mmsd reads Content-Location and
 * Content-ID on any code page; MediaTek reads WSP Transfer-Encoding (0xA7) as
 * Content-Transfer-Encoding; AOSP reserves 0xC8 for it. Android's own framing
 * is a different reading altogether: aosp-part-headers.ts.
 */
import type { ByteReader } from './reader.js';
import { decodeLooseText } from './reader.js';
import { MmsError, MmsErrorCode } from '../errors.js';
import type { DecodeLimits } from '../limits.js';
import { type ContentTypeParam, readParams } from './content-type.js';
import { type ReadingsBuilder, encodingName } from './part-readings.js';
import { DISPOSITIONS, PART_HEADER, PART_HEADER_NAMES } from './tables.js';

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
  /**
   * A well-known header the codec does not interpret, its value octets as they came. After a
   * shift to a code page other than 1, every well-known header is kept so (named x-wsp-page-N-0xNN).
   */
  | { readonly type: 'well-known'; readonly code: number; readonly name: string; readonly raw: Uint8Array }
  | { readonly type: 'application'; readonly name: string; readonly value: string }
  /** A header code-page shift: 0x7F + page, or (shortcut) one octet 0x01-0x1F that is the page. */
  | { readonly type: 'shift'; readonly page: number; readonly shortcut: boolean };

export interface DecodeIssue {
  readonly code: string;
  readonly message: string;
  readonly offset: number;
}

export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

export interface HeaderCtx {
  readonly limits: DecodeLimits;
  readonly issues: DecodeIssue[];
  readonly unparsed: ByteRange[];
}

/** WSP Transfer-Encoding (MediaTek's MtkPduPart.P_TRANSFER_ENCODING, 0xA7) and AOSP's PduPart 0xC8. */
const TRANSFER_ENCODING_CODES: ReadonlySet<number> = new Set([0x27, 0x48]);

/** A value the generic rule frames as text: End-of-string, Quote, or TEXT. */
function isTextStart(c: number | undefined): boolean {
  return c === 0 || (c !== undefined && c >= 0x20 && c <= 0x7f);
}

/** The text of a raw text value (as skipValue returns it): quote and NUL removed. */
function rawText(raw: Uint8Array, quote: number): string {
  let from = 0;
  let to = raw.length;
  if (raw[0] === quote) from = 1;
  if (to > from && raw[to - 1] === 0) to--;
  return decodeLooseText(raw.subarray(from, to));
}

function readDisposition(r: ByteReader, code: number, ctx: HeaderCtx): PartHeader {
  const start = r.pos;
  const v = r.sub(r.valueLength());
  try {
    let disposition = '';
    if (!v.atEnd()) {
      if (v.peek() >= 0x80) {
        const d = v.shortInteger();
        disposition = DISPOSITIONS.get(d) ?? `x-wsp-disposition-0x${d.toString(16)}`;
      } else {
        disposition = v.textString();
      }
    }
    return { type: 'content-disposition', code, disposition, params: readParams(v, ctx.limits.maxHeaders) };
  } catch (e) {
    if (!(e instanceof MmsError) || e.code === MmsErrorCode.LIMIT) throw e;
    // Its length is known, so only this header is lost: kept raw, and the headers after it are read.
    ctx.issues.push({ code: e.code, message: `Content-Disposition value kept raw: ${e.message}`, offset: e.offset });
    return { type: 'well-known', code, name: 'Content-Disposition', raw: r.buf.subarray(start, r.pos) };
  }
}

function readWellKnown(r: ByteReader, code: number, ctx: HeaderCtx, other: ReadingsBuilder): PartHeader {
  const first = r.peek();
  if (code === PART_HEADER.CONTENT_LOCATION && isTextStart(first)) {
    return { type: 'content-location', value: r.textString() };
  }
  if (code === PART_HEADER.CONTENT_ID && isTextStart(first)) {
    return { type: 'content-id', value: r.quotedString() };
  }
  if ((code === PART_HEADER.CONTENT_DISPOSITION || code === PART_HEADER.CONTENT_DISPOSITION_14) && first < 0x20) {
    return readDisposition(r, code, ctx);
  }
  // Anything else, or one of the above in a form it does not have: framed by the generic rule, kept raw.
  const raw = r.skipValue();
  if (TRANSFER_ENCODING_CODES.has(code) && isTextStart(raw[0])) {
    other.add('transferEncodings', encodingName(rawText(raw, 0x7f)));
  }
  return { type: 'well-known', code, name: PART_HEADER_NAMES.get(code) ?? `x-wsp-header-0x${code.toString(16)}`, raw };
}

function readOnOtherPage(r: ByteReader, code: number, page: number, other: ReadingsBuilder): PartHeader {
  const raw = r.skipValue();
  // mmsd switches on the header code whatever the page (and Wireshark does not): note what it sees.
  if (code === PART_HEADER.CONTENT_LOCATION && isTextStart(raw[0])) other.add('contentLocations', rawText(raw, 0x7f));
  if (code === PART_HEADER.CONTENT_ID && isTextStart(raw[0])) {
    let id = rawText(raw, 0x22);
    if (id.endsWith('"')) id = id.slice(0, -1);
    other.add('contentIds', id);
  }
  return { type: 'well-known', code, name: `x-wsp-page-${page}-0x${code.toString(16).padStart(2, '0')}`, raw };
}

function readApplication(r: ByteReader): PartHeader {
  const name = r.textString();
  const vc = r.peek();
  const value = decodeLooseText(vc === 0 || vc >= 0x20 ? r.textBytes() : r.skipValue());
  return { type: 'application', name, value };
}

/**
 * Headers until the end of the reader's window (the entry's header block).
 * Issues and unparsed ranges go to `ctx`; other readers' values to `other`.
 */
export function readPartHeaders(r: ByteReader, ctx: HeaderCtx, other: ReadingsBuilder): PartHeader[] {
  const headers: PartHeader[] = [];
  let page = 1;
  let shifted = false;
  while (!r.atEnd()) {
    // Shifts count too: a block of nothing but shifts is a header flood like any other.
    if (headers.length >= ctx.limits.maxHeaders) {
      r.fail(MmsErrorCode.LIMIT, `more than ${ctx.limits.maxHeaders} part headers`);
    }
    const at = r.pos;
    const c = r.peek();
    try {
      if (c >= 0x80) {
        r.pos++;
        const code = c & 0x7f;
        headers.push(page === 1 ? readWellKnown(r, code, ctx, other) : readOnOtherPage(r, code, page, other));
      } else if (c >= 0x20 && c < 0x7f) {
        headers.push(readApplication(r));
      } else if (c !== 0) {
        // Shift-delimiter + Page-identity, or a Short-cut-shift-delimiter (WSP 8.4.2.6). Wireshark and mmsd
        // read on after it, and so does Android (for which it is a header name): so must we.
        r.pos++;
        const shortcut = c !== 0x7f;
        page = shortcut ? c : r.octet();
        headers.push({ type: 'shift', page, shortcut });
        if (!shifted) {
          ctx.issues.push({ code: MmsErrorCode.BAD_HEADER, message: 'code-page shift in part headers', offset: at });
          shifted = true;
        }
      } else {
        // NUL is no header name for anyone: Wireshark and Android stop reading, mmsd rejects the message.
        r.fail(MmsErrorCode.BAD_HEADER, 'NUL where a part header name must be');
      }
    } catch (e) {
      if (!(e instanceof MmsError) || e.code === MmsErrorCode.LIMIT) throw e;
      ctx.issues.push({ code: e.code, message: `part headers end here: ${e.message}`, offset: e.offset });
      ctx.unparsed.push({ offset: at, length: r.end - at });
      r.pos = r.end;
    }
  }
  return headers;
}
