/** MM1 retrieve (GET m-retrieve-conf) through the proxy. */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { FIELD, decode, encodedStrings, octetHeader, partInfo, textHeader } from 'wap-mms-decoder';
import { get, post, startStack, verdicts, type Stack } from './harness.js';
import { eicar, eicarZip, part, retrieveConfOf, sendReq, text } from './pdus.js';

let stack: Stack | null = null;
let mmsc: Server | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
  if (mmsc !== null) await new Promise((r) => mmsc?.close(r));
  mmsc = null;
});

/** An MMSC that answers every GET with `status` and `body`, and records the request headers. */
async function answering(status: number, body: Uint8Array, type = 'application/vnd.wap.mms-message'): Promise<{ url: string; seen: Record<string, unknown>[] }> {
  const seen: Record<string, unknown>[] = [];
  mmsc = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(status, { 'content-type': type, 'content-length': String(body.length) });
    res.end(Buffer.from(body));
  });
  await new Promise<void>((r) => mmsc?.listen(0, '127.0.0.1', r));
  const a = mmsc.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`, seen };
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function preload(s: Stack, id: string, pdu: Uint8Array): Promise<void> {
  const res = await fetch(`${s.simUrl}/_sim/messages/${id}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: pdu });
  expect(res.status).toBe(200);
}

describe('MM1 retrieve', () => {
  it('relays a clean m-retrieve-conf byte-identical', async () => {
    stack = await startStack();
    const pdu = retrieveConfOf(sendReq([text('hello'), part('a.jpg', new Uint8Array(2000).fill(1), 'image/jpeg')], 'R-1'));
    await preload(stack, 'clean', pdu);
    const r = await get(stack.proxy, '/mms/clean');
    expect(r.status).toBe(200);
    expect(sha(r.body)).toBe(sha(pdu));
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ direction: 'incoming', action: 'forwarded', msgtype: 'm-retrieve-conf', parts: 2 });
  });

  it('delivers a message sent through the simulator (send, then fetch its URL)', async () => {
    stack = await startStack();
    const sent = await post(stack.proxy, sendReq([text('round trip')]));
    const id = textHeader(decode(sent.body), FIELD.MESSAGE_ID);
    const r = await get(stack.proxy, `/mms/${id ?? ''}`);
    const pdu = decode(r.body);
    expect(pdu.messageType).toBe(0x84);
    expect(Buffer.from(pdu.parts![0]!.data).toString()).toBe('round trip');
  });

  it('replaces an infected message with an m-retrieve-conf 0xE3 and a Retrieve-Text', async () => {
    stack = await startStack();
    await preload(stack, 'bad', retrieveConfOf(sendReq([text('hi'), eicarZip()], 'R-bad')));
    const r = await get(stack.proxy, '/mms/bad');
    expect(r.status).toBe(200);
    const pdu = decode(r.body);
    expect(pdu.messageType).toBe(0x84);
    expect(textHeader(pdu, FIELD.TRANSACTION_ID)).toBe('R-bad');
    expect(octetHeader(pdu, FIELD.RETRIEVE_STATUS)).toBe(0xe3);
    expect(encodedStrings(pdu, FIELD.RETRIEVE_TEXT)[0]?.text).toMatch(/Eicar-Test-Signature/);
    expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ subtype: 'virus', direction: 'incoming', action: 'blocked' });
  });

  it('scans whatever PDU a GET answers with (m-mbox-view-conf with EICAR): refused (issue 14 class 7)', async () => {
    stack = await startStack();
    await preload(stack, 'view', sendReq([text('hi'), eicar()], 'R-view', 0x8e));
    const r = await get(stack.proxy, '/mms/view');
    expect(octetHeader(decode(r.body), FIELD.RETRIEVE_STATUS)).toBe(0xe3);
    expect(Buffer.from(r.body).includes(Buffer.from('EICAR'))).toBe(false);
  });

  it('with REMOVE_BLOCKED=on delivers the message minus the infected part, plus a replacement part', async () => {
    stack = await startStack({ REMOVE_BLOCKED: 'on' });
    await preload(stack, 'mixed', retrieveConfOf(sendReq([text('keep'), eicar()], 'R-mixed')));
    const pdu = decode((await get(stack.proxy, '/mms/mixed')).body);
    expect(octetHeader(pdu, FIELD.RETRIEVE_STATUS)).toBeNull();
    expect(pdu.parts?.map((p) => partInfo(p).name)).toEqual(['hello.txt', 'eicar.com.removed.txt']);
    expect(Buffer.from(pdu.parts![1]!.data).toString()).toMatch(/removed/);
  });

  it('blocks an oversized download with 0xE3, or relays it unscanned with pass', async () => {
    const big = retrieveConfOf(sendReq([part('big.bin', new Uint8Array(40_000).fill(3))], 'R-big'));
    stack = await startStack({ MM1_OVERSIZE_LIMIT: '10KB' });
    await preload(stack, 'big', big);
    expect(octetHeader(decode((await get(stack.proxy, '/mms/big')).body), FIELD.RETRIEVE_STATUS)).toBe(0xe3);
    await stack.close();
    stack = await startStack({ MM1_OVERSIZE_LIMIT: '10KB', MM1_OVERSIZE_ACTION: 'pass' });
    await preload(stack, 'big', big);
    expect(sha((await get(stack.proxy, '/mms/big')).body)).toBe(sha(big));
  });

  it('never lets Range or If-Range reach the MMSC: the whole message is fetched and scanned (issue 14 class 2)', async () => {
    stack = await startStack();
    await preload(stack, 'r', retrieveConfOf(sendReq([text('hi'), eicar()], 'R-range')));
    const r = await get(stack.proxy, '/mms/r', { range: 'bytes=0-99', 'if-range': '"x"' });
    expect(octetHeader(decode(r.body), FIELD.RETRIEVE_STATUS)).toBe(0xe3);
    const seen = stack.sim.received.at(-1)?.headers ?? {};
    expect(seen['range']).toBeUndefined();
    expect(seen['if-range']).toBeUndefined();
  });

  for (const status of [206, 203, 404, 500]) {
    it(`scans a ${status} answer whose body is a PDU: EICAR in it is refused (issue 14 class 2)`, async () => {
      const up = await answering(status, retrieveConfOf(sendReq([text('hi'), eicar()], `R-${status}`)));
      stack = await startStack({}, up.url);
      const r = await get(stack.proxy, '/mms/x');
      expect(Buffer.from(r.body).includes(Buffer.from('EICAR'))).toBe(false);
      expect(octetHeader(decode(r.body), FIELD.RETRIEVE_STATUS)).toBe(0xe3);
      const [v] = await verdicts(stack, 1);
      expect(v).toMatchObject({ action: 'blocked', subtype: 'virus' });
    });
  }

  it('relays a clean non-200 PDU answer with its status, and withholds an error body that is no PDU', async () => {
    const clean = retrieveConfOf(sendReq([text('ok')], 'R-203'));
    let up = await answering(203, clean);
    stack = await startStack({}, up.url);
    const r = await get(stack.proxy, '/mms/x');
    expect(r.status).toBe(203);
    expect(sha(r.body)).toBe(sha(clean));
    await stack.close();
    await new Promise((res) => mmsc?.close(res));
    up = await answering(404, new TextEncoder().encode('<html>not here</html>'), 'text/html');
    stack = await startStack({}, up.url);
    const nf = await get(stack.proxy, '/mms/x');
    expect(nf.status).toBe(404);
    expect(Buffer.from(nf.body).toString()).not.toContain('<html>');
  });

  it('relays upstream errors (404) and answers 502 when the MMSC resets, 504 when it is too slow', async () => {
    stack = await startStack({ UPSTREAM_TIMEOUT: '0.3' });
    expect((await get(stack.proxy, '/mms/none')).status).toBe(404);
    await preload(stack, 'x', retrieveConfOf(sendReq([text('x')])));
    expect((await get(stack.proxy, '/mms/x', { 'x-sim-mode': 'reset' })).status).toBe(502);
    expect((await get(stack.proxy, '/mms/x', { 'x-sim-delay-ms': '1500' })).status).toBe(504);
    expect((await get(stack.proxy, '/mms/x', { 'x-sim-mode': 'reset-mid-body' })).status).toBe(502);
    const vs = await verdicts(stack, 4);
    expect(vs.map((v) => v['action'])).toEqual(['forwarded', 'error', 'error', 'aborted']);
  });
});
