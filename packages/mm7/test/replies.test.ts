import { describe, expect, it } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { Mm7Status, buildFault, buildRsp } from '../src/index.js';

const req = { operation: 'SubmitReq', transactionId: 'T<1>', namespace: 'urn:x', mm7Version: '5.3.0' };
const parse = (xml: string): unknown => new XMLParser({ removeNSPrefix: true }).parse(xml);

describe('MM7 replies', () => {
  it('build a SubmitRsp with the standard StatusText, or the given text and a MessageID', () => {
    const plain = buildRsp(req, Mm7Status.SUCCESS);
    expect(plain.httpStatus).toBe(200);
    expect(plain.body).toContain('<StatusCode>1000</StatusCode><StatusText>Success</StatusText>');
    const r = buildRsp(req, Mm7Status.SUCCESS, undefined, 'Accepted & queued', 'mid-1');
    type Rsp = { MM7Version: string; Status: { StatusText: string }; MessageID: string };
    const doc = parse(r.body) as { Envelope: { Header: { TransactionID: string }; Body: { SubmitRsp: Rsp } } };
    expect(doc.Envelope.Header.TransactionID).toBe('T<1>');
    expect(doc.Envelope.Body.SubmitRsp)
      .toMatchObject({ MM7Version: '5.3.0', Status: { StatusText: 'Accepted & queued' }, MessageID: 'mid-1' });
  });

  it('build a Fault whose StatusText can be replaced (escaped), keeping the standard faultstring', () => {
    const f = buildFault(req, Mm7Status.SERVICE_DENIED, 'flood', 'Denied <by> policy');
    expect(f.httpStatus).toBe(500);
    expect(f.body).toContain('<faultcode>env:Server</faultcode><faultstring>Service denied</faultstring>');
    expect(f.body).toContain('<StatusCode>4007</StatusCode><StatusText>Denied &lt;by&gt; policy</StatusText>'
      + '<Details>flood</Details>');
    expect(f.body).toContain('<RSErrorRsp xmlns="urn:x">');
  });
});
