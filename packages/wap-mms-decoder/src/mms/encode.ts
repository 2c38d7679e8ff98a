/**
 * encode(): MmsPdu-shaped values -> PDU octets, in canonical WSP forms. Also
 * `reencodeWithParts`, which rebuilds a decoded PDU with some parts replaced
 * while keeping every other header and part byte-identical.
 */
import { ByteWriter, encodeFail } from '../wsp/writer.js';
import { writeEncodedString } from '../wsp/encoded-string.js';
import { type ContentType, writeContentType } from '../wsp/content-type.js';
import { type MmsPart, type PartInit, writeMultipart } from '../wsp/multipart.js';
import { FIELD } from './fields.js';
import type { HeaderValue, MmsHeader, MmsPdu } from './pdu.js';

export interface PduInit {
  /** Headers in wire order; the first must be X-Mms-Message-Type. */
  readonly headers: readonly MmsHeader[];
  readonly contentType?: ContentType | null;
  /** Body entries (WSP multipart). Takes precedence over `body`. */
  readonly parts?: readonly PartInit[] | null;
  /** Opaque body for a non-multipart Content-Type. */
  readonly body?: Uint8Array | null;
}

function writeValue(w: ByteWriter, code: number, v: HeaderValue): void {
  switch (v.kind) {
    case 'octet':
      w.octet(v.value < 0x80 ? v.value | 0x80 : v.value);
      break;
    case 'text':
      w.textString(v.value);
      break;
    case 'encoded-string':
      writeEncodedString(w, v.value);
      break;
    case 'integer':
      // Date and sizes are Long-integers on the wire, whatever their value.
      if (code === FIELD.DATE || code === FIELD.MESSAGE_SIZE || code === 0x1f) w.longInteger(v.value);
      else w.integerValue(v.value);
      break;
    case 'time':
      w.withLength((inner) => {
        inner.octet(v.absolute ? 0x80 : 0x81);
        // Delta-seconds as Long-integer: what Android and mmsd write and read.
        inner.longInteger(v.value);
      });
      break;
    case 'from':
      w.withLength((inner) => {
        if (v.address === null) inner.octet(0x81);
        else {
          inner.octet(0x80);
          writeEncodedString(inner, v.address);
        }
      });
      break;
    case 'token':
      w.tokenText(v.value);
      break;
    case 'raw':
      if (v.bytes.length === 0) encodeFail('raw header value is empty');
      w.bytes(v.bytes);
      break;
  }
}

export function writeHeaders(w: ByteWriter, headers: readonly MmsHeader[]): void {
  const first = headers[0];
  if (first?.type !== 'well-known' || first.code !== FIELD.MESSAGE_TYPE) {
    encodeFail('the first header must be X-Mms-Message-Type');
  }
  for (const h of headers) {
    if (h.type === 'application') {
      w.tokenText(h.name).textString(h.value);
    } else {
      if (h.code === FIELD.CONTENT_TYPE) encodeFail('Content-Type goes in contentType, not headers');
      if (!Number.isInteger(h.code) || h.code < 0 || h.code > 0x7f) encodeFail('header code out of range');
      w.shortInteger(h.code);
      writeValue(w, h.code, h.value);
    }
  }
}

export function encode(pdu: PduInit): Uint8Array {
  const bodySize = (pdu.body?.length ?? 0) + (pdu.parts ?? []).reduce((n, p) => n + p.data.length, 0);
  const w = new ByteWriter(256 + bodySize + 64 * (pdu.parts?.length ?? 0));
  writeHeaders(w, pdu.headers);
  if (pdu.contentType !== undefined && pdu.contentType !== null) {
    w.shortInteger(FIELD.CONTENT_TYPE);
    writeContentType(w, pdu.contentType);
    if (pdu.parts !== undefined && pdu.parts !== null) writeMultipart(w, pdu.parts);
    else if (pdu.body !== undefined && pdu.body !== null) w.bytes(pdu.body);
  } else if ((pdu.parts ?? null) !== null || (pdu.body ?? null) !== null) {
    encodeFail('a body needs a Content-Type');
  }
  return w.finish();
}

/** A decoded part as an init that re-encodes byte-identical. */
export function partAsInit(p: MmsPart): PartInit {
  return { contentType: p.contentType, headers: p.headers, data: p.data, rawHeaders: p.rawHeaders };
}

export type PartReplacer = (part: MmsPart, path: readonly number[]) => PartInit | undefined;

function mapParts(
  parts: readonly MmsPart[], replace: PartReplacer, path: number[],
): { parts: PartInit[]; changed: boolean } {
  let changed = false;
  const out = parts.map((p, i): PartInit => {
    const here = [...path, i];
    const r = replace(p, here);
    if (r !== undefined) {
      changed = true;
      return r;
    }
    if (p.children !== null) {
      const inner = mapParts(p.children, replace, here);
      if (inner.changed) {
        changed = true;
        return { ...partAsInit(p), children: inner.parts };
      }
    }
    return partAsInit(p);
  });
  return { parts: out, changed };
}

/**
 * Rebuilds a decoded multipart PDU with the parts `replace` returns an init
 * for (path = indices from the top level down into nested multiparts). Headers
 * and untouched parts are copied as carried. Returns the original octets'
 * equivalent when nothing was replaced.
 */
export function reencodeWithParts(pdu: MmsPdu, replace: PartReplacer): Uint8Array {
  if (pdu.parts === null || pdu.rawContentType === null) encodeFail('the PDU has no multipart body');
  const { parts } = mapParts(pdu.parts, replace, []);
  const w = new ByteWriter(pdu.rawHead.length + (pdu.body?.length ?? 0) + 256);
  w.bytes(pdu.rawHead).bytes(pdu.rawContentType);
  writeMultipart(w, parts);
  return w.finish();
}
