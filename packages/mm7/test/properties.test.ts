/** Totality: any bytes and any Content-Type give a parse or an Mm7Error, never another exception. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Mm7Error, contentLeaves, parseMime, parseSoap, replaceParts, leaves, soapRoot } from '../src/index.js';

function total(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof Mm7Error)) throw e;
    expect(e.code).toMatch(/^MMS_ERR_MM7_/);
  }
}

const boundary = 'b0und';
const part = fc.tuple(fc.constantFrom('text/plain', 'image/jpeg', 'application/octet-stream'),
  fc.uint8Array({ maxLength: 64 }))
  .map(([t, d]) => Buffer.concat([Buffer.from(`Content-Type: ${t}\r\nContent-ID: <x>\r\n\r\n`), Buffer.from(d)]));
const body = fc.array(part, { maxLength: 4 }).map((ps) => Buffer.concat([
  ...ps.flatMap((p) => [Buffer.from(`--${boundary}\r\n`), p, Buffer.from('\r\n')]), Buffer.from(`--${boundary}--\r\n`),
]));

describe('MM7 parsers are total', () => {
  it('parseMime, contentLeaves and soapRoot on arbitrary bytes', () => {
    const cts = fc.constantFrom(`multipart/related; boundary=${boundary}`, 'multipart/mixed; boundary="a b"',
      'multipart/related', 'text/plain', 'message/rfc822', `multipart/digest; boundary=${boundary}`);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), cts, (b, ct) => total(() => {
      const p = parseMime(b, ct);
      contentLeaves(p);
      soapRoot(p.root);
    })), { numRuns: 5000 });
  });

  it('contentLeaves is total on well-formed bodies whose parts hold arbitrary messages and encodings', () => {
    const inner = fc.tuple(
      fc.constantFrom('message/rfc822', 'message/partial', 'application/x', 'multipart/mixed; boundary=in'),
      fc.constantFrom('base64', 'quoted-printable', 'x-uuencode', '7bit', 'x-what'), fc.string({ maxLength: 120 }))
      .map(([t, e, d]) => Buffer.from(`Content-Type: ${t}\r\nContent-Transfer-Encoding: ${e}\r\n\r\n${d}`, 'latin1'));
    fc.assert(fc.property(fc.array(inner, { maxLength: 3 }), (ps) => {
      const b = Buffer.concat([...ps.flatMap((p) => [Buffer.from(`--${boundary}\r\n`), p, Buffer.from('\r\n')]),
        Buffer.from(`--${boundary}--\r\n`)]);
      total(() => contentLeaves(parseMime(b, `multipart/related; boundary=${boundary}`)));
    }), { numRuns: 3000 });
  });

  it('parseMime on well-formed bodies with random octets flipped or cut', () => {
    fc.assert(fc.property(body, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (b, pos, val, cut) => {
      const m = Buffer.from(b);
      if (m.length > 0) {
        if (cut) total(() => parseMime(m.subarray(0, pos % m.length), `multipart/related; boundary=${boundary}`));
        m[pos % m.length] = val;
      }
      total(() => parseMime(m, `multipart/related; boundary=${boundary}`));
    }), { numRuns: 5000 });
  });

  it('finds every part of a well-formed body, byte-exact, and replaceParts keeps the others', () => {
    const data = fc.uint8Array({ maxLength: 64 }).filter((d) => !Buffer.from(d).includes(`--${boundary}`));
    fc.assert(fc.property(fc.array(data, { minLength: 1, maxLength: 4 }), (datas) => {
      const b = Buffer.concat([...datas.flatMap((d, i) => [
        Buffer.from(`--${boundary}\r\nContent-ID: <p${i}>\r\n\r\n`), Buffer.from(d), Buffer.from('\r\n'),
      ]), Buffer.from(`--${boundary}--\r\n`)]);
      const hex = (d: Uint8Array): string => Buffer.from(d).toString('hex');
      const ls = leaves(parseMime(b, `multipart/related; boundary=${boundary}`).root);
      expect(ls.map((l) => hex(l.raw))).toEqual(datas.map(hex));
      const out = replaceParts(b, [{ part: ls[0]!, text: 'removed' }]);
      const after = leaves(parseMime(out, `multipart/related; boundary=${boundary}`).root);
      expect(Buffer.from(after[0]!.raw).toString()).toBe('removed');
      expect(after[0]!.contentId).toBe('<p0>');
      expect(after.slice(1).map((l) => hex(l.raw))).toEqual(datas.slice(1).map(hex));
    }), { numRuns: 2000 });
  });

  it('parseSoap on arbitrary text, and refuses DTDs (XML bombs)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => total(() => parseSoap(s))), { numRuns: 5000 });
    const bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
      + '<Envelope><Body><SubmitReq>&lol2;</SubmitReq></Body></Envelope>';
    expect(() => parseSoap(bomb)).toThrow(expect.objectContaining({ code: 'MMS_ERR_MM7_SOAP' }) as Error);
  });
});
