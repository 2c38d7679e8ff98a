/**
 * MIN_UPLOAD_RATE is applied (issue 14 class 9: a setting that looks active must be): an upload that brings
 * fewer than MIN_UPLOAD_RATE bytes a second over MIN_UPLOAD_RATE_GRACE is cut — its socket destroyed, its
 * budget returned, a verdict record saying why — while an honest upload beside it is forwarded.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MMS, post, startStack, type Stack } from './harness.js';
import { part, sendReq } from './pdus.js';

describe('MIN_UPLOAD_RATE', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ MIN_UPLOAD_RATE: '1KiB', MIN_UPLOAD_RATE_GRACE: '0.5' });
  });
  afterAll(async () => s?.close());

  it('cuts a slow-loris upload and names the rate in its verdict record; an honest upload goes through', async () => {
    const { port } = new URL(s.proxy);
    const sock = connect(Number(port), '127.0.0.1');
    const closed = new Promise<number>((resolve) => {
      const t0 = Date.now();
      sock.on('close', () => resolve(Date.now() - t0));
      sock.on('error', () => undefined);
    });
    sock.write(`POST /mms HTTP/1.1\r\nHost: x\r\nContent-Type: ${MMS}\r\nContent-Length: 100000\r\n\r\n`);
    sock.write(Buffer.alloc(10, 0x8c));
    const clean = sendReq([part('a.txt', new TextEncoder().encode('hello'), 'text/plain')], 'T-honest');
    expect((await post(s.proxy, clean)).status).toBe(200);
    // Cut after the half-second window, well before the 100,000 bytes could ever arrive.
    expect(await closed).toBeLessThan(10_000);
    const records = s.logs.filter((l) => l['event'] === 'verdict');
    expect(records.find((r) => r['action'] === 'aborted')?.['reason']).toMatch(/MIN_UPLOAD_RATE/);
    expect(records.find((r) => r['transactionid'] === 'T-honest')?.['action']).toBe('forwarded');
    expect(s.proxyApp.ctx.budget.inUse).toBe(0);
  });
});
