/**
 * Ambiguous MIME is refused (issue 14 class 5): every way we know for a body to split or read
 * differently in Kannel, Python's email package or a strict CRLF stack than in our walker is
 * refused with MMS_ERR_MM7_AMBIGUOUS (→ 2007), and the differential oracle (bodies.ts) checks the
 * class: whatever we accept, every modelled stack's leaves are among ours.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Mm7ErrorCode, contentLeaves, parseMime, soapRoot } from '../src/index.js';
import { B, CT, EICAR, SOAP, b64, multipart, noHiddenPart, refusal, type Part } from './bodies.js';
import { kannelRead, pythonRead, strictRead } from './readers.js';

const AMBIGUOUS = Mm7ErrorCode.AMBIGUOUS;
const eicarPart = (br = '\r\n'): string => `Content-Type: application/octet-stream${br}${br}${EICAR}`;
const TXT: Part = { headers: ['Content-Type: text/plain'], body: 'hello' };

/** Which modelled stacks hand a receiver a leaf holding `needle` (shows a refusal is needed). */
function seenBy(body: Buffer, needle: string, ct = CT): string[] {
  const readers = { kannel: kannelRead, python: pythonRead, strict: strictRead };
  return Object.entries(readers)
    .filter(([, read]) => (read(body, ct) ?? []).some((l) => l.body.includes(needle)))
    .map(([n]) => n);
}

function leafHolding(body: Buffer, needle: string, ct = CT): boolean {
  return contentLeaves(parseMime(body, ct)).some((l) => Buffer.from(l.raw).toString('latin1') === needle);
}

describe('line breaks around delimiters', () => {
  it('refuses a bare CR before a delimiter: CR-splitting stacks see a part we would not', () => {
    const hidden = `tail\r--${B}\r\n${eicarPart()}`;
    const body = multipart([SOAP, { headers: ['Content-Type: text/plain'], body: hidden }]);
    expect(seenBy(body, EICAR)).toContain('python');
    expect(refusal(body)).toBe(AMBIGUOUS);
    const lfPart = { headers: ['Content-Type: text/plain'], body: `tail\r--${B}\n${eicarPart('\n')}` };
    const lf = multipart([SOAP, lfPart], '\n');
    expect(refusal(lf)).toBe(AMBIGUOUS);
  });

  it('refuses a delimiter after a bare LF in a CRLF body (strict stacks read on, lenient ones split)', () => {
    const body = multipart([SOAP, {
      headers: ['Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64'],
      body: `${b64('abc')}\n--${B}\r\n${eicarPart()}` }]);
    expect(seenBy(body, EICAR)).toEqual(expect.arrayContaining(['kannel', 'python']));
    expect(refusal(body)).toBe(AMBIGUOUS);
  });

  it('refuses a CRLF delimiter in an LF body (strict stacks see only those)', () => {
    const mixed = { headers: ['Content-Type: text/plain'], body: `x\r\n--${B}\n${eicarPart('\n')}` };
    const body = multipart([SOAP, TXT, mixed], '\n');
    expect(refusal(body)).toBe(AMBIGUOUS);
  });

  it('refuses a body whose lines end in CR only', () => {
    const body = Buffer.from(multipart([SOAP, TXT]).toString('latin1').replace(/\r\n/g, '\r'), 'latin1');
    expect(refusal(body)).toBe(AMBIGUOUS);
  });

  it('accepts an LF-only body, reported as a quirk', () => {
    const parsed = parseMime(multipart([SOAP, TXT], '\n'), CT);
    expect(parsed.root.children?.length).toBe(2);
    expect(parsed.issues.map((i) => i.quirk)).toContain('LF-only line breaks');
  });
});

describe('boundary text that is not a clean delimiter line', () => {
  it('refuses the boundary inside a line (Kannel splits at any occurrence)', () => {
    const body = multipart([SOAP, { headers: ['Content-Type: text/plain'], body: `see --${B}\r\n${eicarPart()}` }]);
    expect(seenBy(body, EICAR)).toContain('kannel');
    expect(refusal(body)).toBe(AMBIGUOUS);
  });

  it('refuses text after a delimiter, and after a close delimiter', () => {
    const text = multipart([SOAP, TXT]).toString('latin1');
    const edit = (from: string, to: string): Buffer => Buffer.from(text.replace(from, to), 'latin1');
    const open = edit(`--${B}\r\nContent-Type: text/plain`, `--${B} x\r\nContent-Type: text/plain`);
    expect(refusal(open)).toBe(AMBIGUOUS);
    const close = edit(`--${B}--`, `--${B}--x`);
    expect(refusal(close)).toBe(AMBIGUOUS);
  });

  it('accepts spaces and tabs after a delimiter (transport padding), reported', () => {
    const text = multipart([SOAP, TXT]).toString('latin1');
    const body = Buffer.from(text.replaceAll(`--${B}\r\n`, `--${B} \t\r\n`), 'latin1');
    const parsed = parseMime(body, CT);
    expect(parsed.root.children?.length).toBe(2);
    expect(parsed.issues.map((i) => i.quirk)).toContain('whitespace after delimiter');
    expect(noHiddenPart(body)).toBe('agreed');
  });

  it('refuses a delimiter line in the epilogue (stacks that ignore the close delimiter split on)', () => {
    const body = Buffer.concat([multipart([SOAP, TXT]), Buffer.from(`--${B}\r\n${eicarPart()}\r\n--${B}--\r\n`)]);
    expect(seenBy(body, EICAR)).toContain('kannel');
    expect(refusal(body)).toBe(AMBIGUOUS);
  });

  it('refuses delimiter-like text in the preamble', () => {
    expect(refusal(multipart([SOAP, TXT], '\r\n', B, `x--${B}\r\n`))).toBe(AMBIGUOUS);
    expect(refusal(multipart([SOAP, TXT], '\r\n', B, `--${B}x\r\n`))).toBe(AMBIGUOUS);
  });

  it('refuses the boundary at a line start inside base64 without its line break convention', () => {
    const body = multipart([SOAP, { headers: ['Content-Type: image/gif', 'Content-Transfer-Encoding: base64'],
      body: `R0lGODlh\r\r--${B}\r\n${eicarPart()}` }]);
    expect(refusal(body)).toBe(AMBIGUOUS);
  });

  it('accepts an empty part whose blank line is the break before the next delimiter', () => {
    const body = Buffer.from(`--${B}\r\nContent-Type: text/xml\r\n\r\n<x/>\r\n--${B}\r\n\r\n--${B}--\r\n`);
    const ls = contentLeaves(parseMime(body, CT));
    expect(ls.map((l) => l.raw.length)).toEqual([4, 0]);
  });
});

describe('nested boundaries', () => {
  const nested = (inner: string): Buffer => multipart([SOAP, {
    headers: [`Content-Type: multipart/mixed; boundary="${inner}"`],
    body: multipart([{ headers: ['Content-Type: text/plain'], body: EICAR }], '\r\n', inner),
  }]);

  it('refuses a nested boundary equal to the enclosing one', () => {
    expect(refusal(nested(B))).not.toBeNull();
  });

  it('refuses a nested boundary that is a prefix of the enclosing one, or has it as a prefix', () => {
    expect(refusal(nested(B.slice(0, 4)))).toBe(AMBIGUOUS);
    expect(refusal(nested(`${B}-inner`))).toBe(AMBIGUOUS);
  });

  it('walks an unrelated nested boundary, every modelled stack agreeing', () => {
    const body = nested('other');
    expect(leafHolding(body, EICAR)).toBe(true);
    expect(noHiddenPart(body)).toBe('agreed');
  });
});

describe('Content-Type parameters', () => {
  const body = multipart([SOAP, TXT]);
  it('refuses duplicate boundary parameters (first-wins vs last-wins)', () => {
    expect(refusal(body, `multipart/related; boundary="${B}"; boundary="other"`)).toBe(AMBIGUOUS);
    expect(refusal(body, `multipart/related; boundary="${B}"; BOUNDARY="${B}"`)).toBe(AMBIGUOUS);
  });

  it('refuses any duplicate parameter, and RFC 2231 forms of boundary, start and type', () => {
    expect(refusal(body, `${CT}; start="<a>"; start="<b>"`)).toBe(AMBIGUOUS);
    expect(refusal(body, `${CT}; boundary*=''${B}`)).toBe(AMBIGUOUS);
    expect(refusal(body, `${CT}; start*0="<a>"`)).toBe(AMBIGUOUS);
    expect(refusal(body, `${CT}; boundary`)).toBe(AMBIGUOUS);
  });

  it('refuses boundaries whose extent stacks read differently', () => {
    expect(refusal(body, 'multipart/related; boundary=b0und:x')).toBe(AMBIGUOUS);
    expect(refusal(body, `multipart/related; boundary="${B} "`)).toBe(AMBIGUOUS);
    expect(refusal(body, `multipart/related; boundary="b0und\\-x"`)).toBe(AMBIGUOUS);
    expect(refusal(body, `multipart/related; boundary="${B}"x`)).toBe(AMBIGUOUS);
    expect(refusal(body, 'multipart/related; boundary="a\tb"')).toBe(Mm7ErrorCode.MIME);
    expect(refusal(body, 'multipart/related; boundary="=?utf-8?q?b0und-x?="')).toBe(AMBIGUOUS);
  });

  it('refuses a boundary parameter on a non-multipart part (Kannel splits it as multipart)', () => {
    const inner = multipart([{ headers: ['Content-Type: text/plain'], body: EICAR }], '\r\n', 'in');
    const headers = ['Content-Type: image/jpeg; boundary=in', 'Content-Transfer-Encoding: base64'];
    const b = multipart([SOAP, { headers, body: inner }]);
    expect(seenBy(b, EICAR)).toContain('kannel');
    expect(refusal(b)).toBe(AMBIGUOUS);
  });

  it('refuses a Content-Type that is not type/subtype', () => {
    const spaced = multipart([SOAP, { headers: ['Content-Type: multipart /mixed; boundary=x'], body: '' }]);
    expect(refusal(spaced)).toBe(Mm7ErrorCode.MIME);
    expect(refusal(multipart([SOAP, { headers: ['Content-Type: text'], body: '' }]))).toBe(Mm7ErrorCode.MIME);
  });

  it('reads parameters with quoted semicolons, odd case and empty segments as everyone does', () => {
    const ct = `Multipart/Related; Type="text/xml;x"; ; boundary=${B};`;
    expect(parseMime(body, ct).root.contentType)
      .toEqual({ type: 'multipart/related', params: { type: 'text/xml;x', boundary: B } });
  });
});

describe('part headers', () => {
  const with2 = (headers: string[]): Buffer => multipart([SOAP, { headers, body: b64(EICAR) }]);

  it('refuses repeated Content-Type or Content-Transfer-Encoding, equal or not', () => {
    expect(refusal(with2(['Content-Type: text/plain', 'Content-Type: image/gif']))).toBe(AMBIGUOUS);
    expect(refusal(with2(['Content-Type: text/plain', 'Content-Type: text/plain']))).toBe(AMBIGUOUS);
    const cte = with2(['Content-Transfer-Encoding: 7bit', 'Content-Transfer-Encoding: base64']);
    expect(pythonRead(cte, CT)?.[1]?.cte).toBe('7bit');
    expect(strictRead(cte, CT)?.[1]?.cte).toBe('base64');
    expect(refusal(cte)).toBe(AMBIGUOUS);
    expect(refusal(with2(['Content-Transfer-Encoding: base64', 'content-transfer-encoding: BASE64']))).toBe(AMBIGUOUS);
    expect(refusal(with2(['Content-ID: <a>', 'Content-ID: <b>']))).toBe(AMBIGUOUS);
  });

  it('refuses field names with whitespace (Python ends the headers there)', () => {
    const b = with2(['Content-Type: text/plain', 'Content-Transfer-Encoding : base64']);
    expect(refusal(b)).toBe(AMBIGUOUS);
  });

  it('refuses whitespace-only lines, bare CR and bare LF in a CRLF header block', () => {
    expect(refusal(with2(['Content-Type: text/plain', ' ', 'Content-Transfer-Encoding: base64']))).toBe(AMBIGUOUS);
    expect(refusal(with2(['Content-Type: text/plain\rContent-Transfer-Encoding: base64']))).toBe(AMBIGUOUS);
    expect(refusal(with2(['Content-Type: text/plain\nContent-Transfer-Encoding: base64']))).toBe(AMBIGUOUS);
    expect(refusal(with2(['Content-Type: text/plain\n']))).toBe(AMBIGUOUS);
  });

  it('refuses a Content-Transfer-Encoding that is not one token', () => {
    expect(refusal(with2(['Content-Transfer-Encoding: base64 (really)']))).toBe(AMBIGUOUS);
    expect(refusal(with2(['Content-Transfer-Encoding:']))).toBe(AMBIGUOUS);
  });

  it('unfolds as RFC 5322 does (the whitespace of a continuation line is kept)', () => {
    const b = multipart([SOAP, { headers: ['Content-Type: text/plain;', '\t name="a  b"'], body: 'x' }]);
    const p = parseMime(b, CT).root.children?.[1];
    expect(p?.headers[0]).toEqual(['content-type', 'text/plain;\t name="a  b"']);
    expect(p?.contentType.params['name']).toBe('a  b');
  });

  it('refuses a multipart carried base64 (javax.mail decodes before splitting, others do not)', () => {
    const inner = multipart([{ headers: ['Content-Type: text/plain'], body: EICAR }], '\r\n', 'in');
    const headers = ['Content-Type: multipart/mixed; boundary=in', 'Content-Transfer-Encoding: base64'];
    const b = multipart([SOAP, { headers, body: b64(inner) }]);
    expect(refusal(b)).toBe(AMBIGUOUS);
  });
});

describe('base64 that decoders read differently', () => {
  const part = (text: string): Buffer => multipart([SOAP, { headers: ['Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: base64'], body: text }]);

  it('refuses data after padding (Node stops at "=", javax.mail decodes on)', () => {
    expect(Buffer.from(`QQ==${b64(EICAR)}`, 'base64').toString('latin1')).not.toContain('EICAR');
    expect(refusal(part(`QQ==\r\n${b64(EICAR)}`))).toBe(AMBIGUOUS);
  });

  it('refuses URL-safe characters (Node decodes them, others skip them)', () => {
    expect(refusal(part('QUJD-_'))).toBe(AMBIGUOUS);
  });

  it('accepts padding followed by whitespace only, and a truncated last line', () => {
    expect(refusal(part('QQ==\r\n  '))).toBeNull();
    expect(refusal(part('QUJDRA'))).toBeNull();
  });
});

describe('the SOAP root', () => {
  const kids = (...cids: string[]): Part[] =>
    cids.map((c) => ({ headers: ['Content-Type: text/xml', `Content-ID: ${c}`], body: c }));
  const refused = expect.objectContaining({ code: AMBIGUOUS }) as Error;
  const root = (ct: string, parts: Part[]) => parseMime(multipart(parts), `${CT}; ${ct}`).root;

  it('is the part start names, or the first', () => {
    expect(soapRoot(root('start="<b>"', kids('<a>', '<b>')))?.contentId).toBe('<b>');
    expect(soapRoot(root('start="<a>"', kids('<a>', '<b>')))?.contentId).toBe('<a>');
    expect(soapRoot(root('start="<zz>"', kids('<a>', '<b>')))?.contentId).toBe('<a>');
    expect(soapRoot(parseMime(multipart(kids('<a>')), CT).root)?.contentId).toBe('<a>');
  });

  it('refuses a start that names two parts, or matches a later part only after normalising', () => {
    expect(() => soapRoot(root('start="<b>"', kids('<a>', '<b>', '<B>')))).toThrow(refused);
    expect(() => soapRoot(root('start="<B>"', kids('<a>', '<b>')))).toThrow(refused);
  });

  it('refuses a start that an earlier Content-ID prefix-matches (Kannel takes that one)', () => {
    expect(() => soapRoot(root('start="<abc>"', kids('<x>', '<ab>', '<abc>')))).toThrow(refused);
  });
});

describe('the differential oracle (the class, not the examples)', () => {
  const wellFormed = (br: string): Buffer => multipart([SOAP,
    { headers: ['Content-Type: multipart/mixed; boundary="in-1"', 'Content-ID: <c>'], body: multipart([
      { headers: ['Content-Type: text/plain'], body: 'hello world' },
      { headers: ['Content-Type: image/gif', 'Content-Transfer-Encoding: base64'],
        body: b64('GIF89a.......xyz').replace(/(.{8})/g, `$1${br}`).trimEnd() },
    ], br, 'in-1') },
  ], br);
  const snippets = (br: string): string[] => [
    '\r', '\n', '\r\n', ' ', `--${B}`, `--in-1`, `\r--${B}${br}${eicarPart(br)}`, `\n--${B}${br}${eicarPart(br)}`,
    `${br}--${B}${br}${eicarPart(br)}`, `${br}--in-1${br}${eicarPart(br)}`, `--${B}--`,
    `${br}Content-Transfer-Encoding: base64`,
    `${br}Content-Type: text/plain`, `${br} `, ' : x', `\r--in-1\r`,
  ];

  for (const br of ['\r\n', '\n']) {
    const base = wellFormed(br);
    it(`accepts the well-formed ${JSON.stringify(br)} body and every stack agrees`, () => {
      expect(noHiddenPart(base)).toBe('agreed');
      expect(contentLeaves(parseMime(base, CT)).length).toBe(3);
    });

    it(`every snippet inserted at every offset of the ${JSON.stringify(br)} body: refused or read alike`, () => {
      const counts = { refused: 0, agreed: 0 };
      for (const s of snippets(br)) {
        for (let at = 0; at <= base.length; at++) {
          const b = Buffer.concat([base.subarray(0, at), Buffer.from(s, 'latin1'), base.subarray(at)]);
          counts[noHiddenPart(b)]++;
        }
      }
      expect(counts.refused).toBeGreaterThan(0);
      expect(counts.agreed).toBeGreaterThan(0);
    });
  }

  it('random edits of well-formed bodies: refused or read alike by all (fast-check)', () => {
    const piece = fc.constantFrom('\r', '\n', '\r\n', ' ', '\t', '-', '--', `--${B}`, `--${B}--`, '--in-1', ':', ';',
      '"', '=',
      'Content-Type: text/plain', 'Content-Transfer-Encoding: base64', `boundary=${B}`, EICAR);
    const pieces = fc.array(piece, { minLength: 1, maxLength: 4 });
    const edits = fc.array(fc.tuple(fc.nat(), pieces), { minLength: 1, maxLength: 4 });
    fc.assert(fc.property(fc.constantFrom('\r\n', '\n'), edits, (br, edits) => {
      let b = wellFormed(br);
      for (const [pos, ps] of edits) {
        const at = pos % (b.length + 1);
        b = Buffer.concat([b.subarray(0, at), Buffer.from(ps.join(''), 'latin1'), b.subarray(at)]);
      }
      noHiddenPart(b);
    }), { numRuns: 3000 });
  });
});
