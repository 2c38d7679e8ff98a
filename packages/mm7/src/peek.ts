/**
 * The SOAP envelope of a request too large to buffer, read from its first bytes (the proxy's oversize
 * path logs who sent it to whom before passing it on unscanned). It answers only what parseMm7Message
 * would answer for the whole body: the SOAP part must be the first part, complete in the head, and the
 * one `start` names (or `start` absent); then it is parsed exactly as parseMm7Message parses it.
 * Anything else — the envelope cut by the head's end, `start` naming a part not in view, text/xml,
 * a head the MIME walker finds ambiguous — gives null, never a guess. It does not scan.
 */
import { normalizeCid, parseContentTypeStrict } from './content-type.js';
import { Mm7Error } from './errors.js';
import { lineBreakOf } from './headers.js';
import { parseMime } from './mime.js';
import { parseSoap, type SoapRequest } from './soap.js';
import { decodedBody } from './transfer-encoding.js';

/**
 * Bytes of a head looked at, whatever the caller buffered. A SOAP part is a few KiB; the bound keeps a
 * head that is all attachment (or a huge envelope) from costing more than one small MIME walk.
 */
export const MAX_PEEK_BYTES = 64 * 1024;

/**
 * The envelope of the request whose body starts with `head` (Content-Type `contentType`), when the head
 * holds the whole SOAP part; else null. Never throws on any bytes: what the walker or the XML parser
 * refuses is null.
 */
export function peekEnvelope(head: Uint8Array, contentType: string): SoapRequest | null {
  try {
    return peek(Buffer.from(head.buffer, head.byteOffset, Math.min(head.byteLength, MAX_PEEK_BYTES)), contentType);
  } catch (e) {
    if (e instanceof Mm7Error) return null;
    throw e;
  }
}

function peek(view: Buffer, contentType: string): SoapRequest | null {
  const ct = parseContentTypeStrict(contentType);
  const boundary = ct.params['boundary'];
  if (ct.type !== 'multipart/related' || boundary === undefined) return null;
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  const first = view.indexOf(delim);
  // The first part ends where the next occurrence begins (overlapping ones included, as the walker counts).
  const next = first < 0 ? -1 : view.indexOf(delim, first + 1);
  if (next < 0) return null;
  // That occurrence made a close delimiter: the walker then checks every delimiter line up to it as it
  // would in the whole body, and the first part ends exactly where it would there.
  const br = lineBreakOf(view);
  const cut = Buffer.concat([view.subarray(0, next + delim.length), Buffer.from(`--${br}`, 'latin1')]);
  const parts = parseMime(cut, contentType).root.children ?? [];
  const part = parts[0];
  if (parts.length !== 1 || part === undefined) return null;
  // soapRoot: the part `start` names, else the first. A `start` not naming the first names a part not in view.
  const start = ct.params['start'];
  if (start !== undefined && (part.contentId === null || normalizeCid(part.contentId) !== normalizeCid(start))) {
    return null;
  }
  return parseSoap(Buffer.from(decodedBody(part)).toString('utf8'));
}
