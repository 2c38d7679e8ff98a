/** parseMm7Message: the envelope, the attachments and every scan target of a request, in one call. */
import { describe, expect, it } from 'vitest';
import { Mm7ErrorCode, parseMm7Message, peekTransactionId } from '../src/index.js';
import { CT, EICAR, b64, multipart, type Part } from './bodies.js';

const ENVELOPE = '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header>'
  + '<mm7:TransactionID xmlns:mm7="urn:mm7">T-1</mm7:TransactionID></env:Header><env:Body>'
  + '<SubmitReq><MM7Version>6.8.0</MM7Version></SubmitReq></env:Body></env:Envelope>';
const soap: Part = { headers: ['Content-Type: text/xml', 'Content-ID: <soap>'], body: ENVELOPE };
const att: Part = { headers: ['Content-Type: application/octet-stream; name=e.com', 'Content-Transfer-Encoding: base64',
  'Content-ID: <att>'], body: b64(EICAR) };

describe('parseMm7Message', () => {
  it('reads a text/xml request as an envelope without attachments', () => {
    const m = parseMm7Message(Buffer.from(ENVELOPE), 'text/xml; charset=utf-8');
    expect(m.soap.operation).toBe('SubmitReq');
    expect([m.root, m.attachments, m.targets]).toEqual([null, [], []]);
  });

  it('finds the root by start, lists the other leaves, and every scan target including the root', () => {
    const m = parseMm7Message(multipart([att, soap]), `${CT}; start="<soap>"`);
    expect(m.soap.transactionId).toBe('T-1');
    expect(m.root?.contentId).toBe('<soap>');
    expect(m.attachments.map((a) => a.name)).toEqual(['e.com']);
    expect(m.targets.map((t) => t.id)).toEqual(['1', '2']);
    expect(m.targets.some((t) => t.decoded !== null && Buffer.from(t.decoded).toString('latin1') === EICAR)).toBe(true);
  });

  it('refuses a start parameter stacks resolve differently', () => {
    expect(() => parseMm7Message(multipart([att, soap]), `${CT}; start="<SOAP>"`))
      .toThrow(expect.objectContaining({ code: Mm7ErrorCode.AMBIGUOUS }) as Error);
  });

  it('names the message a request is about: MessageID, a DeliverReq\'s LinkedID, never an empty element', () => {
    const req = (op: string, inner: string): string | null => parseMm7Message(Buffer.from(ENVELOPE
      .replace('<SubmitReq><MM7Version>6.8.0</MM7Version></SubmitReq>', `<${op}>${inner}</${op}>`)), 'text/xml')
      .soap.messageId;
    expect(req('DeliveryReportReq', '<MessageID> m-1 </MessageID>')).toBe('m-1');
    expect(req('DeliverReq', '<LinkedID>l-1</LinkedID>')).toBe('l-1');
    expect(req('DeliverReq', '<MessageID>m-2</MessageID><LinkedID>l-2</LinkedID>')).toBe('m-2');
    expect(req('DeliverReq', '<MessageID/><LinkedID/>')).toBeNull();
    // A SubmitReq's LinkedID names the message it answers, not this one (the SubmitRsp names this one).
    expect(req('SubmitReq', '<LinkedID>l-3</LinkedID>')).toBeNull();
  });

  it('peeks the TransactionID from the head of a request, or says null', () => {
    expect(peekTransactionId(multipart([soap]).subarray(0, 300))).toBe('T-1');
    expect(peekTransactionId(Buffer.from('<TransactionID>'))).toBeNull();
  });
});
