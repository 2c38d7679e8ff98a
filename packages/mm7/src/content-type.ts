/**
 * RFC 2045 Content-Type values: `type/subtype; name=value; name="quoted value"`, parameter names
 * case-insensitive. `parseContentType` is the lenient reader kept for callers that only want a
 * type and parameters; the MIME walker uses `parseContentTypeStrict`, which refuses every value
 * that mainstream MIME stacks would read differently (docs/mm7-quirks.md). Neither decodes
 * RFC 2231 parameter values.
 */
import { ambiguous, clip, malformed } from './errors.js';

/** RFC 2045 value: `type/subtype` lower-cased plus its parameters. */
export interface MimeType {
  /** Lower-cased `type/subtype`. */
  readonly type: string;
  /** Lower-cased parameter names; values as given (quotes removed, escapes resolved). */
  readonly params: Readonly<Record<string, string>>;
}

export function parseContentType(value: string | undefined): MimeType {
  if (value === undefined) return { type: 'text/plain', params: {} };
  const params: Record<string, string> = {};
  let i = value.indexOf(';');
  const type = (i < 0 ? value : value.slice(0, i)).trim().toLowerCase();
  while (i >= 0 && i < value.length) {
    i++;
    const eq = value.indexOf('=', i);
    if (eq < 0) break;
    const name = value.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    while (value[j] === ' ' || value[j] === '\t') j++;
    let v = '';
    if (value[j] === '"') {
      j++;
      while (j < value.length && value[j] !== '"') {
        if (value[j] === '\\' && j + 1 < value.length) j++;
        v += value[j];
        j++;
      }
      j++;
      const semi = value.indexOf(';', j);
      i = semi;
    } else {
      const semi = value.indexOf(';', j);
      v = (semi < 0 ? value.slice(j) : value.slice(j, semi)).trim();
      i = semi;
    }
    if (name.length > 0 && !(name in params)) params[name] = v;
  }
  return { type, params };
}

/** Content-ID / cid: references compared without angle brackets, quotes or case. */
export function normalizeCid(v: string): string {
  return v.trim().replace(/^cid:/i, '').replace(/^["<]+|[">]+$/g, '').toLowerCase();
}

/** RFC 2045 token: printable US-ASCII without space and tspecials. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RFC 2046 boundary: 1..70 bchars, the last not a space. We allow up to 200 (some stacks write longer ones). */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,199}[0-9A-Za-z'()+_,\-./:=?]$/;
/** Parameters that decide how a body is split or which part is the root: read one way only. */
const STRUCTURAL = new Set(['boundary', 'start', 'type']);

function trimWsp(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** Splits at `;` outside quoted strings. */
function segments(value: string, offset: number): string[] {
  const out: string[] = [];
  let from = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ';' && !quoted) {
      out.push(value.slice(from, i));
      from = i + 1;
    }
  }
  if (quoted) throw malformed('unterminated quoted string in a Content-Type', offset);
  out.push(value.slice(from));
  return out;
}

interface ParamValue {
  readonly value: string;
  readonly quoted: boolean;
  /** The quoted string used backslash escapes, or text followed its closing quote. */
  readonly irregular: boolean;
}

function paramValue(raw: string): ParamValue {
  if (raw[0] !== '"') return { value: raw, quoted: false, irregular: false };
  let v = '';
  let escaped = false;
  let i = 1;
  for (; i < raw.length && raw[i] !== '"'; i++) {
    if (raw[i] === '\\' && i + 1 < raw.length) {
      i++;
      escaped = true;
    }
    v += raw[i];
  }
  return { value: v, quoted: true, irregular: escaped || i + 1 < raw.length };
}

/**
 * The walker's Content-Type reader. Refuses (AMBIGUOUS) what stacks read differently: duplicate
 * parameters (first-wins, last-wins or joined), RFC 2231 forms of boundary/start/type (decoded by
 * some, ignored by others), a boundary on a non-multipart type (Kannel treats any Content-Type with
 * a boundary as multipart), an unquoted boundary that is not a token or a quoted one with escapes
 * or trailing text (where it ends differs), a boundary ending in a space (Python strips it), a
 * boundary that is an RFC 2047 encoded word (decoded by some).
 * Refuses (MIME) a value that is not `token/token`.
 */
export function parseContentTypeStrict(value: string, offset = -1): MimeType {
  const segs = segments(value, offset);
  const head = trimWsp(segs[0] ?? '');
  const slash = head.indexOf('/');
  if (slash < 0 || !TOKEN.test(head.slice(0, slash)) || !TOKEN.test(head.slice(slash + 1))) {
    throw malformed('Content-Type is not type/subtype', offset);
  }
  const type = head.toLowerCase();
  const params: Record<string, string> = {};
  for (const seg of segs.slice(1)) {
    const s = trimWsp(seg);
    if (s.length === 0) continue;
    const eq = s.indexOf('=');
    const name = trimWsp(eq < 0 ? s : s.slice(0, eq)).toLowerCase();
    const base = name.replace(/\*.*$/, '');
    if (STRUCTURAL.has(base) && (eq < 0 || name !== base)) {
      throw ambiguous(`Content-Type parameter ${base} without a plain value`, offset);
    }
    if (eq < 0) continue;
    if (!TOKEN.test(name)) throw malformed('Content-Type parameter name is not a token', offset);
    if (name in params) throw ambiguous(`duplicate Content-Type parameter ${clip(name)}`, offset);
    const v = paramValue(trimWsp(s.slice(eq + 1)));
    if (name === 'boundary') checkBoundary(v, type, offset);
    params[name] = v.value;
  }
  return { type, params };
}

function checkBoundary(v: ParamValue, type: string, offset: number): void {
  if (!type.startsWith('multipart/')) {
    throw ambiguous(`boundary parameter on ${clip(type)} (Kannel splits it as multipart)`, offset);
  }
  if (v.quoted ? v.irregular : !TOKEN.test(v.value)) {
    throw ambiguous('boundary parameter whose end stacks find differently', offset);
  }
  if (v.value.endsWith(' ')) {
    throw ambiguous('boundary ending in a space (some stacks strip it)', offset);
  }
  if (!BOUNDARY.test(v.value)) throw malformed('boundary not allowed by RFC 2046', offset);
  // Every character of =?utf-8?q?x?= is a bchar, but Thunderbird and javax.mail (decodeparameters)
  // decode RFC 2047 words in parameters, and would look for a different delimiter.
  if (/=\?[^?]*\?[bq]\?[^?]*\?=/i.test(v.value)) {
    throw ambiguous('boundary written as an RFC 2047 encoded word', offset);
  }
}

/**
 * A Content-Disposition's `filename`, read leniently (a name only labels a part; it never changes
 * how bytes are split or decoded). RFC 2231 `filename*` is not decoded.
 */
export function dispositionFilename(value: string | undefined): string | null {
  if (value === undefined) return null;
  return parseContentType(`x/x;${value.slice(value.indexOf(';') + 1)}`).params['filename'] ?? null;
}
