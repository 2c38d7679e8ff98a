/**
 * CONTRACT §7 quarantine (QUARANTINE_DIR, QUARANTINE_MAX_BYTES), end to end: every blocked or removed
 * part is kept under its SHA-256 with a sidecar, flagged `quarantined` in the verdict lookup, served on
 * the admin port; same content again is one file; the bound evicts the oldest; a directory that stops
 * taking writes leaves the traffic alone and is counted.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eicarBytes } from '@mmsguard/scan';
import { post, startStack, type Stack } from './harness.js';
import { eicar, part, peExe, sendReq, text } from './pdus.js';

const root = mkdtempSync(join(tmpdir(), 'quarantine-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `q${++n}`);

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const flush = async (s: Stack): Promise<void> => {
  await s.proxyApp.ctx.forensics.quarantine?.flush();
};
const fileOf = (dir: string, h: string): string => join(dir, h.slice(0, 2), h);
const sidecarOf = (dir: string, h: string): Record<string, unknown> =>
  JSON.parse(readFileSync(`${fileOf(dir, h)}.json`, 'utf8')) as Record<string, unknown>;

async function metric(s: Stack, re: RegExp): Promise<string | null> {
  const text = await (await fetch(`${s.admin}/metrics`)).text();
  return re.exec(text)?.[1] ?? null;
}

describe('quarantine', () => {
  it('an EICAR send: the file under its SHA-256 (0600) with its sidecar, flagged in /verdicts, served', async () => {
    const dir = freshDir();
    stack = await startStack({ QUARANTINE_DIR: dir });
    expect((await post(stack.proxy, sendReq([text('hi'), eicar()], 'T-q-1'))).status).toBe(200);
    await flush(stack);
    const h = sha(eicarBytes());
    expect(readFileSync(fileOf(dir, h))).toEqual(Buffer.from(eicarBytes()));
    expect(statSync(fileOf(dir, h)).mode & 0o777).toBe(0o600);
    expect(sidecarOf(dir, h)).toMatchObject({
      sha256: h, size: eicarBytes().length, count: 1, transaction_ids: ['T-q-1'], services: ['MM1'],
      findings: [expect.objectContaining({ kind: 'virus', engine: 'builtin' })],
    });
    // The clean part stays out.
    expect(existsSync(fileOf(dir, sha(new TextEncoder().encode('hi'))))).toBe(false);
    const v = (await (await fetch(`${stack.admin}/verdicts/T-q-1`)).json()) as { verdicts: { parts: unknown[] }[] };
    expect(v.verdicts[0]?.parts).toEqual([
      expect.objectContaining({ index: 0, quarantined: false }),
      expect.objectContaining({ index: 1, sha256: h, quarantined: true }),
    ]);
    const list = (await (await fetch(`${stack.admin}/quarantine`)).json()) as { entries: { sha256: string }[] };
    expect(list.entries.map((e) => e.sha256)).toEqual([h]);
    const bytes = await fetch(`${stack.admin}/quarantine/${h}`);
    expect(bytes.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await bytes.arrayBuffer())).toEqual(Buffer.from(eicarBytes()));
    expect((await fetch(`${stack.admin}/quarantine/../../etc/passwd`)).status).not.toBe(200);
    expect((await fetch(`${stack.admin}/quarantine/ABC`)).status).toBe(400);
    expect(await metric(stack, /^mmsguard_quarantine_entries (\d+)$/m)).toBe('1');
    expect((await fetch(`${stack.admin}/quarantine/${h}`, { method: 'DELETE' })).status).toBe(200);
    expect(existsSync(fileOf(dir, h))).toBe(false);
    expect((await fetch(`${stack.admin}/quarantine/${h}`)).status).toBe(404);
  });

  it('the same content again: one file, two transaction ids; a removed part (REMOVE_BLOCKED) is kept too', async () => {
    const dir = freshDir();
    stack = await startStack({ QUARANTINE_DIR: dir, REMOVE_BLOCKED: 'on' });
    await post(stack.proxy, sendReq([text('a'), eicar()], 'T-q-2a'));
    await post(stack.proxy, sendReq([text('b'), eicar()], 'T-q-2b'));
    await flush(stack);
    const h = sha(eicarBytes());
    expect(sidecarOf(dir, h)).toMatchObject({ count: 2, transaction_ids: ['T-q-2a', 'T-q-2b'] });
    const list = (await (await fetch(`${stack.admin}/quarantine`)).json()) as { entries: unknown[] };
    expect(list.entries).toHaveLength(1);
  });

  it('QUARANTINE_MAX_BYTES: the entry seen longest ago is evicted first', async () => {
    const dir = freshDir();
    stack = await startStack({ QUARANTINE_DIR: dir, QUARANTINE_MAX_BYTES: '2KB', FILE_FILTER: 'exe' });
    const exes = [1, 2, 3].map((i) => {
      const b = Buffer.from(peExe());
      b[500] = i;
      return b;
    });
    for (const [i, b] of exes.entries()) {
      await post(stack.proxy, sendReq([part(`x${i}.exe`, b)], `T-q-3${i}`));
      await flush(stack);
    }
    expect(existsSync(fileOf(dir, sha(exes[0] ?? Buffer.alloc(0))))).toBe(false);
    expect(existsSync(fileOf(dir, sha(exes[2] ?? Buffer.alloc(0))))).toBe(true);
  });

  it('a directory that stops taking writes: traffic unaffected, the failure counted', async () => {
    const dir = freshDir();
    stack = await startStack({ QUARANTINE_DIR: dir });
    // Root ignores permissions: a file where the directory was fails every write, for any user.
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, 'not a directory');
    const r = await post(stack.proxy, sendReq([eicar()], 'T-q-4'));
    expect(r.status).toBe(200);
    const clean = await post(stack.proxy, sendReq([text('fine')], 'T-q-4b'));
    expect(clean.status).toBe(200);
    expect(stack.sim.received).toHaveLength(1);
    await flush(stack);
    expect(Number(await metric(stack, /^mmsguard_quarantine_dropped_total\{code="MMS_ERR_QUARANTINE_IO"\} (\d+)$/m)))
      .toBeGreaterThanOrEqual(1);
  });

  it('a QUARANTINE_DIR that cannot be created stops the start, naming the variable', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    await expect(startStack({ QUARANTINE_DIR: join(file, 'q') })).rejects.toThrow(/QUARANTINE_DIR/);
  });
});
