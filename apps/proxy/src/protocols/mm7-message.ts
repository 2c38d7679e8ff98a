/**
 * An MM7 request as one message: its SOAP envelope and its attachments, with
 * the byte offsets the proxy needs to scan every byte and to replace a part
 * again (REMOVE_BLOCKED). Throws Mm7Error (→ 2007) like the parsers it uses.
 * Only @mmsguard/mm7's public API is used: this module moves into that
 * package (src/message.ts) once its MIME hardening (soap-root.ts) has landed.
 */
import {
  Mm7Error, Mm7ErrorCode, decodedBody, leaves, normalizeCid, parseMime, parseSoap, type MimePart, type SoapRequest,
} from '@mmsguard/mm7';

export interface Mm7Attachment {
  /** The leaf MIME part; `start` is its offset in the body (the key for replaceParts). */
  readonly part: MimePart;
  /** Name for logs: the `name` parameter, else Content-Location, else the Content-ID. */
  readonly name: string | null;
}

export interface Mm7Message {
  readonly soap: SoapRequest;
  /** Every leaf part except the SOAP root, in body order. */
  readonly attachments: readonly Mm7Attachment[];
  /** Non-whitespace byte ranges no part owns (preamble, epilogue): scanned too. */
  readonly unattributed: readonly { readonly offset: number; readonly length: number }[];
}

/** The SOAP root part: the `start` parameter's Content-ID, else the first part (RFC 2387). */
export function soapRoot(root: MimePart): MimePart | null {
  const kids = root.children ?? [];
  const start = root.contentType.params['start'];
  if (start !== undefined) {
    const hit = kids.find((k) => k.contentId !== null && normalizeCid(k.contentId) === normalizeCid(start));
    if (hit !== undefined) return hit;
  }
  return kids[0] ?? null;
}

/** Parses a whole MM7 request body: `text/xml` (envelope only) or `multipart/related`. */
export function parseMm7Message(body: Uint8Array, contentType: string): Mm7Message {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'text/xml') {
    const xml = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
    return { soap: parseSoap(xml), attachments: [], unattributed: [] };
  }
  const parsed = parseMime(body, contentType);
  const root = soapRoot(parsed.root);
  if (root === null) throw new Mm7Error(Mm7ErrorCode.MIME, 'multipart/related without parts');
  const soap = parseSoap(Buffer.from(decodedBody(root)).toString('utf8'));
  const attachments = leaves(parsed.root).filter((l) => l !== root).map((part) => ({
    part,
    name: part.contentType.params['name'] ?? part.contentLocation
      ?? (part.contentId !== null ? normalizeCid(part.contentId) : null),
  }));
  return { soap, attachments, unattributed: parsed.unattributed };
}

/**
 * The TransactionID from the first bytes of a request too large to parse whole, so even the answer
 * to an oversized request echoes it. Best effort: null when the head does not show one.
 */
export function peekTransactionId(head: Uint8Array): string | null {
  const text = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1');
  const m = /<(?:[\w.-]+:)?TransactionID\b[^>]*>\s*([^<\s][^<]*?)\s*<\//.exec(text);
  return m?.[1] ?? null;
}
