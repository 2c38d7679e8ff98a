/**
 * Line breaks and header blocks of a MIME entity, read so that every mainstream stack agrees.
 *
 * Stacks end lines differently: strict ones only at CRLF (RFC 2046), Kannel and mimepull also at a
 * bare LF, Python's email package also at a bare CR. Read alone, each convention is harmless; mixed
 * in one message, each stack sees different lines, so different delimiters and headers. So one
 * buffer has one convention, the one its first line break uses (`LineBreak`), and structural text
 * (delimiter lines, header blocks) using any other (bare CR included) is refused as ambiguous.
 * Bodies may hold any bytes.
 *
 * This module does not interpret header values; mime.ts does.
 */
import { ambiguous, malformed, overLimit } from './errors.js';

export type LineBreak = '\r\n' | '\n';

/** The convention of a buffer: that of its first LF (CRLF when none; a bare CR is then refused where it matters). */
export function lineBreakOf(buf: Buffer, from = 0, to = buf.length): LineBreak {
  const lf = buf.indexOf(0x0a, from);
  if (lf < 0 || lf >= to) return '\r\n';
  return lf > from && buf[lf - 1] === 0x0d ? '\r\n' : '\n';
}

/** Headers whose repetition changes what a part is: stacks take the first, the last, or join them. */
const SINGLE = new Set([
  'content-type', 'content-transfer-encoding', 'content-id', 'content-location', 'content-disposition',
]);
/** RFC 5322 field name: printable US-ASCII except colon (no whitespace before the colon). */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

export interface HeaderBlock {
  /** Fields in order, names lower-cased, values unfolded (RFC 5322: only the line breaks removed) and trimmed. */
  readonly headers: (readonly [string, string])[];
  /** Where the body starts (after the blank line). */
  readonly bodyStart: number;
}

/** Offset of the first byte in [from, to) that breaks convention `br` (a bare CR, or the other line break), or -1. */
export function offLineBreak(buf: Buffer, from: number, to: number, br: LineBreak): number {
  for (let i = from; i < to; i++) {
    const c = buf[i];
    if (br === '\n') {
      if (c === 0x0d) return i;
    } else if (c === 0x0d ? buf[i + 1] !== 0x0a || i + 1 >= to : c === 0x0a && (i === from || buf[i - 1] !== 0x0d)) {
      return i;
    }
  }
  return -1;
}

/**
 * Reads the header block starting at `start` of a part that ends at `end`. The blank line's second
 * break may be the one before the next delimiter (`...\r\n\r\n--b`), as lenient stacks read it.
 * Refuses: no blank line (MIME), a header block over `maxBytes` (LIMIT), and as AMBIGUOUS a bare
 * CR or other line break, a whitespace-only line (a blank line to some stacks, a continuation to
 * others), a field name with whitespace or controls (Python ends the headers there), and a
 * repeated Content-Type, Content-Transfer-Encoding, Content-ID, Content-Location or
 * Content-Disposition, even with equal values (a stack that joins repeats reads neither value).
 */
export function readHeaderBlock(buf: Buffer, start: number, end: number, br: LineBreak, maxBytes: number): HeaderBlock {
  const n = br.length;
  let blockEnd: number;
  if (buf.toString('latin1', start, start + n) === br) {
    // No headers. The blank line may be the break before the next delimiter (an empty part).
    blockEnd = start;
  } else {
    // Search only as far as a header block may reach: the work is bounded by maxBytes too.
    const limit = Math.min(end + n, start + maxBytes + 2 * n);
    const rel = buf.subarray(start, limit).indexOf(br + br, 0, 'latin1');
    if (rel < 0) {
      if (limit < end + n) throw overLimit(`part header block over ${maxBytes} bytes`, start);
      const bad = offLineBreak(buf, start, end, br);
      if (bad >= 0) throw ambiguous('bare CR or mixed line breaks in part headers', bad);
      throw malformed('part without the blank line that ends its headers', start);
    }
    blockEnd = start + rel + n;
  }
  if (blockEnd - start > maxBytes) throw overLimit(`part header block over ${maxBytes} bytes`, start);
  const bad = offLineBreak(buf, start, blockEnd, br);
  if (bad >= 0) throw ambiguous('bare CR or mixed line breaks in part headers', bad);
  const headers = parseFields(buf.toString('latin1', start, blockEnd), br, start);
  const seen = new Set<string>();
  for (const [name] of headers) {
    if (SINGLE.has(name) && seen.has(name)) {
      throw ambiguous(`${name} header given more than once in a part`, start);
    }
    seen.add(name);
  }
  return { headers, bodyStart: Math.min(blockEnd + n, end) };
}

function parseFields(text: string, br: LineBreak, offset: number): [string, string][] {
  const out: [string, string][] = [];
  const lines = text.split(br);
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (/^[ \t]*$/.test(line)) {
      throw ambiguous('whitespace-only line in part headers', offset);
    }
    if (line[0] === ' ' || line[0] === '\t') {
      const last = out[out.length - 1];
      if (last === undefined) throw malformed('continuation line before any header', offset);
      last[1] += line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed('part header line without a field name', offset);
    const name = line.slice(0, colon);
    if (!FIELD_NAME.test(name)) {
      throw ambiguous('header field name with whitespace or control characters', offset);
    }
    out.push([name.toLowerCase(), line.slice(colon + 1)]);
  }
  for (const h of out) h[1] = h[1].replace(/^[ \t]+|[ \t]+$/g, '');
  return out;
}
