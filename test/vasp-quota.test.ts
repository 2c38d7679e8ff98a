/** Per-VASP quotas (MM7_VASP_LIMITS) on MM7 SubmitReq: 4007 or 4006/503 with Retry-After, /bulk/vasps, Redis. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startStack, verdicts, type Stack } from './harness.js';
import { postMm7, submitReq } from './mm7-submit.js';

const redisUrl = inject('redisUrl');
const stacks: Stack[] = [];
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});
async function stack(env: Record<string, string>): Promise<Stack> {
  const s = await startStack(env);
  stacks.push(s);
  return s;
}
function limits(text: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'vasp-')), 'limits');
  writeFileSync(f, text);
  return f;
}
const att = (t: string): { name: string; type: string; data: Uint8Array } => ({ name: 'a.txt', type: 'text/plain', data: Buffer.from(t) });
const send = (s: Stack, vaspId: string, i: number): Promise<{ status: number; text: string }> =>
  postMm7(s.mm7, submitReq({ vaspId, tid: `${vaspId}-${i}`, attachments: [att(`${vaspId} ${i} ${Math.random()}`)] }));

describe('per-VASP quotas (memory store)', () => {
  it('over=reject: a 4007 Fault past the burst; other VASPs unaffected; metric, verdict and /bulk/vasps', async () => {
    const s = await stack({ MM7_VASP_LIMITS: limits('V-R rate=1/h burst=2 daily=10 over=reject\n*  rate=100/s\n') });
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push((await send(s, 'V-R', i)).status);
    expect(got).toEqual([200, 200, 500]);
    const r = await send(s, 'V-R', 9);
    expect(r.text).toMatch(/<StatusCode>4007<\/StatusCode>/);
    expect((await send(s, 'V-other', 0)).status).toBe(200);
    expect(s.sim.mm7Bodies).toHaveLength(3);
    const vs = await verdicts(s, 5);
    expect(vs[2]).toMatchObject({ service: 'MM7', action: 'blocked', subtype: 'vasp-quota' });
    expect(String(vs[2]!['reason'])).toMatch(/rate 1\/h \(burst 2\).*limits:1$/);
    // Logged like every other block: one UTM record per refused message, naming the rule.
    const utm = s.logs.filter((l) => l['type'] === 'utm');
    expect(utm).toHaveLength(2);
    expect(utm[0]).toMatchObject({
      subtype: 'vasp-quota', logid: '0208020495', eventtype: 'mass-mms', action: 'blocked', service: 'MM7',
      sessionid: vs[2]!['sessionid'], transactionid: 'V-R-2', from: '1234',
    });
    expect(String(utm[0]!['msg'])).toMatch(/^VASP exceeded its message quota\. \(VASP over its rate 1\/h .*limits:1\)$/);
    const m = await (await fetch(`${s.admin}/metrics`)).text();
    expect(m).toContain('mmsguard_bulk_events_total{service="MM7",kind="vasp-quota",action="blocked"} 2');
    const u = (await (await fetch(`${s.admin}/bulk/vasps?limit=1`)).json()) as { day: string; vasps: Record<string, unknown>[] };
    expect(u.day).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(u.vasps).toEqual([expect.objectContaining({ vasp: 'V-R', rule: 'V-R', line: 1, used_today: 2, remaining_today: 8, tokens: 0 })]);
  });

  it('over=transient: 4006 over HTTP 503 with the Retry-After the bucket needs', async () => {
    const s = await stack({ MM7_VASP_LIMITS: limits('V-T rate=1/m\n') });
    expect((await send(s, 'V-T', 0)).status).toBe(200);
    const res = await fetch(`${s.mm7}/mm7`, { method: 'POST', headers: { 'content-type': submitReq({ vaspId: 'V-T', attachments: [att('x')] }).contentType }, body: submitReq({ vaspId: 'V-T', attachments: [att('x')] }).body });
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/<StatusCode>4006<\/StatusCode>/);
    const ra = Number(res.headers.get('retry-after'));
    expect(ra).toBeGreaterThanOrEqual(59);
    expect(ra).toBeLessThanOrEqual(60);
    // A transient refusal is a block too.
    expect(s.logs.filter((l) => l['type'] === 'utm')).toEqual([
      expect.objectContaining({ subtype: 'vasp-quota', action: 'blocked' }),
    ]);
  });

  it('counts nothing for an unlimited VASP; the `*` rule limits every other VASP', async () => {
    const s = await stack({ MM7_VASP_LIMITS: limits('inhouse unlimited\n* daily=1 over=reject\n') });
    for (let i = 0; i < 3; i++) expect((await send(s, 'inhouse', i)).status).toBe(200);
    expect((await send(s, 'x', 0)).status).toBe(200);
    expect((await send(s, 'x', 1)).status).toBe(500);
  });

  it('follows STATE_STORE_FAILURE when the quota store is unreachable', async () => {
    const open = await stack({ MM7_VASP_LIMITS: limits('* daily=1\n'), STATE_STORE: 'redis://127.0.0.1:1' });
    expect((await send(open, 'V', 0)).status).toBe(200);
    const closed = await stack({ MM7_VASP_LIMITS: limits('* daily=1\n'), STATE_STORE: 'redis://127.0.0.1:1', STATE_STORE_FAILURE: 'closed' });
    const r = await send(closed, 'V', 0);
    expect(r.status).toBe(500);
    expect(r.text).toMatch(/<StatusCode>4006<\/StatusCode>/);
  }, 20_000);
});

describe.skipIf(redisUrl === null)('per-VASP quotas shared in Redis', () => {
  it('is exact across two instances sharing Redis', async () => {
    const vasp = `V-${Date.now()}`;
    const env = { MM7_VASP_LIMITS: limits(`${vasp} rate=1/h burst=5 over=reject\n`), STATE_STORE: redisUrl! };
    const a = await stack(env);
    const b = await stack(env);
    const got = await Promise.all(Array.from({ length: 12 }, (_, i) => send(i % 2 === 0 ? a : b, vasp, i)));
    expect(got.filter((r) => r.status === 200)).toHaveLength(5);
    expect(a.sim.mm7Bodies.length + b.sim.mm7Bodies.length).toBe(5);
    const u = (await (await fetch(`${b.admin}/bulk/vasps`)).json()) as { vasps: Record<string, unknown>[] };
    expect(u.vasps.find((r) => r['vasp'] === vasp)).toMatchObject({ used_today: 5, tokens: 0 });
  });
});
