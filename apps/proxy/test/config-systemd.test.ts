/**
 * deploy/systemd/mmsguard.service as systemd reads it: `systemd-analyze verify` (from Debian's
 * `systemd` package) must accept it without a single complaint. systemd-analyze reports unknown
 * keys and bad values on stderr but still exits 0, so stderr must be empty too. Without the tool
 * the test skips with a visible notice.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const UNIT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../deploy/systemd/mmsguard.service');
const present = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status === 0;
if (!present) console.warn('NOTICE: systemd-analyze not installed (apt-get install systemd); unit checks skipped.');

const text = readFileSync(UNIT, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'mmsguard-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a variant of the unit, with node where this machine has it (verify checks ExecStart exists). */
function analyze(unitText: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const p = join(dir, 'mmsguard.service');
  writeFileSync(p, unitText.replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
  const r = spawnSync('systemd-analyze', [...args, p], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.trim() };
}
const verify = (unitText: string): { status: number | null; stderr: string } => {
  const { status, stderr } = analyze(unitText, ['verify', '--man=no']);
  return { status, stderr };
};

describe('deploy/systemd/mmsguard.service', () => {
  it('has what operating the proxy needs', () => {
    const keys = (k: string): string[] => [...text.matchAll(new RegExp(`^${k}=(.*)$`, 'gm'))].map((m) => m[1] ?? '');
    expect(keys('EnvironmentFile')).toEqual(['/etc/mmsguard/mmsguard.env']);
    expect(keys('ExecStart')).toEqual(['/usr/bin/node --no-memory-reducer /opt/mmsguard/apps/proxy/dist/main.js']);
    expect(keys('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(keys('Restart')).toEqual(['on-failure']);
    expect(keys('RestartPreventExitStatus')).toEqual(['2']);
    expect(keys('User')).toEqual(['mmsguard']);
    for (const [k, v] of [
      ['ProtectSystem', 'strict'], ['NoNewPrivileges', 'yes'], ['PrivateTmp', 'yes'], ['ProtectHome', 'yes'],
      ['CapabilityBoundingSet', ''], ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
      ['SystemCallFilter', '@system-service'], ['ReadWritePaths', '/var/lib/mmsguard'], ['LimitNOFILE', '65536'],
    ] as const) {
      expect(keys(k), k).toEqual([v]);
    }
  });

  it.skipIf(!present)('passes systemd-analyze verify without a warning', () => {
    expect(verify(text)).toEqual({ status: 0, stderr: '' });
  });

  it.skipIf(!present)('keeps the exposure level systemd computes at 2.0 or below (the hardening stays)', () => {
    const r = analyze(text, ['security', '--offline=true', '--threshold=20']);
    expect(r.stdout).toMatch(/Overall exposure level for mmsguard\.service: [0-2]\.\d/);
    expect(r.status).toBe(0);
    const weaker = text.replace(/^(ProtectSystem|SystemCallFilter|CapabilityBoundingSet)=.*$/gm, '');
    expect(analyze(weaker, ['security', '--offline=true', '--threshold=20']).status).not.toBe(0);
  });

  it.skipIf(!present)('would fail the check on a misspelt key or a bad value (the check can fail)', () => {
    expect(verify(text.replace('ExecReload=', 'ExecReloadd=')).stderr).toContain("Unknown key 'ExecReloadd'");
    expect(verify(text.replace('ProtectSystem=strict', 'ProtectSystem=bogus')).stderr).toContain('bogus');
  });
});
