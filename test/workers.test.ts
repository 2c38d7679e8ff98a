/**
 * WORKERS=N: `node apps/proxy/dist/main.js` as a cluster — the primary forks N workers that share the
 * listeners and the primary's memory state. What an operator relies on: messages are served by every
 * worker, flood limits stay exact across them, /metrics sums them, a dead worker is replaced, SIGHUP
 * reaches every worker, SIGUSR2 restarts them one at a time without refusing a connection, and
 * SIGTERM drains and exits 0.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FIELD, decode, octetHeader } from 'wap-mms-decoder';
import { zipSync } from 'fflate';
import { eicarBytes } from '@mmsguard/scan';
import { part, sendReq, text } from './pdus.js';
import { freePort } from './ports.js';

const MAIN = resolve(fileURLToPath(import.meta.url), '../../apps/proxy/dist/main.js');
const MSISDN = 'x-wap-network-client-msisdn';


/** One POST on a connection of its own (no keep-alive), so the primary hands it to the next worker. */
function postFresh(port: number, pdu: Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((res, rej) => {
    const req = request({
      host: '127.0.0.1', port, path: '/mms', method: 'POST', agent: false,
      headers: { 'content-type': 'application/vnd.wap.mms-message', 'content-length': pdu.length, ...headers },
    }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', rej);
    req.end(pdu);
  });
}

function getText(port: number, path: string): Promise<string> {
  return new Promise((res, rej) => {
    request({ host: '127.0.0.1', port, path, agent: false }, (r) => {
      let s = '';
      r.on('data', (c: Buffer) => (s += c.toString()));
      r.on('end', () => res(s));
    }).on('error', rej).end();
  });
}

/** The pids whose parent is `ppid` (the primary's workers), from /proc. */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out.sort();
}

/** The sum of a counter's samples in a Prometheus text exposition. */
function metricSum(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && line.includes(labels)) sum += Number(line.split(' ').pop());
  return sum;
}

const until = async (f: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
};

interface Cluster {
  child: ChildProcess;
  mm1: number;
  admin: number;
  out: () => string;
  records: () => Record<string, unknown>[];
  exited: Promise<number | null>;
}

let running: Cluster | null = null;
afterEach(async () => {
  if (running !== null && running.child.exitCode === null) {
    running.child.kill('SIGTERM');
    await running.exited;
  }
  running = null;
});

async function startCluster(env: Record<string, string>): Promise<Cluster> {
  const [mm1, admin, sim, mm7] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', MM1_PORT: String(mm1), ADMIN_PORT: String(admin),
      SIM_PORT: String(sim), MM7_PORT: String(mm7), WORKERS: '2', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const c: Cluster = {
    child, mm1, admin, out: () => out, exited,
    records: () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
  running = c;
  await until(() => out.includes('workers listening') || child.exitCode !== null, 60_000);
  expect(out).toContain('2 workers listening');
  return c;
}

const status = (body: Buffer): number | null => octetHeader(decode(body), FIELD.RESPONSE_STATUS);

describe('WORKERS', () => {
  for (const [env, variable] of [
    [{ WORKERS: '0' }, 'WORKERS'],
    [{ WORKERS: 'many' }, 'WORKERS'],
    [{ WORKERS: '65' }, 'WORKERS'],
    [{ WORKERS: '2', QUARANTINE_DIR: '/proc/mmsguard-quarantine' }, 'QUARANTINE_DIR'],
  ] as const) {
    it(`refuses ${JSON.stringify(env)}: one stderr line naming ${variable}, exit 2`, () => {
      const r = spawnSync(process.execPath, [MAIN], {
        env: { PATH: process.env['PATH'] ?? '', SIM_PORT: '0', MM1_PORT: '0', ADMIN_PORT: '0', ...env },
        encoding: 'utf8', timeout: 20_000,
      });
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(variable);
    });
  }

  it('refuses a start only a full start can refuse once (one line, exit 2), not once per worker', () => {
    const r = spawnSync(process.execPath, [MAIN], {
      env: {
        PATH: process.env['PATH'] ?? '', SIM_PORT: '0', MM1_PORT: '0', ADMIN_PORT: '0', MM7_PORT: '0', WORKERS: '3',
        SIGNATURE_FILES: '/nonexistent/sigs.ndb',
      },
      encoding: 'utf8', timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('signature');
  });

  it('serves with every worker, keeps a flood limit exact across them, sums /metrics, and exits 0 on SIGTERM', async () => {
    const c = await startCluster({ TRUSTED_GATEWAYS: '127.0.0.1', FLOOD_THRESHOLDS: '5/60:block:60' });
    const workers = childrenOf(c.child.pid ?? 0);
    expect(workers).toHaveLength(2);
    const codes: (number | null)[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await postFresh(c.mm1, sendReq([text(`m${i}`)], `T-w-${i}`), { [MSISDN]: '4790000001' });
      expect(r.status).toBe(200);
      codes.push(status(r.body));
    }
    // Five pass, whichever worker counted them; every later one is refused.
    expect(codes.filter((s) => s === 0x80)).toHaveLength(5);
    expect(codes.slice(5).every((s) => s !== 0x80)).toBe(true);
    await until(() => c.records().filter((r) => r['event'] === 'verdict').length >= 12);
    // sessionid mod 128 is the worker's cluster id: both workers judged messages.
    const ids = new Set(c.records().filter((r) => r['event'] === 'verdict').map((r) => Number(r['sessionid']) % 128));
    expect(ids.size).toBe(2);
    // Whichever worker answers the scrape, it is the sum over both.
    for (let i = 0; i < 4; i++) {
      const m = await getText(c.admin, '/metrics');
      expect(metricSum(m, 'mmsguard_messages_total{')).toBe(12);
    }
    const senders = JSON.parse(await getText(c.admin, '/bulk/blocks')) as unknown;
    expect(JSON.stringify(senders)).toContain('4790000001');
    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(0);
    expect(workers.filter((p) => { try { process.kill(p, 0); return true; } catch { return false; } })).toEqual([]);
  }, 120_000);

  it('keeps one quarantine for every worker: parts blocked by either are listed and served by either', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsguard-q-workers-'));
    try {
      const c = await startCluster({ QUARANTINE_DIR: dir });
      // Distinct infected parts (EICAR zipped under a different name each), each on a connection of its own.
      const shas: string[] = [];
      for (let i = 0; i < 6; i++) {
        const data = zipSync({ [`eicar-${i}.com`]: eicarBytes() });
        shas.push(createHash('sha256').update(data).digest('hex'));
        const r = await postFresh(c.mm1, sendReq([part(`e${i}.zip`, data, 'application/zip')], `T-q-${i}`));
        expect(status(r.body)).not.toBe(0x80);
      }
      await until(() => c.records().filter((r) => r['event'] === 'verdict').length >= 6);
      const ids = new Set(c.records().filter((r) => r['event'] === 'verdict').map((r) => Number(r['sessionid']) % 128));
      expect(ids.size).toBe(2);
      // Every scrape of the list, whichever worker takes it, sees all six.
      await until(async () => {
        const l = JSON.parse(await getText(c.admin, '/quarantine')) as { entries: { sha256: string }[] };
        return shas.every((h) => l.entries.some((e) => e.sha256 === h));
      });
      for (let i = 0; i < 4; i++) {
        const l = JSON.parse(await getText(c.admin, '/quarantine')) as { entries: { sha256: string }[] };
        expect(l.entries.map((e) => e.sha256).sort()).toEqual([...shas].sort());
        const bytes = await getText(c.admin, `/quarantine/${shas[i] ?? ''}`);
        expect(bytes).toContain(`eicar-${i}.com`);
      }
      // The verdict lookup says the part was taken, whichever worker judged it.
      await until(async () => (await getText(c.admin, '/verdicts/T-q-3')).includes('"quarantined":true'));
      const v = JSON.parse(await getText(c.admin, '/verdicts/T-q-3')) as { verdicts: { parts: { quarantined: boolean }[] }[] };
      expect(v.verdicts[0]?.parts.some((p) => p.quarantined)).toBe(true);
      // One index on disk: six parts and six sidecars, nothing written twice.
      const files = readdirSync(dir, { recursive: true }).map(String).filter((f) => /[0-9a-f]{64}/.test(f));
      expect(files.filter((f) => !f.endsWith('.json'))).toHaveLength(6);
      c.child.kill('SIGTERM');
      expect(await c.exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('replaces a worker that dies, passes SIGHUP to every worker, and restarts them one at a time on SIGUSR2', async () => {
    const c = await startCluster({ LOG_LEVEL: 'info' });
    const ppid = c.child.pid ?? 0;
    const [first] = childrenOf(ppid);
    process.kill(first ?? 0, 'SIGKILL');
    await until(() => c.records().some((r) => r['event'] === 'worker-exit'));
    await until(() => childrenOf(ppid).length === 2 && !childrenOf(ppid).includes(first ?? 0));
    await until(() => c.records().some((r) => r['event'] === 'worker-start'));
    expect(status((await postFresh(c.mm1, sendReq([text('after')], 'T-after'))).body)).toBe(0x80);

    process.kill(ppid, 'SIGHUP');
    await until(async () => metricSum(await getText(c.admin, '/metrics'), 'mmsguard_reloads_total', 'result="ok"') === 2);

    const before = childrenOf(ppid);
    process.kill(ppid, 'SIGUSR2');
    // Traffic all through the rolling restart: not one connection refused, every message answered.
    let sent = 0;
    const failures: string[] = [];
    while (!c.records().some((r) => r['event'] === 'rolling-restart-done')) {
      try {
        const r = await postFresh(c.mm1, sendReq([text(`r${sent}`)], `T-roll-${sent}`));
        if (r.status !== 200 || status(r.body) !== 0x80) failures.push(`status ${r.status}`);
      } catch (e) {
        failures.push((e as Error).message);
      }
      sent++;
      if (sent > 5000) throw new Error('rolling restart did not finish');
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(0);
    const after = childrenOf(ppid);
    expect(after).toHaveLength(2);
    expect(after.filter((p) => before.includes(p))).toEqual([]);
  }, 180_000);
});
