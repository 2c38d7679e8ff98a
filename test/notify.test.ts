/** Administrator notifications to a webhook receiver on 127.0.0.1. */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSim } from '@mmsguard/mmsc-sim';
import { post, startStack, type Stack } from './harness.js';
import { FIELD, decode, encodedStrings, octetHeader } from 'wap-mms-decoder';
import { eicar, sendReq, text } from './pdus.js';

let stack: Stack | null = null;
let srv: Server | null = null;
const closeLater: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closeLater.splice(0)) await c();
  await stack?.close();
  stack = null;
  if (srv !== null) await new Promise((r) => srv?.close(r));
  srv = null;
});

async function receiver(failFirst = 0): Promise<{ url: string; got: Record<string, unknown>[] }> {
  const got: Record<string, unknown>[] = [];
  let fails = failFirst;
  srv = createServer((req, res) => {
    let b = '';
    req.on('data', (c: Buffer) => (b += c.toString()));
    req.on('end', () => {
      if (fails-- > 0) {
        res.writeHead(503).end();
        return;
      }
      got.push(JSON.parse(b) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => srv?.listen(0, '127.0.0.1', r));
  const a = srv.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/hook`, got };
}

const until = async (f: () => boolean, ms = 5000): Promise<void> => {
  for (let t = 0; t < ms && !f(); t += 50) await new Promise((r) => setTimeout(r, 50));
};

describe('webhook notifications', () => {
  it('sends the first virus event at once, then one notice per interval with the count; retries a failing receiver', async () => {
    const rx = await receiver(1);
    stack = await startStack({ NOTIFY_URL: rx.url, NOTIFY_INTERVAL: '0.5' });
    for (let i = 0; i < 4; i++) await post(stack.proxy, sendReq([eicar()], `T-${i}`));
    await until(() => rx.got.length >= 2);
    expect(rx.got[0]).toMatchObject({ event: 'virus', first: true, count: 1, source: 'mmsguard' });
    expect((rx.got[0]?.['record'] as Record<string, unknown>)['virus']).toBe('Eicar-Test-Signature');
    expect(rx.got[1]).toMatchObject({ event: 'virus', first: false, count: 3 });
  });
});

describe('flood alerts', () => {
  it('notify the webhook for a threshold with alert, not for one without', async () => {
    const rx = await receiver();
    stack = await startStack({ NOTIFY_URL: rx.url, TRUSTED_GATEWAYS: '127.0.0.1', FLOOD_THRESHOLDS: '1/60:log;2/60:block+alert:60' });
    for (let i = 0; i < 4; i++) await post(stack.proxy, sendReq([text(`m${i}`)], `T-a${i}`), { 'x-wap-network-client-msisdn': '+4790000031' });
    await until(() => rx.got.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    // message 2 crossed the log-only threshold (no notice), message 3 the alerting one; message 4 fell in the block
    expect(rx.got.map((g) => [g['event'], g['first'], (g['record'] as Record<string, unknown>)['action']])).toEqual([['flood', true, 'blocked']]);
    expect(stack.logs.filter((l) => l['type'] === 'utm').map((l) => l['action'])).toEqual(['monitored', 'blocked', 'blocked']);
  });
});

describe('MMS notices to blocked senders', () => {
  it('sends one m-send-req to the sender per interval, built from the notice templates, without delaying the reply', async () => {
    // a second simulator stands in for the MMSC that delivers the notices
    const mmsc = buildSim();
    await mmsc.app.listen({ host: '127.0.0.1', port: 0 });
    closeLater.push(() => mmsc.app.close());
    const a = mmsc.app.server.address();
    const url = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/mms`;
    stack = await startStack({ TRUSTED_GATEWAYS: '127.0.0.1', MSISDN_PREFIX_RULES: '00=+', SENDER_NOTICE_URL: url });
    const hdr = { 'x-wap-network-client-msisdn': '004790000005' };
    for (let i = 0; i < 2; i++) expect(octetHeader(decode((await post(stack.proxy, sendReq([eicar()], `T-n${i}`), hdr)).body), FIELD.RESPONSE_STATUS)).toBe(0xe5);
    const s = stack;
    await until(() => mmsc.messages.size >= 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(s.sim.messages.size).toBe(0); // nothing of the blocked messages reached the real MMSC
    const notices = [...mmsc.messages.values()].map((b) => decode(b));
    expect(notices).toHaveLength(1);
    const n = notices[0]!;
    expect(n.messageType).toBe(0x84); // the simulator stores what it accepted as an m-send-req as the m-retrieve-conf it would deliver
    expect(encodedStrings(n, FIELD.TO).map((a) => a.text)).toEqual(['+4790000005/TYPE=PLMN']);
    expect(encodedStrings(n, FIELD.SUBJECT)[0]?.text).toBe('Message not delivered');
    expect(Buffer.from(n.parts![0]!.data).toString('utf8')).toBe('Your message to +4790000001 was not delivered: virus Eicar-Test-Signature in eicar.com.');
    const m = await (await fetch(`${s.admin}/metrics`)).text();
    expect(m).toContain('mmsguard_sender_notices_total{result="sent"} 1');
    expect(m).toContain('mmsguard_sender_notices_total{result="rate-limited"} 1');
  });
});
