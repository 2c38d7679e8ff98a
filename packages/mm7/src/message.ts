/**
 * An MM7 request as one message: its SOAP envelope, the attachments, and every scan target with
 * the byte offsets the proxy needs to scan every byte and to replace a part again (REMOVE_BLOCKED).
 * Which part holds the envelope (RFC 2387 `start`, soapRoot) and where parts begin are byte
 * layout, so they are decided here, not in the proxy. Throws Mm7Error (→ 2007) like the parsers it
 * uses; content it cannot read is reported on `targets`, not thrown.
 */
import { normalizeCid } from './content-type.js';
import { malformed } from './errors.js';
import { contentLeaves, type ContentLeaf } from './content-leaves.js';
import { decodedBody, leaves, parseMime, type MimeLimits, type MimePart } from './mime.js';
import { soapRoot } from './soap-root.js';
import { parseSoap, type SoapRequest } from './soap.js';

export interface Mm7Attachment {
  /** The leaf MIME part; `start` is its offset in the body (the key for replaceParts). */
  readonly part: MimePart;
  /** Name for logs: the `name` parameter, else Content-Location, else the Content-ID. */
  readonly name: string | null;
}

export interface Mm7Message {
  readonly soap: SoapRequest;
  /** The SOAP part (null for a text/xml request). */
  readonly root: MimePart | null;
  /** Every leaf part of the MM7 body except the SOAP root, in body order (message/* parts not opened). */
  readonly attachments: readonly Mm7Attachment[];
  /** Non-whitespace byte ranges no part owns (preamble, epilogue): scanned too. */
  readonly unattributed: readonly { readonly offset: number; readonly length: number }[];
  /**
   * Every scan target (contentLeaves): the SOAP root, every leaf with its decoded form, uuencoded
   * files, the leaves inside message/* attachments, unattributed bytes and whole parts, each with
   * its `carrier` for replaceParts and an `unscannable` report when it cannot be read. Scanning
   * these is the complete job; `attachments` and `unattributed` are a subset kept for callers.
   */
  readonly targets: readonly ContentLeaf[];
}

/** Parses a whole MM7 request body: `text/xml` (envelope only) or `multipart/related`. */
export function parseMm7Message(body: Uint8Array, contentType: string, limits?: MimeLimits): Mm7Message {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'text/xml') {
    const xml = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
    return { soap: parseSoap(xml), root: null, attachments: [], unattributed: [], targets: [] };
  }
  const parsed = parseMime(body, contentType, limits);
  const root = soapRoot(parsed.root);
  if (root === null) throw malformed('multipart/related without parts');
  const soap = parseSoap(Buffer.from(decodedBody(root)).toString('utf8'));
  const attachments = leaves(parsed.root).filter((l) => l !== root).map((part) => ({
    part,
    name: part.contentType.params['name'] ?? part.contentLocation
      ?? (part.contentId !== null ? normalizeCid(part.contentId) : null),
  }));
  return { soap, root, attachments, unattributed: parsed.unattributed, targets: contentLeaves(parsed, limits) };
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
