/**
 * CONTRACT §7 verdict lookup: every message with a Transaction-ID leaves a record in the verdict store
 * (memory, or the STATE_STORE's Redis), written once from `Exchange.finish`, and `GET /verdicts/{tid}`
 * on the admin port answers it: 200 with the records, 404 unknown, 503 when the store is away.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { eicarBytes } from '@mmsguard/scan';
import { post, startStack, verdicts, type Stack } from './harness.js';
import { eicar, sendReq, text } from './pdus.js';
import { postMm7, submitReq } from './mm7-submit.js';

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export async function lookup(
  s: Stack, tid: string, headers: Record<string, string> = {},
): Promise<{ status: number; body: { verdicts?: Record<string, unknown>[]; error?: string } }> {
  const res = await fetch(`${s.admin}/verdicts/${encodeURIComponent(tid)}`, { headers });
  return { status: res.status, body: (await res.json()) as { verdicts?: Record<string, unknown>[] } };
}

describe('GET /verdicts/{transaction_id}', () => {
  it('names a blocked EICAR send: action, parts with size, SHA-256 and findings, pseudonymised addresses', async () => {
    stack = await startStack({ MSISDN_HASH_KEY: 'k' });
    const r = await post(stack.proxy, sendReq([text('hi'), eicar()], 'T-look-1'));
    expect(r.status).toBe(200);
    const [logged] = await verdicts(stack, 1);
    const got = await lookup(stack, 'T-look-1');
    expect(got.status).toBe(200);
    expect(got.body.verdicts).toHaveLength(1);
    const rec = got.body.verdicts?.[0] ?? {};
    expect(rec).toMatchObject({
      service: 'MM1', action: 'blocked', transaction_id: 'T-look-1', message_id: null,
    });
    // Pseudonymised as the log names it, never the number itself.
    expect(rec['to']).toEqual([logged?.['to']]);
    expect(JSON.stringify(rec)).not.toContain('4790000001');
    expect(Date.parse(String(rec['time']))).not.toBeNaN();
    const parts = rec['parts'] as Record<string, unknown>[];
    expect(parts).toHaveLength(2);
    expect(parts[0]).toMatchObject({ index: 0, filename: 'hello.txt', content_type: 'text/plain', size: 2, findings: [] });
    expect(parts[1]).toMatchObject({
      index: 1, filename: 'eicar.com', size: eicarBytes().length, sha256: sha(eicarBytes()), quarantined: false,
    });
    expect(parts[1]?.['findings']).toEqual([expect.objectContaining({ kind: 'virus', engine: 'builtin' })]);
  });

  it('keeps every record of a transaction id (a clean retry after a block), oldest first; 404 for unknown', async () => {
    stack = await startStack();
    await post(stack.proxy, sendReq([eicar()], 'T-look-2'));
    await post(stack.proxy, sendReq([text('sorry')], 'T-look-2'));
    const got = await lookup(stack, 'T-look-2');
    expect(got.status).toBe(200);
    expect(got.body.verdicts?.map((v) => v['action'])).toEqual(['blocked', 'forwarded']);
    expect((await lookup(stack, 'T-never')).status).toBe(404);
  });

  it('MM7: a rewritten SubmitReq is attachment-removed with its parts', async () => {
    stack = await startStack({ REMOVE_BLOCKED: 'on' });
    const m = submitReq({
      vaspId: 'V', tid: 'T-look-mm7',
      attachments: [{ name: 'a.txt', type: 'text/plain', data: Buffer.from('keep') }, { name: 'e.com', type: 'application/octet-stream', data: eicarBytes() }],
    });
    expect((await postMm7(stack.mm7, m)).status).toBe(200);
    const got = await lookup(stack, 'T-look-mm7');
    expect(got.status).toBe(200);
    const rec = got.body.verdicts?.[0] ?? {};
    expect(rec).toMatchObject({ service: 'MM7', action: 'attachment-removed' });
    const parts = rec['parts'] as { sha256: string; findings: unknown[] }[];
    expect(parts.some((p) => p.sha256 === sha(eicarBytes()) && p.findings.length > 0)).toBe(true);
  });

  it('needs the admin token when ADMIN_TOKEN is set', async () => {
    stack = await startStack({ ADMIN_TOKEN: 'sekrit' });
    await post(stack.proxy, sendReq([text('x')], 'T-look-3'));
    expect((await lookup(stack, 'T-look-3')).status).toBe(401);
    expect((await lookup(stack, 'T-look-3', { authorization: 'Bearer sekrit' })).status).toBe(200);
  });

  it('STATE_STORE down: traffic unaffected, failed puts counted, lookup 503', async () => {
    stack = await startStack({ STATE_STORE: 'redis://127.0.0.1:1' });
    const r = await post(stack.proxy, sendReq([text('still goes')], 'T-look-4'));
    expect(r.status).toBe(200);
    expect(stack.sim.received).toHaveLength(1);
    const got = await lookup(stack, 'T-look-4');
    expect(got.status).toBe(503);
    expect(got.body.error).toBe('MMS_ERR_VERDICT_UNAVAILABLE');
    let metrics = '';
    for (let i = 0; i < 50 && !metrics.includes('mmsguard_verdict_store_errors_total{'); i++) {
      metrics = await (await fetch(`${stack.admin}/metrics`)).text();
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(metrics).toMatch(/mmsguard_verdict_store_errors_total\{code="MMS_ERR_VERDICT_UNAVAILABLE"\} 1/);
    expect(stack.logs.filter((l) => l['event'] === 'verdict-store-error')).toHaveLength(1);
  }, 20_000);
});
