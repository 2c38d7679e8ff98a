/**
 * decode(): MMS PDU octets -> MmsPdu. Pure and synchronous. Header-level
 * damage throws MmsError (nothing reliable can be said about such a PDU);
 * body-level damage is reported in `issues`/`unparsed` with what did decode.
 */
import { ByteReader, decodeLatin1 } from '../wsp/reader.js';
import { readEncodedString } from '../wsp/encoded-string.js';
import { isWspMultipart, readContentType } from '../wsp/content-type.js';
import type { ContentType } from '../wsp/content-type.js';
import { readMultipart } from '../wsp/multipart.js';
import type { ByteRange, DecodeIssue, MmsPart } from '../wsp/multipart.js';
import { MmsError, MmsErrorCode } from '../errors.js';
import { type DecodeLimits, resolveLimits } from '../limits.js';
import { FIELD, FIELDS, type FieldKind } from './fields.js';
import type { HeaderValue, MmsHeader, MmsPdu } from './pdu.js';

function raw(r: ByteReader): HeaderValue {
  return { kind: 'raw', bytes: r.skipValue() };
}

function readTime(r: ByteReader): HeaderValue {
  const start = r.pos;
  const v = r.sub(r.valueLength());
  const token = v.atEnd() ? 0 : v.octet();
  if ((token !== 0x80 && token !== 0x81) || v.atEnd()) {
    return { kind: 'raw', bytes: r.buf.subarray(start, r.pos) };
  }
  const value = token === 0x80 ? v.longInteger() : v.integerValue();
  return { kind: 'time', absolute: token === 0x80, value };
}

function readFrom(r: ByteReader): HeaderValue {
  const start = r.pos;
  const v = r.sub(r.valueLength());
  const token = v.atEnd() ? 0 : v.octet();
  if (token === 0x81) return { kind: 'from', address: null };
  if (token === 0x80 && !v.atEnd()) return { kind: 'from', address: readEncodedString(v) };
  return { kind: 'raw', bytes: r.buf.subarray(start, r.pos) };
}

function readValue(r: ByteReader, kind: FieldKind): HeaderValue {
  const c = r.peek();
  switch (kind) {
    case 'octet':
      return c >= 0x80 ? { kind: 'octet', value: r.octet() } : raw(r);
    case 'text':
      return c === 0 || (c >= 0x20 && c < 0x80) ? { kind: 'text', value: r.textString() } : raw(r);
    case 'encoded-string':
      return { kind: 'encoded-string', value: readEncodedString(r) };
    case 'long':
    case 'integer':
      return c >= 0x80 || c < 31 ? { kind: 'integer', value: r.integerValue() } : raw(r);
    case 'time':
      return c < 32 ? readTime(r) : raw(r);
    case 'from':
      return c < 32 ? readFrom(r) : raw(r);
    case 'class':
      return c >= 0x80 ? { kind: 'octet', value: r.octet() } : { kind: 'token', value: r.textString() };
    case 'content-type':
    case 'raw':
      return raw(r);
  }
}

export function decode(bytes: Uint8Array, limits?: Partial<DecodeLimits>): MmsPdu {
  const lim = resolveLimits(limits);
  if (bytes.length > lim.maxPduBytes) {
    throw new MmsError(MmsErrorCode.LIMIT, `PDU of ${bytes.length} octets exceeds the ${lim.maxPduBytes} limit`, 0);
  }
  if (bytes.length < 2 || bytes[0] !== 0x80 + FIELD.MESSAGE_TYPE) {
    throw new MmsError(MmsErrorCode.NOT_MMS, 'PDU does not start with X-Mms-Message-Type', 0);
  }
  const r = new ByteReader(bytes, 0, bytes.length, lim.maxStringBytes);
  const headers: MmsHeader[] = [];
  const issues: DecodeIssue[] = [];
  const unparsed: ByteRange[] = [];
  let contentType: ContentType | null = null;
  let contentTypeStart = -1;

  while (!r.atEnd()) {
    if (headers.length >= lim.maxHeaders) r.fail(MmsErrorCode.LIMIT, `more than ${lim.maxHeaders} headers`);
    const c = r.peek();
    if (c >= 0x80) {
      const at = r.pos;
      r.pos++;
      const code = c & 0x7f;
      if (code === FIELD.CONTENT_TYPE) {
        contentTypeStart = at;
        contentType = readContentType(r, lim.maxHeaders);
        break;
      }
      const def = FIELDS.get(code);
      const name = def?.name ?? `x-mms-0x${code.toString(16).padStart(2, '0')}`;
      headers.push({ type: 'well-known', code, name, value: readValue(r, def?.kind ?? 'raw') });
    } else if (c >= 0x20 && c < 0x7f) {
      const name = r.textString();
      const vc = r.peek();
      const value = vc === 0 || (vc >= 0x20 && vc < 0x80) ? r.textString() : decodeLatin1(r.skipValue());
      headers.push({ type: 'application', name, value });
    } else {
      // A control octet where a header name must be: stray trailing octets
      // (seen from real MMSCs: one 0x00 after the last header). Stop here.
      if (headers.length < 2) r.fail(MmsErrorCode.BAD_HEADER, `octet 0x${c.toString(16)} where a header name must be`);
      issues.push({
        code: MmsErrorCode.BAD_HEADER, message: `${r.remaining} octets after the headers are no header`, offset: r.pos,
      });
      unparsed.push({ offset: r.pos, length: r.remaining });
      r.pos = r.end;
    }
  }

  const first = headers[0];
  const messageType = first?.type === 'well-known' && first.value.kind === 'octet' ? first.value.value : 0;
  const headEnd = contentTypeStart >= 0 ? contentTypeStart : r.pos;
  const rawHead = bytes.subarray(0, headEnd);
  if (contentType === null) {
    return {
      messageType, headers, contentType: null, body: null, bodyOffset: r.pos, parts: null,
      declaredEntries: null, issues, unparsed, rawHead, rawContentType: null,
    };
  }
  const bodyOffset = r.pos;
  const body = bytes.subarray(bodyOffset);
  let parts: readonly MmsPart[] | null = null;
  let declaredEntries: number | null = null;
  if (isWspMultipart(contentType.mediaType) && body.length > 0) {
    const m = readMultipart(bytes, bodyOffset, bytes.length, lim);
    parts = m.parts;
    declaredEntries = m.declaredEntries;
    issues.push(...m.issues);
    unparsed.push(...m.unparsed);
  }
  return {
    messageType, headers, contentType, body, bodyOffset, parts, declaredEntries, issues, unparsed,
    rawHead, rawContentType: bytes.subarray(contentTypeStart, bodyOffset),
  };
}
