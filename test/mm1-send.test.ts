/** MM1 send (POST m-send-req) through the proxy to the simulator, on 127.0.0.1. */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FIELD, decode, encodedStrings, octetHeader, partInfo, textHeader } from 'wap-mms-decoder';
import { eicarBytes } from '@mmsguard/scan';
import { post, startStack, verdicts, type Stack } from './harness.js';
import { eicar, eicarGzip, eicarZip, part, peExe, sendReq, text } from './pdus.js';

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const utm = (s: Stack): Record<string, unknown>[] => s.logs.filter((l) => l['type'] === 'utm');

describe('MM1 send', () => {
  it('forwards a clean message byte-identical and relays the MMSC reply', async () => {
    stack = await startStack({ TRUSTED_GATEWAYS: '127.0.0.1' });
    const pdu = sendReq([text('hello world')]);
    const r = await post(stack.proxy, pdu, { 'x-wap-network-client-msisdn': '+4790000000' });
    expect(r.status).toBe(200);
    const conf = decode(r.body);
    expect(conf.messageType).toBe(0x81);
    expect(octetHeader(conf, FIELD.RESPONSE_STATUS)).toBe(0x80);
    expect(stack.sim.received).toHaveLength(1);
    expect(stack.sim.received[0]).toMatchObject({ length: pdu.length, sha256: sha(pdu) });
    // MSISDN header kept, X-Forwarded-For added, hop-by-hop stripped
    expect(stack.sim.received[0]?.headers['x-wap-network-client-msisdn']).toBe('+4790000000');
    expect(stack.sim.received[0]?.headers['x-forwarded-for']).toBe('127.0.0.1');
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ event: 'verdict', service: 'MM1', action: 'forwarded', msgtype: 'm-send-req', transactionid: 'T-e2e-1', parts: 1, from: '+4790000000' });
  });

  for (const [name, p] of [['EICAR', eicar], ['EICAR in zip', eicarZip], ['EICAR in gzip', eicarGzip]] as const) {
    it(`blocks ${name} with m-send-conf 0xE5 naming the virus; nothing reaches the MMSC`, async () => {
      stack = await startStack();
      const r = await post(stack.proxy, sendReq([text('hi'), p()], 'T-virus'));
      const conf = decode(r.body);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/vnd.wap.mms-message');
      expect(textHeader(conf, FIELD.TRANSACTION_ID)).toBe('T-virus');
      expect(octetHeader(conf, FIELD.MMS_VERSION)).toBe(0x92);
      expect(octetHeader(conf, FIELD.RESPONSE_STATUS)).toBe(0xe5);
      expect(encodedStrings(conf, FIELD.RESPONSE_TEXT)[0]?.text).toMatch(/Eicar-Test-Signature/);
      expect(stack.sim.received).toHaveLength(0);
      const [u] = utm(stack);
      expect(u).toMatchObject({
        logid: '0211008194', type: 'utm', subtype: 'virus', eventtype: 'infected', level: 'warning', action: 'blocked',
        service: 'MM1', direction: 'outgoing', srcip: '127.0.0.1', msgtype: 'm-send-req', transactionid: 'T-virus',
        virus: 'Eicar-Test-Signature', dtype: 'av-engine', to: '+4790000001/TYPE=PLMN',
      });
      for (const k of ['srcport', 'dstip', 'dstport', 'sessionid', 'from', 'filename', 'filetype', 'filesize', 'analyticscksum', 'msg']) expect(u).toHaveProperty(k);
      const [v] = await verdicts(stack, 1);
      expect(v).toMatchObject({ action: 'blocked', subtype: 'virus' });
    });
  }

  it('blocks an executable with FILE_FILTER=exe, whatever its name', async () => {
    stack = await startStack({ FILE_FILTER: 'exe,dll' });
    const r = await post(stack.proxy, sendReq([part('holiday.jpg', peExe(), 'image/jpeg')]));
    expect(octetHeader(decode(r.body), FIELD.RESPONSE_STATUS)).toBe(0xe5);
    expect(utm(stack)[0]).toMatchObject({ subtype: 'file-filter', logid: '1900064000', filetype: 'exe', filename: 'holiday.jpg', action: 'blocked' });
    expect(stack.sim.received).toHaveLength(0);
  });

  it('answers an undecodable PDU with m-send-conf 0xE2 and does not forward it', async () => {
    stack = await startStack();
    const r = await post(stack.proxy, new TextEncoder().encode('This is not a valid m-Send.req PDU'));
    expect(octetHeader(decode(r.body), FIELD.RESPONSE_STATUS)).toBe(0xe2);
    expect(stack.sim.received).toHaveLength(0);
    expect(utm(stack)[0]).toMatchObject({ subtype: 'malformed', action: 'blocked' });
  });

  it('blocks an oversized message with 0xE5 as soon as the limit is crossed (Content-Length)', async () => {
    stack = await startStack({ MM1_OVERSIZE_LIMIT: '10KiB' });
    const r = await post(stack.proxy, sendReq([part('big.bin', new Uint8Array(50_000))], 'T-big'));
    const conf = decode(r.body);
    expect(octetHeader(conf, FIELD.RESPONSE_STATUS)).toBe(0xe5);
    expect(encodedStrings(conf, FIELD.RESPONSE_TEXT)[0]?.text).toMatch(/too large/);
    expect(stack.sim.received).toHaveLength(0);
    expect(utm(stack)[0]).toMatchObject({ subtype: 'oversize', action: 'blocked', filesize: expect.any(Number) as number });
  });

  it('passes an oversized message through unscanned with MM1_OVERSIZE_ACTION=pass, byte-identical', async () => {
    stack = await startStack({ MM1_OVERSIZE_LIMIT: '10KiB', MM1_OVERSIZE_ACTION: 'pass' });
    const pdu = sendReq([part('big.bin', new Uint8Array(50_000).fill(7)), eicar()]);
    const r = await post(stack.proxy, pdu);
    expect(octetHeader(decode(r.body), FIELD.RESPONSE_STATUS)).toBe(0x80);
    expect(stack.sim.received[0]).toMatchObject({ length: pdu.length, sha256: sha(pdu) });
    expect(utm(stack)[0]).toMatchObject({ subtype: 'oversize', action: 'passthrough' });
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'passthrough', subtype: 'oversize' });
  });

  it('with REMOVE_BLOCKED=on forwards the message with the infected part replaced by a text part', async () => {
    stack = await startStack({ REMOVE_BLOCKED: 'on' });
    const pdu = sendReq([text('keep me'), eicar()]);
    const r = await post(stack.proxy, pdu);
    expect(octetHeader(decode(r.body), FIELD.RESPONSE_STATUS)).toBe(0x80);
    const stored = [...stack.sim.messages.values()][0];
    expect(stored).toBeDefined();
    const fwd = decode(stored as Uint8Array);
    expect(fwd.parts?.length).toBe(2);
    expect(Buffer.from(fwd.parts![0]!.data).toString()).toBe('keep me');
    expect(partInfo(fwd.parts![1]!).name).toBe('eicar.com.removed.txt');
    expect(Buffer.from(fwd.parts![1]!.data).toString()).toMatch(/eicar\.com.*removed.*Eicar-Test-Signature/);
    expect(Buffer.from(stored as Uint8Array).includes(Buffer.from(eicarBytes()))).toBe(false);
    expect(utm(stack)[0]).toMatchObject({ subtype: 'virus', action: 'attachment-removed' });
  });

  it('finds EICAR hidden in a base64 Content-Transfer-Encoding part', async () => {
    stack = await startStack();
    const b64 = new TextEncoder().encode(Buffer.from(eicarBytes()).toString('base64'));
    const p = { ...part('test.com', b64), headers: [{ type: 'application' as const, name: 'Content-Transfer-Encoding', value: 'base64' }] };
    const r = await post(stack.proxy, sendReq([p]));
    expect(octetHeader(decode(r.body), FIELD.RESPONSE_STATUS)).toBe(0xe5);
  });

  for (const [name, type] of [['m-notifyresp-ind', 0x83], ['an unknown message type', 0xa0], ['m-mbox-upload-req', 0x8f]] as const) {
    it(`scans the body of ${name} too: EICAR in it is refused, nothing forwarded (issue 14 class 7)`, async () => {
      stack = await startStack();
      const r = await post(stack.proxy, sendReq([text('hi'), eicar()], 'T-any', type));
      expect(octetHeader(decode(r.body), FIELD.RESPONSE_STATUS)).toBe(0xe5);
      expect(stack.sim.received).toHaveLength(0);
      const [v] = await verdicts(stack, 1);
      expect(v).toMatchObject({ action: 'blocked', subtype: 'virus', transactionid: 'T-any' });
    });
  }

  it('refuses other content types with 415 and logs why', async () => {
    stack = await startStack();
    const res = await fetch(`${stack.proxy}/mms`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(res.status).toBe(415);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'rejected' });
  });

  it('answers 503 with Retry-After when the in-flight budget is exhausted', async () => {
    stack = await startStack({ INFLIGHT_LIMIT: '1KiB' });
    const r = await post(stack.proxy, sendReq([part('a.bin', new Uint8Array(4000))]));
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('5');
  });

  it('writes FortiOS key=value lines with LOG_FORMAT=kv', async () => {
    stack = await startStack({ LOG_FORMAT: 'kv' });
    await post(stack.proxy, sendReq([eicar()]));
    await new Promise((r) => setTimeout(r, 50));
    const line = stack.rawLogs.find((l) => l.includes('type="utm"'));
    expect(line).toMatch(/^date=\d{4}-\d\d-\d\d time=\d\d:\d\d:\d\d eventtime=\d+ .*logid="0211008194" type="utm" subtype="virus".*virus="Eicar-Test-Signature"/);
  });

  it('pseudonymises MSISDNs in the logs with MSISDN_HASH_KEY', async () => {
    stack = await startStack({ MSISDN_HASH_KEY: 'secret', TRUSTED_GATEWAYS: '127.0.0.1' });
    await post(stack.proxy, sendReq([text('x')]), { 'x-wap-network-client-msisdn': '+4790000000' });
    const [v] = await verdicts(stack, 1);
    expect(v?.['from']).toMatch(/^h:[0-9a-f]{16}$/);
    expect(JSON.stringify(stack.logs)).not.toContain('4790000000');
  });

  it('answers m-send-conf 0xC3 when the MMSC is unreachable, and 0xC0 on a timeout', async () => {
    stack = await startStack({}, 'http://127.0.0.1:1');
    const r = await post(stack.proxy, sendReq([text('x')]));
    expect(octetHeader(decode(r.body), FIELD.RESPONSE_STATUS)).toBe(0xc3);
    await stack.close();
    stack = await startStack({ UPSTREAM_TIMEOUT: '0.3' });
    const slow = await post(stack.proxy, sendReq([text('x')]), { 'x-sim-delay-ms': '1500' });
    expect(octetHeader(decode(slow.body), FIELD.RESPONSE_STATUS)).toBe(0xc0);
  });

  it('scrapes counters from /metrics', async () => {
    stack = await startStack();
    await post(stack.proxy, sendReq([eicar()]));
    await post(stack.proxy, sendReq([text('ok')]));
    const m = await (await fetch(`${stack.admin}/metrics`)).text();
    expect(m).toMatch(/mmsguard_messages_total\{service="MM1",direction="outgoing",action="blocked",subtype="virus"\} 1/);
    expect(m).toMatch(/mmsguard_messages_total\{service="MM1",direction="outgoing",action="forwarded",subtype=""\} 1/);
    expect(m).toMatch(/mmsguard_scan_duration_seconds_count\{engine="builtin"\} 2/);
    expect((await fetch(`${stack.admin}/readyz`)).status).toBe(200);
  });
});
