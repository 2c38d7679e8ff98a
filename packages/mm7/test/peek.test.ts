/**
 * peekEnvelope: the envelope of an oversized request from its first bytes. Whatever the cut, it says
 * nothing or what parseMm7Message says of the whole body; and it says it as soon as the SOAP part is
 * complete in the head.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_PEEK_BYTES, buildSubmitReq, parseMm7Message, peekEnvelope } from '../src/index.js';
import { CT, b64, multipart, type Part } from './bodies.js';

const NS = 'http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4';
const deliver = (inner: string): string => '<?xml version="1.0"?><env:Envelope '
  + 'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header><mm7:TransactionID xmlns:mm7="urn:x">'
  + `T-d</mm7:TransactionID></env:Header><env:Body><DeliverReq xmlns="${NS}"><MM7Version>6.8.0</MM7Version>`
  + `${inner}</DeliverReq></env:Body></env:Envelope>`;
const DELIVER = deliver('<Sender><Number>+4790000009</Number></Sender><Recipients><To><Number>1234</Number></To>'
  + '<Cc><RFC2822Address>a@b.example</RFC2822Address></Cc></Recipients><LinkedID>L-1</LinkedID>');
const soapPart = (body: string | Buffer, more: string[] = []): Part => ({
  headers: ['Content-Type: text/xml; charset="utf-8"', 'Content-ID: <soap>', ...more], body,
});
const big: Part = { headers: ['Content-Type: image/jpeg', 'Content-ID: <img>'], body: Buffer.alloc(1500, 0xff) };

/** Where the head first holds the SOAP part whole: just past the next delimiter's `--boundary`. */
function firstComplete(body: Buffer, boundary: string): number {
  const d = Buffer.from(`--${boundary}`);
  return body.indexOf(d, body.indexOf(d) + 1) + d.length;
}

/** Every cut of `body`: null before the SOAP part is complete, the whole parse's envelope from then on. */
function everyCut(body: Buffer, ct: string, boundary: string): void {
  const whole = parseMm7Message(body, ct).soap;
  const from = firstComplete(body, boundary);
  for (let n = 0; n <= body.length; n++) {
    const got = peekEnvelope(body.subarray(0, n), ct);
    if (n < from) expect(got, `cut at ${n}`).toBeNull();
    else expect(got, `cut at ${n}`).toEqual(whole);
  }
}

describe('peekEnvelope', () => {
  it('reads a SubmitReq\'s sender, VASP and recipients once its SOAP part is in the head, at every cut', () => {
    const m = buildSubmitReq({
      transactionId: 'T-1', vaspId: 'VASP-1', vasId: 'svc', from: '1234', to: ['+4790000001', 'x@y.example'],
      subject: 'hi',
      attachments: [{ name: 'a.bin', contentType: 'application/octet-stream', data: Buffer.alloc(1000) }],
    });
    const boundary = /boundary="([^"]+)"/.exec(m.contentType)?.[1] ?? '';
    everyCut(m.body, m.contentType, boundary);
    expect(peekEnvelope(m.body.subarray(0, firstComplete(m.body, boundary)), m.contentType)).toMatchObject({
      operation: 'SubmitReq', transactionId: 'T-1', sender: '1234', vaspId: 'VASP-1',
      recipients: ['+4790000001', 'x@y.example'],
    });
  });

  it('reads a DeliverReq in either line-break convention, and a base64 SOAP part, at every cut', () => {
    everyCut(multipart([soapPart(DELIVER), big]), CT, 'b0und-x');
    everyCut(multipart([soapPart(DELIVER), big], '\n'), CT, 'b0und-x');
    everyCut(multipart([soapPart(b64(DELIVER), ['Content-Transfer-Encoding: base64']), big]), CT, 'b0und-x');
    expect(peekEnvelope(multipart([soapPart(DELIVER), big]), CT)).toMatchObject({
      operation: 'DeliverReq', sender: '+4790000009', recipients: ['1234', 'a@b.example'], messageId: 'L-1',
    });
  });

  it('says nothing when `start` names a part other than the first, and reads it when it names the first', () => {
    const body = multipart([soapPart(DELIVER), big]);
    expect(peekEnvelope(body, `${CT}; start="<img>"`)).toBeNull();
    expect(peekEnvelope(body, `${CT}; start="<nowhere>"`)).toBeNull();
    expect(peekEnvelope(body, `${CT}; start="<soap>"`)?.sender).toBe('+4790000009');
  });

  it('says nothing for text/xml, no boundary, an ambiguous head, or a SOAP part past the bound', () => {
    expect(peekEnvelope(Buffer.from(DELIVER), 'text/xml')).toBeNull();
    expect(peekEnvelope(multipart([soapPart(DELIVER), big]), 'multipart/related')).toBeNull();
    // A boundary inside a line: stacks split differently, the walker refuses.
    const odd = Buffer.concat([Buffer.from('x--b0und-x\r\n'), multipart([soapPart(DELIVER), big])]);
    expect(peekEnvelope(odd, CT)).toBeNull();
    const huge = deliver(`<Sender><Number>1</Number></Sender><Subject>${'s'.repeat(MAX_PEEK_BYTES)}</Subject>`);
    expect(peekEnvelope(multipart([soapPart(huge), big]), CT)).toBeNull();
  });

  it('never throws: arbitrary bytes and content types give an envelope or null', () => {
    const bytes = fc.uint8Array({ maxLength: 400 });
    const text = fc.string({ maxLength: 400 }).map((s) => Buffer.from(s, 'latin1'));
    const ct = fc.constantFrom(CT, `${CT}; start="<soap>"`, 'multipart/related; boundary=', 'text/xml', ';;', '');
    fc.assert(fc.property(fc.oneof(bytes, text), ct, (b, c) => {
      const r = peekEnvelope(b, c);
      expect(r === null || typeof r.operation === 'string').toBe(true);
    }), { numRuns: 2000 });
  });

  it('at every cut of generated requests, says nothing or what the whole parse says', () => {
    const addr = fc.stringMatching(/^\+?[0-9a-z@.]{1,12}$/);
    fc.assert(fc.property(fc.array(addr, { minLength: 1, maxLength: 4 }), addr, fc.boolean(), (to, from, lf) => {
      const rcpt = to.map((a) => `<To><Number>${a}</Number></To>`).join('');
      const body = multipart([soapPart(deliver(`<Sender><Number>${from}</Number></Sender><Recipients>${rcpt}`
        + '</Recipients>')), big], lf ? '\n' : '\r\n');
      const whole = parseMm7Message(body, CT).soap;
      expect(peekEnvelope(body, CT)).toEqual(whole);
      for (let n = 0; n <= body.length; n += 7) {
        const got = peekEnvelope(body.subarray(0, n), CT);
        if (got !== null) expect(got).toEqual(whole);
      }
    }), { numRuns: 30 });
  });
});
