/** Test bodies: well-formed MM7-like multiparts in either line-break convention, and the differential oracle. */
import { expect } from 'vitest';
import { Mm7Error, contentLeaves, decodeQuotedPrintable, parseMime, type ContentLeaf } from '../src/index.js';
import { kannelRead, pythonRead, strictRead, type RefLeaf } from './readers.js';

export const B = 'b0und-x';
export const CT = `multipart/related; boundary="${B}"; type="text/xml"`;
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

export interface Part {
  readonly headers: readonly string[];
  readonly body: string | Buffer;
}

/** A multipart body with one delimiter line per part and a close delimiter, in convention `br`. */
export function multipart(parts: readonly Part[], br = '\r\n', boundary = B, preamble = ''): Buffer {
  const chunks: Buffer[] = [Buffer.from(preamble, 'latin1')];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}${br}${p.headers.map((h) => h + br).join('')}${br}`, 'latin1'));
    chunks.push(typeof p.body === 'string' ? Buffer.from(p.body, 'latin1') : p.body, Buffer.from(br, 'latin1'));
  }
  chunks.push(Buffer.from(`--${boundary}--${br}`, 'latin1'));
  return Buffer.concat(chunks);
}

export const SOAP: Part = { headers: ['Content-Type: text/xml', 'Content-ID: <soap>'], body: '<Envelope/>' };

export function b64(s: string | Buffer): string {
  return Buffer.from(typeof s === 'string' ? Buffer.from(s, 'latin1') : s).toString('base64');
}

/** The code parseMime throws, or null when it parses. */
export function refusal(body: Buffer, ct = CT): string | null {
  try {
    parseMime(body, ct);
    return null;
  } catch (e) {
    if (e instanceof Mm7Error) return e.code;
    throw e;
  }
}

const norm = (b: Uint8Array): string => Buffer.from(b).toString('latin1').replace(/[\r\n]+$/, '');

/** What a receiver gets from a leaf it reads with transfer encoding `cte`. */
function delivered(cte: string | null, body: Buffer): Buffer {
  const c = cte?.trim().toLowerCase() ?? null;
  if (c === 'base64') return Buffer.from(body.toString('latin1'), 'base64');
  if (c === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

/** Every byte string any scan would see: raw and decoded of every leaf. */
export function scanned(ls: readonly ContentLeaf[]): Buffer[] {
  return ls.flatMap((l) => (l.decoded === null ? [Buffer.from(l.raw)] : [Buffer.from(l.raw), Buffer.from(l.decoded)]));
}

const READERS: readonly [string, (b: Buffer, ct: string) => RefLeaf[] | null][] = [
  ['kannel', kannelRead], ['python', pythonRead], ['strict', strictRead],
];

/**
 * The differential oracle: either we refuse the body, or every leaf that each modelled stack would
 * hand a receiver (decoded as that stack reads its transfer encoding) is among the byte strings we
 * scan (raw and decoded leaves, unattributed bytes). Returns 'refused' or 'agreed'.
 */
export function noHiddenPart(body: Buffer, ct = CT): 'refused' | 'agreed' {
  let ours: ContentLeaf[];
  try {
    ours = contentLeaves(parseMime(body, ct));
  } catch (e) {
    if (e instanceof Mm7Error) return 'refused';
    throw e;
  }
  const have = new Set(scanned(ours).map(norm));
  for (const [name, read] of READERS) {
    for (const t of read(body, ct) ?? []) {
      const got = norm(delivered(t.cte, t.body));
      expect(have.has(got), `${name} hands over bytes we do not scan: ${JSON.stringify(got)}`).toBe(true);
    }
  }
  return 'agreed';
}
