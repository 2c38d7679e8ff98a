/**
 * REMOVE_BLOCKED for MM7: the body with some leaf parts replaced by text/plain
 * parts. Everything else (envelope, boundaries, other parts, preamble) stays
 * byte-identical; the replacement keeps the part's Content-ID and
 * Content-Location so SMIL and `href` references stay valid.
 */
import type { MimePart } from './mime.js';

export interface Replacement {
  readonly part: MimePart;
  readonly text: string;
}

export function replaceParts(body: Uint8Array, replacements: readonly Replacement[]): Buffer {
  const src = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const sorted = [...replacements].sort((a, b) => a.part.start - b.part.start);
  const out: Buffer[] = [];
  let pos = 0;
  for (const { part, text } of sorted) {
    const eol = src.subarray(part.start, part.bodyStart).includes('\r\n') ? '\r\n' : '\n';
    const headers = ['Content-Type: text/plain; charset="utf-8"', 'Content-Transfer-Encoding: 8bit'];
    if (part.contentId !== null) headers.push(`Content-ID: ${part.contentId}`);
    if (part.contentLocation !== null) {
      headers.push(`Content-Location: ${part.contentLocation.replace(/(\.[^.]*)?$/, '.removed.txt')}`);
    }
    out.push(src.subarray(pos, part.start), Buffer.from(`${headers.join(eol)}${eol}${eol}${text}`, 'utf8'));
    pos = part.bodyStart + part.raw.length;
  }
  out.push(src.subarray(pos));
  return Buffer.concat(out);
}
