/**
 * The proxy with SCAN_ENGINES=icap against a real, private c-icap whose virus_scan service uses the
 * suite's private clamd: EICAR and a clamd-only signature blocked through ICAP, clean forwarded,
 * c-icap gone → transient reply and not ready, c-icap back → forwarded again, /readyz showing the
 * ISTag. Skips with a notice when c-icap (or clamd) is missing (the engine's own tests against real
 * c-icap are in packages/scan-icap). Also: ICAP_URL refused at start, and docs/errors.md's ICAP codes.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import '../packages/scan-clamd/test/clamd-setup.js';
import { FIELD, decode, octetHeader } from 'wap-mms-decoder';
import { parseConfig } from '../apps/proxy/src/config.js';
import {
  IcapEngine, IcapErrorCode, cIcapMissing, startLocalIcap, type LocalIcap,
} from '../packages/scan-icap/src/index.js';
import { post, startStack, verdicts, type Stack } from './harness.js';
import { eicar, part, sendReq, text } from './pdus.js';

const socket = inject('clamdSocket');

const missing = socket === null ? 'clamd is not installed' : cIcapMissing();
if (missing !== null) console.warn(`NOTICE: ${missing}; the proxy-through-ICAP tests are skipped.`);

const marker = () => part('notes.txt', new TextEncoder().encode('x MMSGUARD-CLAMD-ONLY-TEST-MARKER y'), 'text/plain');
const status = (body: Uint8Array): number | null => octetHeader(decode(body), FIELD.RESPONSE_STATUS);

describe.skipIf(missing !== null)('MM1 with SCAN_ENGINES=icap and a real c-icap', () => {
  let icap: LocalIcap | null = null;
  let stack: Stack | null = null;
  beforeAll(async () => {
    icap = await startLocalIcap({ clamdSocket: socket ?? '' });
  }, 60_000);
  afterEach(async () => {
    await stack?.close();
    stack = null;
  });
  afterAll(async () => {
    await icap?.stop();
  });
  const start = async (env: Record<string, string> = {}): Promise<Stack> =>
    (stack = await startStack({ SCAN_ENGINES: 'icap', ICAP_URL: icap?.url ?? '', ...env }));

  it('blocks what only clamd knows, and EICAR, through ICAP; /readyz shows the ISTag', async () => {
    const s = await start();
    const r = await post(s.proxy, sendReq([marker()]));
    expect(status(r.body)).toBe(0xe5);
    const utm = s.logs.find((l) => l['type'] === 'utm');
    expect(utm).toMatchObject({
      virus: expect.stringMatching(/^Mmsguard\.Test\.ClamdOnly/) as string, dtype: 'av-engine-icap',
    });
    expect(status((await post(s.proxy, sendReq([eicar()], 'T-e2e-2'))).body)).toBe(0xe5);
    expect(s.sim.received).toHaveLength(0);
    const ready = await fetch(`${s.admin}/readyz`);
    expect(ready.status).toBe(200);
    const probe = IcapEngine.fromUrlList(icap?.url ?? '');
    const istag = await probe.version();
    await probe.close();
    expect(istag).not.toBe('');
    expect(await ready.json()).toEqual({
      status: 'ready',
      engines: [{
        engine: 'icap', name: 'icap', ready: true, version: istag, address: icap?.url,
        service: expect.any(String) as string,
      }],
    });
  });

  it('forwards a clean message', async () => {
    const s = await start();
    expect(status((await post(s.proxy, sendReq([text('hello through icap')]))).body)).toBe(0x80);
    expect(s.sim.received).toHaveLength(1);
    const [v] = await verdicts(s, 1);
    expect(v).toMatchObject({ action: 'forwarded' });
  });

  it('c-icap gone: 0xC0 (transient) and not ready; c-icap back on its port: forwarded again', async () => {
    const s = await start();
    const port = icap?.port ?? 0;
    await icap?.stop('SIGKILL');
    icap = null;
    expect(status((await post(s.proxy, sendReq([text('hello')]))).body)).toBe(0xc0);
    expect(s.logs.find((l) => l['type'] === 'utm')).toMatchObject({ subtype: 'scan-error', action: 'blocked' });
    const down = await fetch(`${s.admin}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ engines: [{ name: 'icap', ready: false, code: IcapErrorCode.CONNECT }] });
    expect(s.sim.received).toHaveLength(0);
    icap = await startLocalIcap({ clamdSocket: socket ?? '', port });
    expect(status((await post(s.proxy, sendReq([text('hello again')], 'T-e2e-3'))).body)).toBe(0x80);
    expect(s.sim.received).toHaveLength(1);
    expect((await fetch(`${s.admin}/readyz`)).status).toBe(200);
  }, 60_000);
});

describe('docs/errors.md', () => {
  it('documents every IcapErrorCode, and no ICAP code that does not exist', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const codes = Object.values(IcapErrorCode) as string[];
    for (const c of codes) expect(doc, c).toContain(`| \`${c}\` |`);
    for (const m of doc.matchAll(/MMS_ERR_ICAP_[A-Z_]+/g)) expect(codes, m[0]).toContain(m[0]);
  });
});

describe('node apps/proxy/dist/main.js with SCAN_ENGINES=icap', () => {
  const main = fileURLToPath(new URL('../apps/proxy/dist/main.js', import.meta.url));
  for (const env of [
    { SCAN_ENGINES: 'icap' },
    { SCAN_ENGINES: 'builtin,icap', ICAP_URL: '' },
    { SCAN_ENGINES: 'icap', ICAP_URL: 'av1:1344/virus_scan' },
    { SCAN_ENGINES: 'icap', ICAP_URL: 'icap://av1:1344/' },
    { SCAN_ENGINES: 'icap', ICAP_URL: 'icaps://av1:1344/virus_scan' },
    { SCAN_ENGINES: 'icap', ICAP_URL: 'icap://av1:1344/virus_scan,icap://av2:99999/virus_scan' },
  ]) {
    it(`refuses ${JSON.stringify(env)}: one stderr line naming ICAP_URL, exit 2`, () => {
      const r = spawnSync(process.execPath, [main], {
        env: { PATH: process.env['PATH'] ?? '', MM1_PORT: '0', ADMIN_PORT: '0', SIM_PORT: '0', ...env },
        encoding: 'utf8', timeout: 20_000,
      });
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^mmsguard: invalid configuration: ICAP_URL: /);
    });
  }

  it('accepts a failover list, and ICAP_URL without icap listed is not read', () => {
    const base = { HOST: '127.0.0.1', MM1_PORT: '0', ADMIN_PORT: '0', MM1_UPSTREAM_URL: 'http://127.0.0.1:1' };
    const list = 'icap://av1/virus_scan?force=on, icap://[::1]:1345/srv_clamav';
    expect(parseConfig({ ...base, SCAN_ENGINES: 'builtin,icap', ICAP_URL: list }).scan).toMatchObject({
      engines: ['builtin', 'icap'], icapUrl: list,
    });
    expect(parseConfig({ ...base, ICAP_URL: 'nonsense' }).scan.engines).toEqual(['builtin']);
  });
});
