/**
 * Small models of how other MIME stacks split a body, for differential tests: what each one would
 * hand a receiver as leaves. Not parsers to use: they model the reading rules that matter for
 * hiding a part (where lines end, where delimiters are recognised, which header wins), nothing more.
 *
 * - kannel: gwlib/mime.c as used by Mbuni's MM7. Splits at every occurrence of `--boundary`
 *   (anywhere, not only at line starts); a part is the text between two occurrences minus one line
 *   break at each end; lines end at LF (trailing CRs stripped); a Content-Type with a boundary
 *   parameter is a multipart whatever its type; the last part needs a following occurrence.
 * - python: the email package's feedparser. Lines end at CRLF, LF or a bare CR; a delimiter is a
 *   whole line `--boundary(--)?[ \t]*`; the boundary is right-stripped; a header block ends at the
 *   first line that is neither a field (`name:` with no whitespace in the name) nor a continuation;
 *   the first of repeated headers wins; children of multipart/digest default to message/rfc822.
 * - strict: RFC 2046 read by a CRLF-only stack: delimiters only after CRLF (or at the start),
 *   header lines only end at CRLF, the last of repeated headers wins, no close delimiter → fails.
 */

export interface RefLeaf {
  readonly type: string;
  readonly cte: string | null;
  readonly body: Buffer;
}

const latin1 = (b: Buffer): string => b.toString('latin1');

function param(value: string, name: string): string | null {
  const re = new RegExp(`;\\s*${name}\\s*=\\s*("([^"]*)"|[^;]*)`, 'i');
  const m = re.exec(value);
  if (m === null) return null;
  return m[2] ?? (m[1] ?? '').trim();
}

// ---------------------------------------------------------------- kannel
export function kannelRead(body: Buffer, contentType: string): RefLeaf[] | null {
  const out: RefLeaf[] = [];
  return kannelEntity(body, [['content-type', contentType]], out, 0) ? out : null;
}

function kannelEntity(data: Buffer, given: [string, string][] | null, out: RefLeaf[], depth: number): boolean {
  if (depth > 10) return false;
  let pos = 0;
  let headers = given;
  if (headers === null) {
    headers = [];
    for (;;) {
      const nl = data.indexOf(0x0a, pos);
      if (nl < 0) return false;
      const line = latin1(data.subarray(pos, nl)).replace(/[\r\n]+$/, '');
      pos = nl + 1;
      if (line.length === 0) break;
      const prev = headers[headers.length - 1];
      if (/^\s/.test(line) && prev !== undefined) prev[1] += line;
      else {
        const c = line.indexOf(':');
        if (c < 0) headers.push([line.trim().toLowerCase(), '']);
        else headers.push([line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim()]);
      }
    }
  }
  const ct = headers.find(([n]) => n === 'content-type')?.[1] ?? null;
  const boundary = ct === null ? null : param(ct, 'boundary');
  if (boundary === null) {
    const cte = headers.find(([n]) => n === 'content-transfer-encoding')?.[1].toLowerCase() ?? null;
    out.push({ type: (ct ?? 'text/plain').split(';')[0]!.trim().toLowerCase(), cte, body: data.subarray(pos) });
    return true;
  }
  const sep = Buffer.from(`--${boundary}`, 'latin1');
  let s = data.indexOf(sep, pos);
  while (s >= 0) {
    const e = data.indexOf(sep, s + sep.length);
    if (e < 0) break;
    let block = data.subarray(s + sep.length, e);
    const two = block[0] === 0x0d;
    block = block.subarray(two ? 2 : 1, Math.max(two ? 2 : 1, block.length - (two ? 2 : 1)));
    // mime_octstr_to_entity() returning NULL drops that block; the loop goes on.
    const mark = out.length;
    if (!kannelEntity(block, null, out, depth + 1)) out.length = mark;
    s = e;
  }
  return true;
}

// ---------------------------------------------------------------- python
interface Line { readonly text: string; readonly start: number; readonly end: number; readonly eol: number }

function pyLines(data: Buffer): Line[] {
  const s = latin1(data);
  const re = /\r\n|\r|\n/g;
  const out: Line[] = [];
  let from = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    out.push({ text: s.slice(from, m.index), start: from, end: m.index + m[0].length, eol: m.index });
    from = m.index + m[0].length;
  }
  if (from < s.length) out.push({ text: s.slice(from), start: from, end: s.length, eol: s.length });
  return out;
}

export function pythonRead(body: Buffer, contentType: string): RefLeaf[] | null {
  const out: RefLeaf[] = [];
  pyEntity(body, 0, body.length, [['content-type', contentType]], 'text/plain', [], out, 0);
  return out;
}

function pyEntity(
  data: Buffer, from: number, to: number, given: [string, string][] | null, defType: string, stack: string[],
  out: RefLeaf[], depth: number,
): void {
  const lines = pyLines(data.subarray(from, to));
  let i = 0;
  let headers = given;
  if (headers === null) {
    headers = [];
    for (; i < lines.length; i++) {
      const t = lines[i]!.text;
      if (t.length === 0) { i++; break; }
      const prev = headers[headers.length - 1];
      if (/^[ \t]/.test(t) && prev !== undefined) prev[1] += t;
      else if (/^[\x21-\x39\x3b-\x7e]+:/.test(t)) {
        const c = t.indexOf(':');
        headers.push([t.slice(0, c).toLowerCase(), t.slice(c + 1).trim()]);
      } else break;
    }
  }
  const bodyStart = from + (lines[i]?.start ?? to - from);
  const ctv = headers.find(([n]) => n === 'content-type')?.[1];
  let type = ctv === undefined ? defType : ctv.split(';')[0]!.trim().toLowerCase();
  if (type.split('/').length !== 2) type = 'text/plain';
  const multi = type.startsWith('multipart/') && ctv !== undefined;
  const boundary = multi ? param(ctv, 'boundary')?.trimEnd() ?? null : null;
  const cte = headers.find(([n]) => n === 'content-transfer-encoding')?.[1].toLowerCase() ?? null;
  if (boundary === null || depth > 10) {
    out.push({ type, cte, body: data.subarray(bodyStart, to) });
    return;
  }
  const all = [...stack, boundary];
  const isDelim = (t: string, b: string): boolean =>
    t.startsWith(`--${b}`) && /^(--)?[ \t]*$/.test(t.slice(b.length + 2));
  let partStart = -1;
  let prevEol = -1;
  const childType = type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    if (all.slice(0, -1).some((b) => isDelim(l.text, b))) break;
    if (!isDelim(l.text, boundary)) {
      prevEol = l.eol;
      continue;
    }
    if (partStart >= 0) {
      pyEntity(data, from + partStart, from + Math.max(partStart, prevEol), null, childType, all, out, depth + 1);
    }
    partStart = -1;
    if (l.text.slice(boundary.length + 2).startsWith('--')) return;
    partStart = l.end;
    prevEol = l.end;
  }
  if (partStart >= 0) pyEntity(data, from + partStart, to, null, childType, all, out, depth + 1);
}

// ---------------------------------------------------------------- strict
export function strictRead(body: Buffer, contentType: string): RefLeaf[] | null {
  const out: RefLeaf[] = [];
  return strictEntity(body, 0, body.length, [['content-type', contentType]], out, 0) ? out : null;
}

function strictEntity(
  data: Buffer, from: number, to: number, given: [string, string][] | null, out: RefLeaf[], depth: number,
): boolean {
  let bodyStart = from;
  let headers = given;
  if (headers === null) {
    const blank = data.subarray(from, to).indexOf('\r\n\r\n');
    const empty = data.subarray(from, from + 2).equals(Buffer.from('\r\n'));
    if (!empty && blank < 0) return false;
    const text = empty ? '' : latin1(data.subarray(from, from + blank));
    bodyStart = empty ? from + 2 : from + blank + 4;
    headers = [];
    for (const t of text.split('\r\n')) {
      if (t.length === 0) continue;
      const prev = headers[headers.length - 1];
      if (/^[ \t]/.test(t) && prev !== undefined) prev[1] += t;
      else {
        const c = t.indexOf(':');
        if (c <= 0) return false;
        headers.push([t.slice(0, c).trim().toLowerCase(), t.slice(c + 1).trim()]);
      }
    }
  }
  const last = (n: string): string | undefined => headers.filter(([k]) => k === n).pop()?.[1];
  const ctv = last('content-type');
  const type = (ctv ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
  const cte = last('content-transfer-encoding')?.toLowerCase() ?? null;
  if (!type.startsWith('multipart/')) {
    out.push({ type, cte, body: data.subarray(bodyStart, to) });
    return true;
  }
  const boundary = ctv === undefined ? null : param(ctv, 'boundary');
  if (boundary === null || depth > 10) return false;
  const open = Buffer.from(`--${boundary}`, 'latin1');
  const delim = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const region = data.subarray(bodyStart, to);
  let at = region.subarray(0, open.length).equals(open) ? -2 : region.indexOf(delim);
  let partStart = -1;
  while (at !== -1) {
    const after = at + delim.length;
    if (partStart >= 0 && !strictEntity(data, bodyStart + partStart, bodyStart + at, null, out, depth + 1)) {
      return false;
    }
    if (region[after] === 0x2d && region[after + 1] === 0x2d) return true;
    let q = after;
    while (region[q] === 0x20 || region[q] === 0x09) q++;
    if (region[q] !== 0x0d || region[q + 1] !== 0x0a) return false;
    partStart = q + 2;
    at = region.indexOf(delim, partStart);
    if (at < 0) return false;
  }
  return false;
}
