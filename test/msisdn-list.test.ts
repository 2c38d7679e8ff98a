/** MSISDN lists through the proxy: block, exempt (no scan), exempt-mass (no flood count), monitor, hot reload. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FIELD, decode, octetHeader } from 'wap-mms-decoder';
import { post, startStack, type Stack } from './harness.js';
import { eicar, sendReq, sendReqFrom, text } from './pdus.js';
import { eicarBytes } from '@mmsguard/scan';
import { postMm7, submitReq } from './mm7-submit.js';

const dir = mkdtempSync(join(tmpdir(), 'lists-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});
const status = (b: Uint8Array): number | null => octetHeader(decode(b), FIELD.RESPONSE_STATUS);
const from = (m: string): Record<string, string> => ({ 'x-wap-network-client-msisdn': m });

describe('MSISDN lists', () => {
  it('blocks, exempts from scanning, exempts from flood counting, monitors — and reloads on change', async () => {
    const list = join(dir, 'a.list');
    writeFileSync(list, ['block simple +4790000009', 'exempt wildcard +4791*', 'exempt-mass simple +4792000000', 'monitor regex ^\\+4793'].join('\n'));
    stack = await startStack({ TRUSTED_GATEWAYS: '127.0.0.1', MSISDN_LIST: list, FLOOD_THRESHOLDS: '1/60:block:60' });
    const s = stack;
    expect(status((await post(s.proxy, sendReq([text('x')]), from('+4790000009'))).body)).toBe(0xe1);
    // exempt: even EICAR goes through unscanned (the operator said so)
    expect(status((await post(s.proxy, sendReq([eicar()]), from('+4791555555'))).body)).toBe(0x80);
    // exempt-mass: not counted against the 1-message flood limit
    for (let i = 0; i < 3; i++) expect(status((await post(s.proxy, sendReq([text(`m${i}`)]), from('+4792000000'))).body)).toBe(0x80);
    // monitor: logged, scanned, forwarded
    expect(status((await post(s.proxy, sendReq([text('hi')]), from('+4793000000'))).body)).toBe(0x80);
    const utm = s.logs.filter((l) => l['type'] === 'utm' && l['subtype'] === 'msisdn-filter').map((l) => l['action']);
    expect(utm).toEqual(['blocked', 'passthrough', 'monitored']);
    // hot reload: unblock +4790000009
    writeFileSync(list, 'monitor simple +4790000009\n');
    await new Promise((r) => setTimeout(r, 1500));
    expect(status((await post(s.proxy, sendReq([text('x')]), from('+4790000009'))).body)).toBe(0x80);
    // a bad edit keeps the previous rules and says which line
    writeFileSync(list, 'monitor simple +4790000009\nblock nonsense x\n');
    await new Promise((r) => setTimeout(r, 1500));
    expect(s.logs.find((l) => l['event'] === 'msisdn-list-invalid')?.['msg']).toMatch(/a\.list:2: unknown type/);
  });

  it('applies to MM7 too: a listed recipient blocks with 4007; an exempt recipient lifts nothing (issue 14 class 3)', async () => {
    const list = join(dir, 'mm7.list');
    writeFileSync(list, ['block simple +4790000066', 'exempt simple +4790000067'].join('\n'));
    stack = await startStack({ MSISDN_LIST: list });
    const s = stack;
    const blocked = await postMm7(s.mm7, submitReq({ vaspId: 'V', to: '+47 900 00 066', attachments: [{ name: 'a.txt', type: 'text/plain', data: Buffer.from('hi') }] }));
    expect(blocked.status).toBe(500);
    expect(blocked.text).toMatch(/<StatusCode>4007<\/StatusCode>/);
    const exempt = await postMm7(s.mm7, submitReq({ vaspId: 'V', to: '+4790000067', attachments: [{ name: 'e.com', type: 'application/octet-stream', data: eicarBytes() }] }));
    expect(exempt.status).toBe(500);
    expect(exempt.text).toMatch(/<StatusCode>2004<\/StatusCode>/);
    expect(s.sim.mm7Bodies).toHaveLength(0);
    expect(s.logs.filter((l) => l['type'] === 'utm').map((l) => [l['service'], l['subtype'], l['action']])).toEqual([
      ['MM7', 'msisdn-filter', 'blocked'], ['MM7', 'msisdn-filter', 'monitored'], ['MM7', 'virus', 'blocked'],
    ]);
  });

  it('exempts only a sender a trusted gateway vouches for: never a recipient, never a From (issue 14 class 3)', async () => {
    const list = join(dir, 'exempt.list');
    writeFileSync(list, ['exempt simple +4790000001', 'exempt simple +4790000077'].join('\n'));
    stack = await startStack({ TRUSTED_GATEWAYS: '127.0.0.1', MSISDN_LIST: list });
    const s = stack;
    // The To of sendReq is +4790000001: an attacker names an exempt recipient (To, Cc or Bcc).
    expect(status((await post(s.proxy, sendReq([eicar()]))).body)).toBe(0xe5);
    // A From the handset wrote itself, with no MSISDN header from the gateway.
    const fromExempt = sendReqFrom([eicar()], '+4790000077/TYPE=PLMN', 'T-forged');
    expect(status((await post(s.proxy, fromExempt)).body)).toBe(0xe5);
    // The same number, vouched for by the gateway: exempt, as configured.
    expect(status((await post(s.proxy, sendReq([eicar()], 'T-vouched'), from('+4790000077'))).body)).toBe(0x80);
    expect(s.sim.received).toHaveLength(1);
  });
});
