/** The proxy as an operator runs it: `node apps/proxy/dist/main.js`, configured by environment. */
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIELD, decode, octetHeader } from 'wap-mms-decoder';
import { post } from './harness.js';
import { eicar, sendReq, text } from './pdus.js';
import { freePort } from './ports.js';

const MAIN = resolve(fileURLToPath(import.meta.url), '../../apps/proxy/dist/main.js');


describe('node apps/proxy/dist/main.js', () => {
  for (const [env, variable] of [
    [{ MM1_PORT: 'eighty', ADMIN_PORT: '0' }, 'MM1_PORT'],
    [{ MM1_OVERSIZE_LIMIT: '10 parsecs' }, 'MM1_OVERSIZE_LIMIT'],
    [{ SCAN_ENGINES: 'builtin,mcafee' }, 'SCAN_ENGINES'],
    [{ SCAN_ENGINES: 'clamd' }, 'CLAMD_ADDRESS'],
    [{ MM1_UPSTREAM_URL: 'ftp://mmsc' }, 'MM1_UPSTREAM_URL'],
    [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT'],
    [{ MM1_COMFORT_INTERVAL: '-1' }, 'MM1_COMFORT_INTERVAL'],
    [{ MM1_CLIENT_COMFORT: 'on', MM1_COMFORT_INTERVAL: '90', UPSTREAM_TIMEOUT: '60' }, 'MM1_COMFORT_INTERVAL'],
    [{ SIGNATURE_FILES: '/nonexistent.ndb' }, 'signature'],
    [{ MSISDN_LIST: '/nonexistent.list' }, 'MSISDN_LIST'],
    [{ FLOOD_THRESHOLDS: '10/60:block' }, 'FLOOD_THRESHOLDS'],
    [{ STATE_STORE: 'memcached://x' }, 'STATE_STORE'],
    [{ REPLY_TEMPLATES: '/nonexistent.txt' }, 'REPLY_TEMPLATES'],
    [{ NOTIFY_WINDOW: 'weekdays 8-18' }, 'NOTIFY_WINDOW'],
    [{ MSISDN_PREFIX_RULES: '0=+47x' }, 'MSISDN_PREFIX_RULES'],
    [{ MSISDN_HEADER_ENCODING: 'base64' }, 'MSISDN_HEADER_ENCODING'],
    [{ MM7_FLOOD_THRESHOLDS: '1/1:nuke' }, 'MM7_FLOOD_THRESHOLDS'],
    [{ SENDER_NOTICE_URL: 'mmsc:8002' }, 'SENDER_NOTICE_URL'],
  ] as const) {
    it(`refuses ${JSON.stringify(env)}: one stderr line naming ${variable}, exit 2, nothing listens`, () => {
      const r = spawnSync(process.execPath, [MAIN], { env: { PATH: process.env['PATH'] ?? '', SIM_PORT: '0', ...{ MM1_PORT: '0', ADMIN_PORT: '0' }, ...env }, encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(variable);
    });
  }

  it('starts on the embedded default (built-in engine, bundled simulator), scans, and exits 0 on SIGTERM', async () => {
    // Every listener on a port of its own: the MM7 default (8081) may be taken by another test file's process.
    const [mm1, admin, sim, mm7] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', MM1_PORT: String(mm1), ADMIN_PORT: String(admin),
        SIM_PORT: String(sim), MM7_PORT: String(mm7),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    for (let i = 0; i < 100 && !out.includes('admin on'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain(`http://127.0.0.1:${mm1}`);
    expect(out).toContain('bundled MMSC simulator');
    const base = `http://127.0.0.1:${mm1}`;
    expect(octetHeader(decode((await post(base, sendReq([text('hi')]))).body), FIELD.RESPONSE_STATUS)).toBe(0x80);
    expect(octetHeader(decode((await post(base, sendReq([eicar()]))).body), FIELD.RESPONSE_STATUS)).toBe(0xe5);
    for (let i = 0; i < 50 && !/"action":"blocked"/.test(out); i++) await new Promise((r) => setTimeout(r, 20));
    expect(out).toMatch(/"event":"verdict".*"action":"blocked"/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('never overruns SHUTDOWN_TIMEOUT, even with a message stuck at a slow MMSC (exit 0)', async () => {
    const [mm1, admin, sim, mm7] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', MM1_PORT: String(mm1), ADMIN_PORT: String(admin),
        SIM_PORT: String(sim), MM7_PORT: String(mm7), SHUTDOWN_TIMEOUT: '1', UPSTREAM_TIMEOUT: '30',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    for (let i = 0; i < 100 && !out.includes('admin on'); i++) await new Promise((r) => setTimeout(r, 100));
    // The simulator holds this one for 20 s: only the shutdown bound can end it.
    const stuck = post(`http://127.0.0.1:${mm1}`, sendReq([text('slow')]), { 'x-sim-delay-ms': '20000' }).catch(() => null);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(1500);
    await stuck;
  });
});
