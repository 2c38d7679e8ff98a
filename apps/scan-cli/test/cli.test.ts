import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { eicarBytes } from '@mmsguard/scan';

const CLI = resolve(fileURLToPath(import.meta.url), '../../dist/main.js');
const tmp = mkdtempSync(join(tmpdir(), 'scan-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 30_000 });
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
