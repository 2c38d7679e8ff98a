/** The CLI of CONTRACT §1/§4, run as users run it (built dist/cli.js). */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CORPUS_MMS, HAVE_SHARED, REPO_ROOT } from './shared.js';

const CLI = resolve(REPO_ROOT, 'packages/wap-mms-decoder/dist/cli.js');
const tmp = mkdtempSync(join(tmpdir(), 'mms-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(file: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, file], { encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cli.js FILE', () => {
  it('prints one JSON object and exits 0 for a PDU', () => {
    const f = join(tmp, 'conf.mms');
    writeFileSync(f, Uint8Array.of(0x8c, 0x81, 0x98, 0x41, 0x00, 0x8d, 0x92, 0x92, 0xe5));
    const r = run(f);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { message_type: { name: string }; transaction_id: string };
    expect(j.message_type.name).toBe('m-send-conf');
    expect(j.transaction_id).toBe('A');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('prints {"error":{code,message,offset}} and exits 1 on bytes it cannot decode, without a stack trace', () => {
    const f = join(tmp, 'garbage.bin');
    writeFileSync(f, 'This is not a valid m-Retrieve.conf PDU\n');
    const r = run(f);
    expect(r.status).toBe(1);
    const message = expect.any(String) as string;
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'MMS_ERR_NOT_MMS', message, offset: 0 } });
    expect(r.stderr).toBe('');
  });

  it('never crashes or hangs on random bytes', () => {
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256;
    for (let i = 0; i < 20; i++) {
      const f = join(tmp, `r${i}.bin`);
      writeFileSync(f, Uint8Array.from({ length: 50 + i * 20 }, (_, k) => (k === 0 ? 0x8c : rnd())));
      const r = run(f);
      expect([0, 1]).toContain(r.status);
      expect(r.stderr).toBe('');
      JSON.parse(r.stdout);
    }
  });

  it.skipIf(!HAVE_SHARED)('agrees with itself on every corpus file (exit code and parse)', () => {
    const files = readdirSync(CORPUS_MMS).filter((f) => f.endsWith('.mms'));
    const out = execFileSync(process.execPath, ['-e', `
      const { spawnSync } = require('node:child_process');
      const files = ${JSON.stringify(files)};
      let bad = 0;
      for (const f of files) {
        const file = require('node:path').join(${JSON.stringify(CORPUS_MMS)}, f);
        const r = spawnSync(process.execPath, [${JSON.stringify(CLI)}, file], { encoding: 'utf8' });
        try { JSON.parse(r.stdout); } catch { bad++; }
        if (r.status !== 0 && r.status !== 1) bad++;
      }
      process.stdout.write(String(bad));
    `], { encoding: 'utf8' });
    expect(out).toBe('0');
  }, 240_000); // 79 Node processes: on a loaded 2-core machine this alone has taken over a minute.
});
