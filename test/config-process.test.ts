/**
 * The configuration as an operator meets it: `node apps/proxy/dist/main.js` with an environment
 * and a CONFIG_FILE. A refused setting is one stderr line naming the variable, exit 2, nothing
 * listens; a likely misspelling is a warning line and the proxy starts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FIELD, decode, octetHeader } from 'wap-mms-decoder';
import { post } from './harness.js';
import { part, sendReq } from './pdus.js';
import { freePort } from './ports.js';

const MAIN = resolve(fileURLToPath(import.meta.url), '../../apps/proxy/dist/main.js');
const BASE = { PATH: process.env['PATH'] ?? '', SIM_PORT: '0', MM1_PORT: '0', ADMIN_PORT: '0' };
const dir = mkdtempSync(join(tmpdir(), 'mmsguard-config-process-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// CONFIG_FILE and the warnings need main.ts to call loadConfig (the pipeline rewrite wires it).
const wired = readFileSync(MAIN, 'utf8').includes('loadConfig');
if (!wired) console.warn('NOTICE: main.js does not call loadConfig yet; CONFIG_FILE process tests skipped.');

function refuse(env: Record<string, string>): string {
  const r = spawnSync(process.execPath, [MAIN], { env: { ...BASE, ...env }, encoding: 'utf8', timeout: 20_000 });
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] ?? '';
}


describe('settings main refuses at start (issue 14: operator mistakes)', () => {
  for (const [env, variable] of [
    [{ TRUSTED_GATEWAYS: '10.0.0.0/8,wapgw.example.net' }, 'TRUSTED_GATEWAYS'],
    [{ TRUSTED_GATEWAYS: '10.0.0.5/24' }, 'TRUSTED_GATEWAYS'],
    [{ FILE_FILTER: 'exe,executable' }, 'FILE_FILTER'],
    [{ SCAN_TIMEOUT: '0.0001' }, 'SCAN_TIMEOUT'],
    [{ MM1_PORT: '' }, 'MM1_PORT'],
    [{ MM1_PORT: '0x1F90' }, 'MM1_PORT'],
    [{ MM1_PORT: '9000', ADMIN_PORT: '9000' }, 'ADMIN_PORT'],
    [{ MSISDN_HEADER: 'x msisdn' }, 'MSISDN_HEADER'],
    [{ HOST: 'proxy.example.net' }, 'HOST'],
    [{ MM7_UPSTREAM_URL: 'http://mmsc:99999/mm7' }, 'MM7_UPSTREAM_URL'],
    [{ MM1_SCAN_MODE: 'log' }, 'MM1_SCAN_MODE'],
    [{ MIN_UPLOAD_RATE: 'fast' }, 'MIN_UPLOAD_RATE'],
  ] as const) {
    it(`refuses ${JSON.stringify(env)}: one line naming ${variable}, exit 2`, () => {
      expect(refuse(env)).toMatch(new RegExp(`invalid configuration: ${variable}: `));
    });
  }
});

describe.skipIf(!wired)('CONFIG_FILE and warnings through main', () => {
  it('refuses an unknown name in CONFIG_FILE with file:line and the likely name', () => {
    const p = join(dir, 'typo.conf');
    writeFileSync(p, '# test\nSCAN_ENGINE=clamd\n');
    expect(refuse({ CONFIG_FILE: p })).toContain(`${p}:2: unknown variable SCAN_ENGINE (did you mean SCAN_ENGINES?)`);
  });

  it('applies CONFIG_FILE, names a misspelt environment variable on stderr, and starts', async () => {
    const p = join(dir, 'small.conf');
    writeFileSync(p, 'MM1_OVERSIZE_LIMIT=2KiB\n');
    // Every listener on a port of its own: the MM7 default (8081) may be taken by another test file's process.
    const [mm1, admin, sim, mm7] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: BASE.PATH, HOST: '127.0.0.1', MM1_PORT: String(mm1), ADMIN_PORT: String(admin), SIM_PORT: String(sim),
        MM7_PORT: String(mm7), CONFIG_FILE: p, MM1_OVERSIZE_LIMT: '1MiB',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      for (let i = 0; i < 100 && !out.includes('admin on'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(err).toContain('MM1_OVERSIZE_LIMT');
      expect(err).toContain('did you mean MM1_OVERSIZE_LIMIT?');
      const big = sendReq([part('big.bin', new Uint8Array(4096).fill(0x41))]);
      const status = octetHeader(decode((await post(`http://127.0.0.1:${mm1}`, big)).body), FIELD.RESPONSE_STATUS);
      expect(status).toBe(0xe5);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
