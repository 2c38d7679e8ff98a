/**
 * The decoder's JSON view (CONTRACT §4): the keys and normalisation of the
 * corpus expectations (mms-oracle/1), plus extras (all headers, part headers,
 * nested parts, issues). Hashes use node:crypto; nothing here does I/O.
 */
import { createHash } from 'node:crypto';
import type { ContentType } from './wsp/content-type.js';
import type { EncodedString } from './wsp/encoded-string.js';
import { type MmsPart, partInfo } from './wsp/multipart.js';
import { charsetName } from './wsp/tables.js';
import { FIELD, messageTypeName, versionString } from './mms/fields.js';
import { type HeaderValue, type MmsPdu, encodedStrings, textHeader, wellKnown } from './mms/pdu.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function enc(s: EncodedString): Json {
  return { text: s.text, charset: s.charset };
}

function firstEnc(pdu: MmsPdu, code: number): Json {
  const [v] = encodedStrings(pdu, code);
  return v === undefined ? null : enc(v);
}

function paramsJson(ct: ContentType): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const p of ct.params) {
    if (p.name in out) continue;
    out[p.name] = p.name === 'charset' && typeof p.value === 'number'
      ? charsetName(p.value)
      : p.value === null ? null : String(p.value);
  }
  return out;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function headerValueJson(v: HeaderValue): Json {
  switch (v.kind) {
    case 'octet':
      return `0x${v.value.toString(16)}`;
    case 'text':
    case 'token':
      return v.value;
    case 'integer':
      return v.value;
    case 'encoded-string':
      return enc(v.value);
    case 'time':
      return { absolute: v.absolute, value: v.value };
    case 'from':
      return { insert_address: v.address === null, address: v.address === null ? null : enc(v.address) };
    case 'raw':
      return { raw: hex(v.bytes) };
  }
}

function partJson(p: MmsPart, index: number): Json {
  const info = partInfo(p);
  const headers: Json[] = p.headers.map((h): Json => {
    switch (h.type) {
      case 'content-location':
        return ['Content-Location', h.value];
      case 'content-id':
        return ['Content-ID', h.value];
      case 'content-disposition':
        return ['Content-Disposition', h.disposition];
      case 'well-known':
        return [h.name, hex(h.raw)];
      case 'application':
        return [h.name, h.value];
      case 'shift':
        return ['x-wsp-shift', h.page];
    }
  });
  const out: Record<string, Json> = {
    index,
    content_type: p.contentType.mediaType,
    params: paramsJson(p.contentType),
    charset: info.charset === null ? null : { mib: info.charset, name: charsetName(info.charset) },
    name: info.name,
    filename: info.filename,
    content_location: info.contentLocation,
    content_id: info.contentId,
    content_disposition: info.disposition,
    headers,
    offset: p.offset,
    data_offset: p.dataOffset,
    data_length: p.data.length,
    sha256: sha256(p.data),
  };
  if (p.truncated) {
    out['truncated'] = true;
    out['declared_data_length'] = p.declaredDataLength;
  }
  if (p.children !== null) out['parts'] = p.children.map((c, i) => partJson(c, i + 1));
  return out;
}

export function pduToJson(pdu: MmsPdu): Record<string, Json> {
  const version = wellKnown(pdu, FIELD.MMS_VERSION);
  const date = wellKnown(pdu, FIELD.DATE);
  const from = wellKnown(pdu, FIELD.FROM);
  const list = (code: number): Json[] => encodedStrings(pdu, code).map(enc);
  return {
    message_type: { code: pdu.messageType, name: messageTypeName(pdu.messageType) },
    transaction_id: textHeader(pdu, FIELD.TRANSACTION_ID),
    mms_version: version?.kind === 'octet' ? versionString(version.value) : null,
    message_id: textHeader(pdu, FIELD.MESSAGE_ID),
    date: date?.kind === 'integer' ? { epoch: date.value } : null,
    from: from?.kind === 'from'
      ? { insert_address: from.address === null, address: from.address === null ? null : enc(from.address) }
      : null,
    to: list(FIELD.TO),
    cc: list(FIELD.CC),
    bcc: list(0x01),
    subject: firstEnc(pdu, FIELD.SUBJECT),
    response_text: firstEnc(pdu, FIELD.RESPONSE_TEXT),
    retrieve_text: firstEnc(pdu, FIELD.RETRIEVE_TEXT),
    content_type: pdu.contentType === null
      ? null
      : { media_type: pdu.contentType.mediaType, params: paramsJson(pdu.contentType) },
    parts: (pdu.parts ?? []).map((p, i) => partJson(p, i + 1)),
    headers: pdu.headers
      .filter((h) => h.type === 'well-known')
      .map((h) => (h.type === 'well-known' ? { name: h.name, value: headerValueJson(h.value) } : null)),
    application_headers: pdu.headers.flatMap((h): Json[] => (h.type === 'application' ? [[h.name, h.value]] : [])),
    body:
      pdu.body === null
        ? null
        : {
            offset: pdu.bodyOffset,
            length: pdu.body.length,
            multipart: pdu.parts !== null,
            declared_entries: pdu.declaredEntries,
            part_count: pdu.parts?.length ?? 0,
            sha256: sha256(pdu.body),
          },
    issues: pdu.issues.map((i) => ({ code: i.code, message: i.message, offset: i.offset })),
    unparsed: pdu.unparsed.map((u) => ({ offset: u.offset, length: u.length })),
  };
}
