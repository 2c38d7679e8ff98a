import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eicarBytes } from '@mmsguard/scan';
import { findClamd, startLocalClamd, type LocalClamd } from '../../../packages/scan-clamd/src/testing.js';
import { cIcapMissing, startLocalIcap, type LocalIcap } from '../../../packages/scan-icap/src/index.js';

const CLI = resolve(fileURLToPath(import.meta.url), '../../dist/main.js');
const tmp = mkdtempSync(join(tmpdir(), 'scan-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 30_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('mmsguard-scan', () => {
  const clean = join(tmp, 'hello.txt');
  const eicarZip = join(tmp, 'gift.zip');
  const exe = join(tmp, 'photo.jpg');
  writeFileSync(clean, 'hello');
  writeFileSync(eicarZip, zipSync({ 'eicar.com': eicarBytes() }));
  const peFile = Buffer.alloc(256);
  peFile.write('MZ', 0, 'latin1');
  peFile.writeUInt32LE(0x80, 0x3c);
  peFile.write('PE\0\0', 0x80, 'latin1');
  writeFileSync(exe, peFile);

  it('prints one verdict line per file and exits 1 when something is found', () => {
    const r = run([clean, eicarZip, exe], { FILE_FILTER: 'exe,dll' });
    expect(r.status).toBe(1);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^clean .*hello\.txt/);
    expect(lines[1]).toMatch(/^infected .*gift\.zip.*gift\.zip\/eicar\.com: Eicar-Test-Signature \(builtin\)/);
    expect(lines[2]).toMatch(/^file-type .*photo\.jpg type=exe/);
  });

  it('exits 0 when everything is clean', () => {
    expect(run([clean]).status).toBe(0);
  });

  it('reports an invalid configuration on one stderr line, exit 2', () => {
    const r = run([clean], { SCAN_ENGINES: 'clamd' });
    expect(r.status).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/CLAMD_ADDRESS/);
    expect(run([clean], { SCAN_ENGINES: 'mcafee' }).err).toMatch(/SCAN_ENGINES/);
    expect(run([clean], { SCAN_TIMEOUT: 'soon' }).err).toMatch(/SCAN_TIMEOUT/);
  });

  it('reports bad signature lines with file:line and refuses to start', () => {
    const sig = join(tmp, 'bad.ndb');
    writeFileSync(sig, 'Ok:0:*:41424344\nBroken:0:*:zz\n');
    const r = run([clean], { SIGNATURE_FILES: sig });
    expect(r.status).toBe(2);
    expect(r.err).toContain('bad.ndb:2:');
  });

  it('uses operator signature files', () => {
    const sig = join(tmp, 'ops.ndb');
    writeFileSync(sig, `Ops.Hello:0:*:${Buffer.from('hello').toString('hex')}\n`);
    const r = run([clean], { SIGNATURE_FILES: sig });
    expect(r.out).toMatch(/^infected .*Ops\.Hello/);
  });
});

const icapMissing = cIcapMissing() ?? (findClamd() === null ? 'clamd is not installed' : null);
if (icapMissing !== null) console.warn(`NOTICE: ${icapMissing}; the scan CLI's real c-icap test is skipped.`);

describe('mmsguard-scan with SCAN_ENGINES=icap', () => {
  it('refuses icap without a usable ICAP_URL: one stderr line naming it, exit 2', () => {
    const file = join(tmp, 'any.txt');
    writeFileSync(file, 'x');
    const refused = [
      { SCAN_ENGINES: 'icap' },
      { SCAN_ENGINES: 'icap', ICAP_URL: ' ' },
      { SCAN_ENGINES: 'builtin,icap', ICAP_URL: 'icaps://av:1344/virus_scan' },
      { SCAN_ENGINES: 'icap', ICAP_URL: 'icap://av:1344/virus_scan,http://av2/' },
    ];
    for (const env of refused) {
      const r = run([file], env);
      expect(r.status).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/ICAP_URL/);
    }
  });

  it('names the icap engine and ICAP_URL in its usage text', () => {
    expect(run([]).err).toMatch(/SCAN_ENGINES=builtin,clamd,icap.*ICAP_URL/s);
  });

  describe.skipIf(icapMissing !== null)('against a real c-icap over a private clamd', () => {
    let clamd: LocalClamd | null = null;
    let icap: LocalIcap | null = null;
    const signatures = resolve(fileURLToPath(import.meta.url), '../../../../packages/scan-clamd/signatures');
    beforeAll(async () => {
      clamd = await startLocalClamd({ databaseDir: signatures });
      icap = await startLocalIcap({ clamdSocket: clamd.socket });
    }, 60_000);
    afterAll(async () => {
      await icap?.stop();
      await clamd?.stop();
    });

    it('finds what only clamd knows through ICAP, and passes a clean file', () => {
      const marker = join(tmp, 'notes.txt');
      const clean = join(tmp, 'plain.txt');
      writeFileSync(marker, 'x MMSGUARD-CLAMD-ONLY-TEST-MARKER y');
      writeFileSync(clean, 'nothing to see');
      const r = run([marker, clean], { SCAN_ENGINES: 'icap', ICAP_URL: icap?.url ?? '' });
      expect(r.err).toBe('');
      expect(r.status).toBe(1);
      const [found, passed] = r.out.trim().split('\n');
      expect(found).toMatch(/^infected .*notes\.txt .*Mmsguard\.Test\.ClamdOnly\S* \(icap\)/);
      expect(passed).toMatch(/^clean .*plain\.txt/);
    });
  });
});
