/**
 * Containers in MM7 parts are opened or reported, never passed as clean (issue 14 class 6, MIME
 * parts): x-uuencode bodies are decoded (every begin…end file), message/* attachments are opened
 * into their inner MIME entity (multiparts walked, leaves transfer-decoded, at any depth), and
 * what cannot be read (unknown transfer encodings, broken uuencode, inner messages that do not
 * parse, message/partial) is reported on the leaf as unscannable.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Mm7UnscannableCode, contentLeaves, decodeUuencode, decodedBody, parseMime, replaceParts, type ContentLeaf,
} from '../src/index.js';
import { CT, EICAR, SOAP, b64, multipart, scanned, type Part } from './bodies.js';

/** A reference uuencoder (classic: 45 bytes a line unless told otherwise, backtick for zero). */
function uuencode(data: Buffer, name = 'eicar.com', perLine = 45): string {
  const enc = (v: number): string => String.fromCharCode(v === 0 ? 96 : v + 32);
  const lines = [`begin 644 ${name}`];
  for (let o = 0; o < data.length; o += perLine) {
    const chunk = data.subarray(o, o + perLine);
    let line = enc(chunk.length);
    for (let i = 0; i < chunk.length; i += 3) {
      const a = chunk[i] ?? 0, b = chunk[i + 1] ?? 0, c = chunk[i + 2] ?? 0;
      line += enc(a >> 2) + enc(((a << 4) | (b >> 4)) & 63) + enc(((b << 2) | (c >> 6)) & 63) + enc(c & 63);
    }
    lines.push(line);
  }
  lines.push('`', 'end', '');
  return lines.join('\r\n');
}

const leavesOf = (parts: Part[]): ContentLeaf[] => contentLeaves(parseMime(multipart([SOAP, ...parts]), CT));
const sees = (ls: readonly ContentLeaf[], needle: string): boolean => scanned(ls).some((b) => b.includes(needle));

describe('x-uuencode parts', () => {
  for (const cte of ['x-uuencode', 'uuencode', 'x-uue', 'X-UUENCODE']) {
    it(`decodes Content-Transfer-Encoding: ${cte}, each file a leaf with its name`, () => {
      const ls = leavesOf([{ headers: ['Content-Type: application/octet-stream', `Content-Transfer-Encoding: ${cte}`],
        body: uuencode(Buffer.from(EICAR)) }]);
      const file = ls.find((l) => l.kind === 'uuencoded');
      expect(file?.decoded && Buffer.from(file.decoded).toString('latin1')).toBe(EICAR);
      expect(file?.name).toBe('eicar.com');
      expect(file?.carrier).toBe(ls.find((l) => l.kind === 'part' && l.id === '2')?.part);
      expect(ls.every((l) => l.unscannable === null)).toBe(true);
      expect(Buffer.from(decodedBody(file!.part!)).toString('latin1')).toBe(EICAR);
    });
  }

  it('returns every begin…end section, and the begin-base64 form', () => {
    const body = `${uuencode(Buffer.from('first'), 'a.txt')}text between\r\n${uuencode(Buffer.from(EICAR), 'b.com')}`
      + `begin-base64 644 c.bin\r\n${b64(EICAR)}\r\n====\r\n`;
    const { files, problem } = decodeUuencode(Buffer.from(body));
    expect(problem).toBeNull();
    expect(files.map((f) => [f.name, f.data.toString('latin1'), f.complete])).toEqual([
      ['a.txt', 'first', true], ['b.com', EICAR, true], ['c.bin', EICAR, true]]);
  });

  it('reads leniently as the classic decoder: short lines padded, a missing end tolerated', () => {
    const enc = uuencode(Buffer.from(EICAR)).replace(/`\r\nend\r\n$/, '');
    const { files } = decodeUuencode(Buffer.from(enc));
    expect(files[0]?.data.toString('latin1')).toBe(EICAR);
    expect(files[0]?.complete).toBe(false);
    const short = decodeUuencode(Buffer.from('begin 644 x\n#04)\nend\n')).files[0]?.data;
    expect(short && [...short]).toEqual([0x41, 0x42, 0x40]); // the missing 4th character read as 0
  });

  it('reports a body without a begin line, a malformed begin line and too many files as unscannable', () => {
    const part = (body: string): Part => ({ headers: ['Content-Transfer-Encoding: x-uuencode'], body });
    for (const body of ['M6%!A\r\nend\r\n', 'begin xyz\r\nM6%!A\r\nend\r\n']) {
      const l = leavesOf([part(body)]).find((x) => x.id === '2');
      expect(l?.unscannable?.code).toBe(Mm7UnscannableCode.UUENCODE);
    }
    const many = Array.from({ length: 101 }, (_, i) => uuencode(Buffer.from('x'), `f${i}`)).join('');
    const ls = leavesOf([part(many)]);
    expect(ls.filter((l) => l.kind === 'uuencoded').length).toBe(100);
    expect(ls.find((l) => l.id === '2')?.unscannable?.reason).toMatch(/more than 100/);
  });

  it('round-trips any bytes at any line length (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 62 }), (d, per) => {
      const { files } = decodeUuencode(Buffer.from(uuencode(Buffer.from(d), 'f', per)));
      expect(files[0]?.data.equals(Buffer.from(d))).toBe(true);
    }), { numRuns: 2000 });
  });

  it('is total on arbitrary text (files or a problem, nothing thrown)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
      const r = decodeUuencode(Buffer.from(`begin 600 x\n${s}`, 'latin1'));
      expect(r.files.length + (r.problem === null ? 0 : 1)).toBeGreaterThan(0);
    }), { numRuns: 3000 });
  });
});

describe('message/rfc822 attachments', () => {
  const inner = (br = '\r\n'): string => [
    'From: a@example.com', 'Subject: fwd', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="inner-b"', '',
    '--inner-b', 'Content-Type: text/plain', '', 'see attachment',
    '--inner-b', 'Content-Type: application/octet-stream; name="e.com"', 'Content-Transfer-Encoding: base64', '',
    b64(EICAR),
    '--inner-b--', '',
  ].join(br);
  const rfc822 = (body: string, cte?: string): Part => ({
    headers: ['Content-Type: message/rfc822', ...(cte === undefined ? [] : [`Content-Transfer-Encoding: ${cte}`])],
    body,
  });

  it('exposes every inner leaf, transfer-decoded, with the outer part as carrier', () => {
    const ls = leavesOf([rfc822(inner())]);
    const eicar = ls.find((l) => l.name === 'e.com');
    expect(eicar).toMatchObject({ kind: 'part', id: '2/2', depth: 1, contentType: 'application/octet-stream' });
    expect(eicar?.decoded && Buffer.from(eicar.decoded).toString('latin1')).toBe(EICAR);
    expect(eicar?.carrier).toBe(ls.find((l) => l.id === '2')?.part);
    expect(ls.map((l) => l.id)).toEqual(['1', '2', '2/1', '2/2']);
  });

  it('opens a message/rfc822 carried base64 or quoted-printable, and an LF-only inner message', () => {
    const qp = rfc822(inner().replace(/=/g, '=3D'), 'quoted-printable');
    for (const p of [rfc822(b64(inner()), 'base64'), qp, rfc822(inner('\n'))]) {
      expect(sees(leavesOf([p]), EICAR)).toBe(true);
    }
  });

  it('opens messages inside messages, and multipart/digest children (message/rfc822 by default)', () => {
    const twice = rfc822(`Subject: outer\r\nContent-Type: message/rfc822\r\n\r\n${inner()}`);
    const ls = leavesOf([twice]);
    expect(ls.find((l) => l.name === 'e.com')?.id).toBe('2/1/2');
    const digest: Part = { headers: ['Content-Type: multipart/digest; boundary=dg'],
      body: multipart([{ headers: [], body: inner() }], '\r\n', 'dg') };
    expect(sees(leavesOf([digest]), EICAR)).toBe(true);
    expect(leavesOf([digest]).find((l) => l.name === 'e.com')?.id).toBe('2.1/2');
  });

  it('reports an inner message that cannot be parsed (never clean), keeping its bytes as a leaf', () => {
    const broken = [
      'no header block at all', inner().replace('--inner-b--', '--inner-b--x'),
      'Content-Type: multipart/mixed\r\n\r\nx',
    ];
    for (const body of broken) {
      const l = leavesOf([rfc822(body)]).find((x) => x.id === '2');
      expect(l?.unscannable?.code).toBe(Mm7UnscannableCode.EMBEDDED);
      expect(l?.raw.length).toBe(body.length);
    }
  });

  it('reports message/partial as a fragment, and opens message/global and message/news', () => {
    const partial: Part = { headers: ['Content-Type: message/partial; id="x"; number=1; total=2'], body: inner() };
    expect(leavesOf([partial]).find((l) => l.id === '2')?.unscannable?.code).toBe(Mm7UnscannableCode.FRAGMENT);
    for (const t of ['message/global', 'message/news']) {
      expect(sees(leavesOf([{ headers: [`Content-Type: ${t}`], body: inner() }]), EICAR)).toBe(true);
    }
  });

  it('reports an inner message past the depth limit or the decode budget', () => {
    let m = inner();
    for (let i = 0; i < 9; i++) m = `Content-Type: message/rfc822\r\n\r\n${m}`;
    const deep = leavesOf([rfc822(m)]);
    expect(deep.some((l) => l.unscannable?.code === Mm7UnscannableCode.EMBEDDED)).toBe(true);
    const limits = { maxDepth: 8, maxParts: 1000, maxHeaderBytes: 16384, maxEmbeddedBytes: 10 };
    const big = parseMime(multipart([SOAP, rfc822(b64(inner()), 'base64')]), CT, limits);
    expect(contentLeaves(big).find((l) => l.id === '2')?.unscannable?.reason).toMatch(/MMS_ERR_MM7_LIMIT/);
  });

  it('REMOVE_BLOCKED: replacing the carrier removes the inner attachment', () => {
    const body = multipart([SOAP, rfc822(inner())]);
    const ls = contentLeaves(parseMime(body, CT));
    const carrier = ls.find((l) => l.name === 'e.com')?.carrier;
    const out = replaceParts(body, [{ part: carrier!, text: 'removed' }]);
    expect(sees(contentLeaves(parseMime(out, CT)), EICAR)).toBe(false);
  });
});

describe('transfer encodings we do not know', () => {
  it('are reported unscannable, never taken as binary and clean', () => {
    for (const cte of ['x-gzip64', 'base-64', 'x-binhex']) {
      const l = leavesOf([{ headers: [`Content-Transfer-Encoding: ${cte}`], body: 'abc' }]).find((x) => x.id === '2');
      const reason = `unknown Content-Transfer-Encoding ${cte}`;
      expect(l?.unscannable).toEqual({ code: Mm7UnscannableCode.ENCODING, reason });
      expect(l?.decoded).toBeNull();
    }
  });

  it('quote the value cut short (no payload-sized reasons in logs)', () => {
    const cte = `x-${'a'.repeat(200)}`;
    const l = leavesOf([{ headers: [`Content-Transfer-Encoding: ${cte}`], body: 'abc' }]).find((x) => x.id === '2');
    expect(l?.unscannable?.reason.length).toBeLessThan(90);
  });

  it('identity encodings are not reported', () => {
    for (const cte of ['7bit', '8bit', 'binary', 'BINARY']) {
      const ls = leavesOf([{ headers: [`Content-Transfer-Encoding: ${cte}`], body: 'abc' }]);
      expect(ls.every((l) => l.unscannable === null)).toBe(true);
    }
  });
});

describe('contentLeaves', () => {
  it('lists the SOAP root, every leaf, unattributed bytes and whole parts, ids stable', () => {
    const named = { headers: ['Content-Type: text/plain; name=a.txt'], body: 'x' };
    const body = Buffer.concat([multipart([SOAP, named], '\r\n'), Buffer.from('epilogue')]).toString('latin1');
    const padded = Buffer.from(body.replace('-x\r\nContent-Type: text/p', '-x \r\nContent-Type: text/p'), 'latin1');
    const ls = contentLeaves(parseMime(padded, CT));
    expect(ls.map((l) => [l.kind, l.id, l.name])).toEqual([
      ['part', '1', null], ['part', '2', 'a.txt'], ['unattributed', `@${padded.indexOf('epilogue')}`, null],
      ['whole-part', `~${padded.indexOf('Content-Type: text/plain')}`, null]]);
    expect(ls[3]?.carrier).toBe(ls[1]?.part);
  });

  it('names a part from Content-Disposition filename when it has no name parameter', () => {
    const headers = ['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="x.exe"'];
    const ls = leavesOf([{ headers, body: 'MZ' }]);
    expect(ls[1]?.name).toBe('x.exe');
  });
});

describe('limits', () => {
  it('are validated: a value that is not a positive integer is a caller bug (RangeError)', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      const limits = { maxDepth: 8, maxParts: 1000, maxHeaderBytes: 16384, maxUuencodedFiles: bad };
      expect(() => parseMime(multipart([SOAP]), CT, limits)).toThrow(RangeError);
    }
  });
});
