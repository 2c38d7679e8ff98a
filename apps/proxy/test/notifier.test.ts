import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Notifier } from '../src/notifier.js';
import { parseWindow } from '../src/schedule.js';

let srv: Server | null = null;
afterEach(async () => {
  if (srv !== null) await new Promise((r) => srv?.close(r));
  srv = null;
});

async function receiver(): Promise<{ url: string; got: Record<string, unknown>[] }> {
  const got: Record<string, unknown>[] = [];
  srv = createServer((req, res) => {
    let b = '';
    req.on('data', (c: Buffer) => (b += c.toString()));
    req.on('end', () => {
      got.push(JSON.parse(b) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => srv?.listen(0, '127.0.0.1', r));
  const a = srv.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/`, got };
}

const virus = { subtype: 'virus', action: 'blocked', virus: 'Eicar-Test-Signature' };

describe('notification window', () => {
  it('holds events outside the window and sends them, counted, once it opens', async () => {
    const rx = await receiver();
    let now = new Date(2026, 10, 29, 3, 0); // a Sunday, 03:00
    const window = parseWindow('mon-fri 08:00-18:00');
    const n = new Notifier({ url: rx.url, intervalMs: 60_000, perSecond: 100, window, now: () => now }, null);
    try {
      for (let i = 0; i < 3; i++) n.onUtm(virus);
      n.flushCounts();
      await new Promise((r) => setTimeout(r, 200));
      expect(rx.got).toEqual([]);
      now = new Date(2026, 10, 30, 8, 5); // Monday 08:05
      n.flushCounts();
      for (let t = 0; t < 50 && rx.got.length === 0; t++) await new Promise((r) => setTimeout(r, 20));
      expect(rx.got).toHaveLength(1);
      expect(rx.got[0]).toMatchObject({ event: 'virus', first: true, count: 3, record: virus });
      // inside the window a new kind goes out at once
      n.onUtm({ subtype: 'file-filter', action: 'blocked', filetype: 'exe' });
      for (let t = 0; t < 50 && rx.got.length === 1; t++) await new Promise((r) => setTimeout(r, 20));
      expect(rx.got[1]).toMatchObject({ event: 'file-block', first: true, count: 1 });
    } finally {
      n.close();
    }
  });
});

describe('flood and duplicate notices follow the threshold\u2019s alert action', () => {
  it('notifies a crossing with alert, counts later attempts in one notice, ignores those without', async () => {
    const rx = await receiver();
    const n = new Notifier({ url: rx.url, intervalMs: 100, perSecond: 100 }, null);
    try {
      n.onUtm({ subtype: 'flood', action: 'blocked', from: '+4711' }); // a threshold without alert
      n.onUtm({ subtype: 'dupe', action: 'monitored', from: '+4712', analyticscksum: 'ab' }, true); // log+alert
      // same content, during a block
      n.onUtm({ subtype: 'dupe', action: 'blocked', from: '+4713', analyticscksum: 'ab' });
      for (let t = 0; t < 100 && rx.got.length < 2; t++) await new Promise((r) => setTimeout(r, 20));
      const got = rx.got.map((g) => [g['event'], g['first'], g['count']]);
      expect(got).toEqual([['duplicate', true, 1], ['duplicate', false, 1]]);
    } finally {
      n.close();
    }
  });
});

describe('notice groups', () => {
  it('stay bounded: past maxGroups distinct keys the rest is counted in one group of its kind', async () => {
    const rx = await receiver();
    let now = new Date(2026, 10, 29, 3, 0); // Sunday night: the window is closed, so everything is held
    const window = parseWindow('mon 08:00-09:00');
    const opts = { url: rx.url, intervalMs: 60_000, perSecond: 1000, maxGroups: 2, window, now: () => now };
    const n = new Notifier(opts, null);
    try {
      for (let i = 0; i < 5; i++) n.onUtm({ subtype: 'file-filter', action: 'blocked', filetype: `t${i}` });
      now = new Date(2026, 10, 30, 8, 0);
      n.flushCounts();
      for (let t = 0; t < 100 && rx.got.length < 3; t++) await new Promise((r) => setTimeout(r, 20));
      const got = rx.got.map((g) => [(g['record'] as Record<string, unknown>)['filetype'], g['count']]).sort();
      // t2..t4 share the `*` group (its record is the first it saw)
      expect(got).toEqual([['t0', 1], ['t1', 1], ['t2', 3]]);
    } finally {
      n.close();
    }
  });
});
