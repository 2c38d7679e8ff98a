/**
 * CONTRACT §7 monitor mode (MM1_SCAN_MODE, MM7_SCAN_MODE = monitor): every finding — virus, file type,
 * unscannable, scan error — is logged with `action=monitored`, the message goes on byte-identical, and
 * the verdict (log and lookup) says `monitored`. Decided in policy (monitorOnly), so the adapters
 * forward it like any clean message. Block mode on the other service is untouched.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { decideMessage, scanOutcome, verdictAction } from '@mmsguard/policy';
import { eicarBytes } from '@mmsguard/scan';
import { FIELD, decode, octetHeader } from 'wap-mms-decoder';
import { get, post, startStack, verdicts, type Stack } from './harness.js';
import { eicar, part, peExe, retrieveConfOf, sendReq, text } from './pdus.js';
import { postMm7, submitReq } from './mm7-submit.js';

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const utm = (s: Stack): Record<string, unknown>[] => s.logs.filter((l) => l['type'] === 'utm');

describe('monitor mode in policy', () => {
  it('every finding monitored, nothing blocked, the outcome a monitored forward', () => {
    const findings = [[{ kind: 'infected' as const, path: 'a', engine: 'builtin', name: 'EICAR' }], []];
    const s = { unscannableAction: 'block' as const, scanErrorAction: 'block' as const, removeBlocked: true };
    const d = decideMessage(findings, { ...s, monitor: true });
    expect(d).toMatchObject({ action: 'forward', monitored: true });
    expect(d.blockedParts.size).toBe(0);
    expect(d.events.map((e) => e.action)).toEqual(['monitored']);
    expect(verdictAction(scanOutcome(d, false))).toBe('monitored');
    // Clean in monitor mode is plainly forwarded; block mode as before.
    expect(verdictAction(scanOutcome(decideMessage([[]], { ...s, monitor: true }), false))).toBe('forwarded');
    expect(decideMessage(findings, s).action).toBe('rewrite');
  });
});

describe('MM1_SCAN_MODE=monitor', () => {
  it('send: EICAR and a filtered exe forwarded byte-identical, UTM and verdict monitored', async () => {
    stack = await startStack({ MM1_SCAN_MODE: 'monitor', FILE_FILTER: 'exe', REMOVE_BLOCKED: 'on' });
    const pdu = sendReq([text('hi'), eicar(), part('x.exe', peExe())], 'T-mon-1');
    const r = await post(stack.proxy, pdu);
    expect(octetHeader(decode(r.body), FIELD.RESPONSE_STATUS)).toBe(0x80);
    expect(stack.sim.received).toHaveLength(1);
    expect(stack.sim.received[0]).toMatchObject({ length: pdu.length, sha256: sha(pdu) });
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'monitored', subtype: 'virus' });
    const events = utm(stack);
    expect(events.map((e) => e['subtype']).sort()).toEqual(['file-filter', 'virus']);
    for (const e of events) expect(e['action']).toBe('monitored');
    const look = (await (await fetch(`${stack.admin}/verdicts/T-mon-1`)).json()) as { verdicts: unknown[] };
    expect(look.verdicts[0]).toMatchObject({ action: 'monitored' });
  });

  it('send: a scan error (clamd down) is monitored too, and forwarded', async () => {
    stack = await startStack({
      MM1_SCAN_MODE: 'monitor', SCAN_ENGINES: 'clamd', CLAMD_ADDRESS: 'unix:/nonexistent/clamd.sock',
    });
    const pdu = sendReq([text('hello')], 'T-mon-2');
    await post(stack.proxy, pdu);
    expect(stack.sim.received[0]).toMatchObject({ sha256: sha(pdu) });
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'monitored', subtype: 'scan-error' });
    expect(utm(stack).every((e) => e['action'] === 'monitored')).toBe(true);
  });

  it('retrieve: EICAR relayed to the handset byte-identical', async () => {
    stack = await startStack({ MM1_SCAN_MODE: 'monitor' });
    const pdu = retrieveConfOf(sendReq([text('hi'), eicar()], 'T-mon-3'));
    await fetch(`${stack.simUrl}/_sim/messages/m`, {
      method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: pdu,
    });
    const r = await get(stack.proxy, '/mms/m');
    expect(r.status).toBe(200);
    expect(sha(r.body)).toBe(sha(pdu));
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'monitored', subtype: 'virus' });
    expect(utm(stack).map((e) => e['action'])).toEqual(['monitored']);
  });

  it('MM1 monitor leaves MM7 blocking, and MM7_SCAN_MODE=monitor forwards MM7 byte-identical', async () => {
    const m = submitReq({
      vaspId: 'V', tid: 'T-mon-4', attachments: [{ name: 'e.com', type: 'application/octet-stream', data: eicarBytes() }],
    });
    stack = await startStack({ MM1_SCAN_MODE: 'monitor' });
    const blocked = await postMm7(stack.mm7, m);
    expect(blocked.text).toContain('2004');
    await stack.close();
    stack = await startStack({ MM7_SCAN_MODE: 'monitor' });
    const r = await postMm7(stack.mm7, m);
    expect(r.status).toBe(200);
    expect(stack.sim.received.at(-1)).toMatchObject({ length: m.body.length, sha256: sha(m.body) });
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ service: 'MM7', action: 'monitored', subtype: 'virus' });
    expect(utm(stack).every((e) => e['action'] === 'monitored')).toBe(true);
  });
});
