import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '@mmsguard/policy';
import { decode, encodedStrings, FIELD } from 'wap-mms-decoder';
import { Metrics } from '../src/metrics.js';
import { SenderNotices } from '../src/sender-notice.js';

let srv: Server | null = null;
afterEach(async () => {
  if (srv !== null) await new Promise((r) => srv?.close(r));
  srv = null;
});

async function mmsc(): Promise<{ url: string; got: Buffer[] }> {
  const got: Buffer[] = [];
  srv = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push(Buffer.concat(chunks));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => srv?.listen(0, '127.0.0.1', r));
  const a = srv.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/mms`, got };
}

const result = async (m: Metrics, r: string): Promise<number> =>
  (await m.senderNotices.get()).values.find((v) => v.labels.result === r)?.value ?? 0;

describe('MMS notices to blocked senders', () => {
  it('send one per sender per interval slot, to that sender, sharing the count across instances (store)', async () => {
    const rx = await mmsc();
    const shared = new MemoryStore();
    const opts = { url: rx.url, from: null, intervalMs: 1000, timeoutMs: 5000 };
    const ma = new Metrics();
    const mb = new Metrics();
    const a = new SenderNotices(opts, ma, null, shared);
    const b = new SenderNotices(opts, mb, null, shared);
    a.send('+4790000001', 'Message not delivered', 'virus X', 10_000);
    b.send('+4790000001', 'Message not delivered', 'virus X', 10_500); // the other instance, same slot
    a.send('+4790000001', 'Message not delivered', 'virus X', 10_999);
    a.send('+4790000002', 'Message not delivered', 'virus X', 10_999); // another sender
    a.send('+4790000001', 'Message not delivered', 'virus X', 11_000); // next slot
    a.send(null, 's', 't', 11_000); // no sender known: nothing
    await Promise.all([a.drain(), b.drain()]);
    expect(await result(ma, 'sent')).toBe(3);
    expect(await result(ma, 'rate-limited')).toBe(1);
    expect(await result(mb, 'rate-limited')).toBe(1);
    const to = rx.got.map((g) => encodedStrings(decode(g), FIELD.TO)[0]?.text).sort();
    expect(to).toEqual(['+4790000001/TYPE=PLMN', '+4790000001/TYPE=PLMN', '+4790000002/TYPE=PLMN']);
  });

  it('count a notice the MMSC refuses as failed, never retrying it', async () => {
    srv = createServer((_req, res) => res.writeHead(500).end());
    await new Promise<void>((r) => srv?.listen(0, '127.0.0.1', r));
    const a = srv.address();
    const m = new Metrics();
    const url = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/`;
    const n = new SenderNotices({ url, from: null, intervalMs: 1000, timeoutMs: 5000 }, m, null);
    n.send('+47', 's', 't');
    await n.drain();
    expect(await result(m, 'failed')).toBe(1);
    expect(await result(m, 'sent')).toBe(0);
  });
});
