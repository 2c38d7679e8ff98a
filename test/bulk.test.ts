/** Flood and duplicate protection through the proxy: in-memory, and shared in Redis across two instances. */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { FIELD, decode, octetHeader } from 'wap-mms-decoder';
import { REDIS_BIN } from '../packages/state-redis/test/redis-setup.js';
import { startLocalRedis } from '../packages/state-redis/src/testing.js';
import { post, startStack, verdicts, type Stack } from './harness.js';
import { sendReq, text } from './pdus.js';
import { postMm7, submitReq } from './mm7-submit.js';

const redisUrl = inject('redisUrl');
const stacks: Stack[] = [];
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});
async function stack(env: Record<string, string>): Promise<Stack> {
  const s = await startStack({ TRUSTED_GATEWAYS: '127.0.0.1', ...env });
  stacks.push(s);
  return s;
}
const status = (b: Uint8Array): number | null => octetHeader(decode(b), FIELD.RESPONSE_STATUS);
const from = (msisdn: string): Record<string, string> => ({ 'x-wap-network-client-msisdn': msisdn });

describe('flood protection (in-memory store)', () => {
  it('blocks a sender past the limit with 0xE1, logs it, lists and releases the block', async () => {
    const s = await stack({ FLOOD_THRESHOLDS: '3/60:block:60' });
    const got: (number | null)[] = [];
    for (let i = 0; i < 5; i++) got.push(status((await post(s.proxy, sendReq([text(`m${i}`)]), from('+47 900 00 001'))).body));
    expect(got).toEqual([0x80, 0x80, 0x80, 0xe1, 0xe1]);
    expect(s.sim.received).toHaveLength(3);
    expect(status((await post(s.proxy, sendReq([text('other')]), from('+4790000002'))).body)).toBe(0x80);
    expect(s.logs.find((l) => l['type'] === 'utm')).toMatchObject({ subtype: 'flood', logid: '0208020492', action: 'blocked' });
    const vs = await verdicts(s, 6);
    expect(vs[3]).toMatchObject({ action: 'blocked', subtype: 'flood' });
    const list = (await (await fetch(`${s.admin}/bulk/blocks`)).json()) as { blocks: { key: string }[] };
    expect(list.blocks.map((b) => b.key)).toEqual(['flood:block:+4790000001']);
    const metrics = async (): Promise<string> => (await fetch(`${s.admin}/metrics`)).text();
    let m = await metrics();
    expect(m).toContain('mmsguard_bulk_blocked{kind="flood"} 1');
    expect(m).toContain('mmsguard_bulk_blocked{kind="dupe"} 0');
    expect(m).toContain('mmsguard_bulk_events_total{service="MM1",kind="flood",action="blocked"} 2');
    expect((await fetch(`${s.admin}/bulk/blocks/${encodeURIComponent('flood:block:+4790000001')}`, { method: 'DELETE' })).status).toBe(200);
    m = await metrics();
    expect(m).toContain('mmsguard_bulk_blocked{kind="flood"} 0');
    expect(status((await post(s.proxy, sendReq([text('again')]), from('+4790000001'))).body)).toBe(0x80);
  });

  it('can hide the block behind a plain Ok (nothing forwarded)', async () => {
    const s = await stack({ FLOOD_THRESHOLDS: '1/60:block:60', BULK_BLOCK_REPLY: 'hide' });
    await post(s.proxy, sendReq([text('a')]), from('+4711'));
    const r = await post(s.proxy, sendReq([text('b')]), from('+4711'));
    expect(status(r.body)).toBe(0x80);
    expect(s.sim.received).toHaveLength(1);
  });

  it('only logs (monitored) for a log-only threshold', async () => {
    const s = await stack({ FLOOD_THRESHOLDS: '1/60:log' });
    await post(s.proxy, sendReq([text('a')]), from('+4712'));
    expect(status((await post(s.proxy, sendReq([text('b')]), from('+4712'))).body)).toBe(0x80);
    expect(s.logs.find((l) => l['type'] === 'utm')).toMatchObject({ subtype: 'flood', action: 'monitored' });
  });
});

describe('sender identity', () => {
  it('reads a hex-encoded MSISDN header (MSISDN_HEADER_ENCODING=hex) and ignores an undecodable one', async () => {
    const s = await stack({ FLOOD_THRESHOLDS: '1/60:block:60', MSISDN_HEADER_ENCODING: 'hex', MSISDN_PREFIX_RULES: '00=+' });
    const hex = (m: string): Record<string, string> => from(Buffer.from(m, 'latin1').toString('hex'));
    expect(status((await post(s.proxy, sendReq([text('a')]), hex('+4790000077'))).body)).toBe(0x80);
    // the same sender in the 00 form (MSISDN_PREFIX_RULES) is the same key
    expect(status((await post(s.proxy, sendReq([text('b')]), hex('004790000077'))).body)).toBe(0xe1);
    const list = (await (await fetch(`${s.admin}/bulk/blocks`)).json()) as { blocks: { key: string }[] };
    expect(list.blocks.map((b) => b.key)).toEqual(['flood:block:+4790000077']);
    // not hex: treated as absent (the PDU's From is used; ours is insert-address, so not counted) and logged
    expect(status((await post(s.proxy, sendReq([text('c')]), from('+4790000078'))).body)).toBe(0x80);
    expect(status((await post(s.proxy, sendReq([text('d')]), from('+4790000078'))).body)).toBe(0x80);
    expect(s.logs.find((l) => l['event'] === 'bad-msisdn-header')).toBeDefined();
  });
});

describe('MM7 per VASP', () => {
  const att = (t: string): { name: string; type: string; data: Uint8Array } => ({ name: 'a.txt', type: 'text/plain', data: Buffer.from(t) });

  it('blocks a VASP past its flood limit with a 4007 Fault; other VASPs and MM1 are not affected', async () => {
    const s = await stack({ MM7_FLOOD_THRESHOLDS: '2/60:block:60', FLOOD_THRESHOLDS: '100/60:block:60' });
    const got: number[] = [];
    for (let i = 0; i < 4; i++) got.push((await postMm7(s.mm7, submitReq({ vaspId: 'VASP-A', tid: `A${i}`, attachments: [att(`m${i}`)] }))).status);
    expect(got).toEqual([200, 200, 500, 500]);
    const r = await postMm7(s.mm7, submitReq({ vaspId: 'VASP-A', tid: 'A9', attachments: [att('x')] }));
    expect(r.text).toMatch(/<RSErrorRsp[^>]*>.*<StatusCode>4007<\/StatusCode><StatusText>Service denied<\/StatusText>/s);
    expect(r.text).toContain('>A9</mm7:TransactionID>');
    expect((await postMm7(s.mm7, submitReq({ vaspId: 'VASP-B', attachments: [att('y')] }))).status).toBe(200);
    expect(s.sim.mm7Bodies).toHaveLength(3);
    expect(s.logs.find((l) => l['type'] === 'utm')).toMatchObject({ service: 'MM7', subtype: 'flood', action: 'blocked' });
    const list = (await (await fetch(`${s.admin}/bulk/blocks`)).json()) as { blocks: { key: string }[] };
    expect(list.blocks.map((b) => b.key)).toEqual(['flood:block:vasp:VASP-A']);
    const senders = (await (await fetch(`${s.admin}/bulk/senders`)).json()) as { counts: unknown[] };
    expect(senders.counts).toEqual([{ service: 'MM7', key: 'vasp:VASP-A', count: 3, window_s: 60 }, { service: 'MM7', key: 'vasp:VASP-B', count: 1, window_s: 60 }]);
    expect(await (await fetch(`${s.admin}/metrics`)).text()).toContain('mmsguard_bulk_events_total{service="MM7",kind="flood",action="blocked"} 3');
  });

  it('hides the block behind a SubmitRsp 1000 when BULK_BLOCK_REPLY=hide', async () => {
    const s = await stack({ MM7_FLOOD_THRESHOLDS: '1/60:block:60', BULK_BLOCK_REPLY: 'hide' });
    await postMm7(s.mm7, submitReq({ vaspId: 'VASP-H', attachments: [att('1')] }));
    const r = await postMm7(s.mm7, submitReq({ vaspId: 'VASP-H', attachments: [att('2')] }));
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/<SubmitRsp[^>]*>.*<StatusCode>1000<\/StatusCode>.*<MessageID>mmsguard-/s);
    expect(s.sim.mm7Bodies).toHaveLength(1);
  });

  it('blocks the same attachments past the duplicate limit, from any VASPs', async () => {
    const s = await stack({ MM7_DUPE_THRESHOLDS: '2/60:block:60' });
    const got: number[] = [];
    for (const v of ['V1', 'V2', 'V3']) got.push((await postMm7(s.mm7, submitReq({ vaspId: v, attachments: [att('same spam')] }))).status);
    expect(got).toEqual([200, 200, 500]);
    expect((await postMm7(s.mm7, submitReq({ vaspId: 'V4', attachments: [att('other')] }))).status).toBe(200);
    expect(s.logs.find((l) => l['type'] === 'utm')).toMatchObject({ service: 'MM7', subtype: 'dupe', action: 'blocked' });
  });
});

describe('duplicate protection', () => {
  it('blocks the same content past the limit, from any senders', async () => {
    const s = await stack({ DUPE_THRESHOLDS: '2/60:block:60' });
    const same = sendReq([text('win a prize!')]);
    const got = [];
    for (const m of ['+4721', '+4722', '+4723']) got.push(status((await post(s.proxy, same, from(m))).body));
    expect(got).toEqual([0x80, 0x80, 0xe1]);
    expect(status((await post(s.proxy, sendReq([text('different')]), from('+4724'))).body)).toBe(0x80);
    const fp = (await (await fetch(`${s.admin}/bulk/fingerprints`)).json()) as { counts: { service: string; key: string; count: number; window_s: number }[] };
    expect(fp.counts.map((c) => [c.service, c.count, c.window_s])).toEqual([['MM1', 3, 60], ['MM1', 1, 60]]);
    expect(fp.counts[0]!.key).toMatch(/^[0-9a-f]{64}$/);
    expect(s.logs.find((l) => l['type'] === 'utm')).toMatchObject({ subtype: 'dupe', action: 'blocked' });
  });
});

describe.skipIf(redisUrl === null)('shared state in Redis', () => {
  it('holds the flood limit across two proxy instances', async () => {
    const env = { FLOOD_THRESHOLDS: '4/60:block:60', STATE_STORE: redisUrl!, MSISDN_HEADER: `x-msisdn-${Date.now()}` };
    const a = await stack(env);
    const b = await stack(env);
    const hdr = { [env.MSISDN_HEADER]: `+47${Date.now()}` };
    const got = [];
    for (let i = 0; i < 6; i++) got.push(status((await post(i % 2 === 0 ? a.proxy : b.proxy, sendReq([text(`m${i}`)]), hdr)).body));
    expect(got).toEqual([0x80, 0x80, 0x80, 0x80, 0xe1, 0xe1]);
  });

  it('follows STATE_STORE_FAILURE when Redis is unreachable: open forwards, closed answers 0xC0', async () => {
    const open = await stack({ FLOOD_THRESHOLDS: '4/60:block:60', STATE_STORE: 'redis://127.0.0.1:1' });
    expect(status((await post(open.proxy, sendReq([text('x')]), from('+4731'))).body)).toBe(0x80);
    expect(open.logs.find((l) => l['event'] === 'state-store-error')).toBeDefined();
    expect(await (await fetch(`${open.admin}/metrics`)).text()).toContain('mmsguard_state_store_errors_total{service="MM1"} 1');
    const closed = await stack({ FLOOD_THRESHOLDS: '4/60:block:60', STATE_STORE: 'redis://127.0.0.1:1', STATE_STORE_FAILURE: 'closed' });
    expect(status((await post(closed.proxy, sendReq([text('x')]), from('+4731'))).body)).toBe(0xc0);
  });
});

describe.skipIf(REDIS_BIN === null)('Redis going away and coming back', () => {
  it('fails open quickly while Redis is down, then counts again once it is back (no restart of the proxy)', async () => {
    const redis = await startLocalRedis();
    let firstStopped = false;
    try {
      const s = await stack({ FLOOD_THRESHOLDS: '2/60:block:60', STATE_STORE: redis.url });
      const hdr = from('+4790000041');
      expect(status((await post(s.proxy, sendReq([text('a')]), hdr)).body)).toBe(0x80);
      await redis.stop();
      firstStopped = true;
      const t0 = Date.now();
      // fail-open: forwarded, logged, counted — and within the store's ~2 s bound, not hanging
      expect(status((await post(s.proxy, sendReq([text('b')]), hdr)).body)).toBe(0x80);
      expect(Date.now() - t0).toBeLessThan(6000);
      expect(s.logs.some((l) => l['event'] === 'state-store-error')).toBe(true);
      // back on the same port: ioredis reconnects by itself
      const again = await startLocalRedis(redis.port);
      try {
        let got: number | null = null;
        for (let i = 0; i < 40 && got !== 0xe1; i++) {
          got = status((await post(s.proxy, sendReq([text(`c${i}`)]), hdr)).body);
          if (got !== 0xe1) await new Promise((r) => setTimeout(r, 250));
        }
        // the new Redis is empty: three sends past the limit of two block again
        expect(got).toBe(0xe1);
      } finally {
        await again.stop();
      }
    } finally {
      if (!firstStopped) await redis.stop();
    }
  });
});
