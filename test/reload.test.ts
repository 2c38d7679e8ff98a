/**
 * SIGHUP reload as an operator meets it (CONTRACT §6, issue 12): `node apps/proxy/dist/main.js`, a
 * file edited, `kill -HUP`. Every file the proxy loaded is re-read and validated, then swapped in for
 * messages that arrive afterwards; a message in flight finishes under the rules it started with; a
 * bad file keeps the previous configuration whole and logs one `reload ok=false` record naming
 * file:line; the process never exits on SIGHUP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FIELD, decode, octetHeader } from 'wap-mms-decoder';
import { MMS, post } from './harness.js';
import { eicar as eicarPart, part, peExe, sendReq, sendReqFrom, text } from './pdus.js';
import { zipSync } from 'fflate';
import { eicarBytes } from '@mmsguard/scan';
import { freePort } from './ports.js';

const MAIN = resolve(fileURLToPath(import.meta.url), '../../apps/proxy/dist/main.js');
const dir = mkdtempSync(join(tmpdir(), 'mmsguard-reload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const status = (b: Uint8Array): number | null => octetHeader(decode(b), FIELD.RESPONSE_STATUS);
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');


interface Running {
  readonly child: ChildProcess;
  readonly mm1: string;
  readonly admin: string;
  /** stderr so far. */
  err(): string;
  /** Every JSON record on stdout so far. */
  records(): Record<string, unknown>[];
  reloads(): Record<string, unknown>[];
  /** Sends SIGHUP and waits for the reload record it causes. */
  hup(): Promise<Record<string, unknown>>;
  alive(): boolean;
  stop(): Promise<number | null>;
}

const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

async function until(f: () => boolean, ms = 10_000): Promise<void> {
  for (let t = 0; t < ms && !f(); t += 25) await sleep(25);
}

async function start(env: Record<string, string>): Promise<Running> {
  const [mm1, admin, sim] = await Promise.all([freePort(), freePort(), freePort()]);
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', MM1_PORT: String(mm1), ADMIN_PORT: String(admin),
      SIM_PORT: String(sim), MM7_PORT: '0', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let exit: number | null | undefined;
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => {
    exit = c;
    r(c);
  }));
  const records = (): Record<string, unknown>[] => out.split('\n').filter((l) => l.startsWith('{')).map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return {};
    }
  });
  const reloads = (): Record<string, unknown>[] => records().filter((r) => r['event'] === 'reload');
  await until(() => out.includes('admin on') || exit !== undefined, 20_000);
  if (!out.includes('admin on')) throw new Error(`proxy did not start: ${err}`);
  const r: Running = {
    child, mm1: `http://127.0.0.1:${mm1}`, admin: `http://127.0.0.1:${admin}`, err: () => err, records, reloads,
    async hup() {
      const n = reloads().length;
      child.kill('SIGHUP');
      await until(() => reloads().length > n);
      const rec = reloads()[n];
      if (rec === undefined) throw new Error(`no reload record after SIGHUP; stderr: ${err}`);
      return rec;
    },
    alive: () => exit === undefined,
    async stop() {
      if (exit === undefined) child.kill('SIGTERM');
      return exited;
    },
  };
  running.push(r);
  return r;
}

/**
 * An upload that has begun: headers and the first half of the body sent, the rest held back until
 * `finish` — a message in flight, pinned to the generation in force when its request arrived.
 */
function slowUpload(base: string, pdu: Uint8Array): { finish(): Promise<number | null> } {
  const u = new URL(`${base}/mms`);
  let settle: (b: Buffer) => void = () => undefined;
  let fail: (e: Error) => void = () => undefined;
  const answered = new Promise<Buffer>((res, rej) => {
    settle = res;
    fail = rej;
  });
  const req = request({
    host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
    headers: { 'content-type': MMS, 'content-length': String(pdu.length) },
  }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => settle(Buffer.concat(chunks)));
  });
  req.on('error', (e) => fail(e));
  const half = Math.floor(pdu.length / 2);
  req.write(pdu.subarray(0, half));
  return {
    async finish() {
      req.end(pdu.subarray(half));
      return status(await answered);
    },
  };
}

/** Distinct content of `n` bytes (a part no other test sends). */
const content = (n = 2048): Uint8Array => Uint8Array.from(randomBytes(n));

describe('SIGHUP reload through main', () => {
  it('a hash signature added to SIGNATURE_FILES blocks the next message; an upload in flight finishes under the old rules', async () => {
    const sigs = join(dir, 'reload.hsb');
    writeFileSync(sigs, `# test signatures\n${'0'.repeat(64)}:*:Test.Unrelated\n`);
    const p = await start({ SIGNATURE_FILES: sigs });
    const bad = content();
    expect(status((await post(p.mm1, sendReq([part('a.bin', bad)], 'T-before'))).body)).toBe(0x80);

    const inFlight = slowUpload(p.mm1, sendReq([part('slow.bin', bad)], 'T-in-flight'));
    // Its request has arrived (the route pinned generation 1) once its first bytes are buffered.
    const buffered = async (): Promise<number> =>
      Number(/^mmsguard_inflight_bytes (\d+)/m.exec(await (await fetch(`${p.admin}/metrics`)).text())?.[1] ?? 0);
    for (let i = 0; i < 200 && (await buffered()) === 0; i++) await sleep(25);
    expect(await buffered()).toBeGreaterThan(0);
    appendFileSync(sigs, `${sha256(bad)}:*:Test.Reload.Hash\n`);
    const rec = await p.hup();
    expect(rec).toMatchObject({ event: 'reload', ok: true, generation: 2 });
    expect(rec['changed']).toContain('SIGNATURE_FILES');

    // Arrives after the reload: the new signature blocks it.
    expect(status((await post(p.mm1, sendReq([part('a.bin', bad)], 'T-after'))).body)).toBe(0xe5);
    // Started before the reload: judged by generation 1, forwarded.
    expect(await inFlight.finish()).toBe(0x80);
    await until(() => p.records().filter((r) => r['event'] === 'verdict').length >= 3);
    const verdicts = p.records().filter((r) => r['event'] === 'verdict');
    const byTid = (t: string): unknown => verdicts.find((v) => v['transactionid'] === t)?.['action'];
    expect(byTid('T-in-flight')).toBe('forwarded');
    expect(byTid('T-after')).toBe('blocked');
    expect(p.records().find((r) => r['type'] === 'utm' && r['virus'] === 'Test.Reload.Hash')).toBeDefined();

    // /readyz names the new file contents; the metrics say generation 2 and one good reload.
    const ready = await (await fetch(`${p.admin}/readyz`)).json() as { engines: { files?: { sha256: string }[] }[] };
    expect(ready.engines[0]?.files?.[0]?.sha256).toBe(createHash('sha256').update(
      `# test signatures\n${'0'.repeat(64)}:*:Test.Unrelated\n${sha256(bad)}:*:Test.Reload.Hash\n`).digest('hex'));
    const metrics = await (await fetch(`${p.admin}/metrics`)).text();
    expect(metrics).toMatch(/^mmsguard_config_generation 2$/m);
    expect(metrics).toMatch(/^mmsguard_reloads_total\{result="ok"\} 1$/m);
    expect(metrics).toMatch(/^mmsguard_last_reload_success_timestamp_seconds \d/m);
    expect(p.alive()).toBe(true);
  });

  it('a broken signature file on reload: the old rules stay, one reload ok=false names file:line, the process lives', async () => {
    const sigs = join(dir, 'broken.hsb');
    const bad = content();
    writeFileSync(sigs, `${sha256(bad)}:*:Test.Kept\n`);
    const p = await start({ SIGNATURE_FILES: sigs });
    expect(status((await post(p.mm1, sendReq([part('a.bin', bad)]))).body)).toBe(0xe5);
    const other = content();
    writeFileSync(sigs, `# edited\n${sha256(other)}:*:Test.New\nnot a signature line\n`);
    const rec = await p.hup();
    expect(rec).toMatchObject({ event: 'reload', ok: false, file: sigs, line: 3, generation: 1 });
    expect(String(rec['msg'])).toContain(`${sigs}:3`);
    await sleep(200);
    expect(p.reloads()).toHaveLength(1); // exactly one record for the refused reload
    // The old rules, whole: the kept signature still blocks, the new one never took.
    expect(status((await post(p.mm1, sendReq([part('a.bin', bad)]))).body)).toBe(0xe5);
    expect(status((await post(p.mm1, sendReq([part('b.bin', other)]))).body)).toBe(0x80);
    const metrics = await (await fetch(`${p.admin}/metrics`)).text();
    expect(metrics).toMatch(/^mmsguard_config_generation 1$/m);
    expect(metrics).toMatch(/^mmsguard_reloads_total\{result="failed"\} 1$/m);
    // Repaired: the next SIGHUP takes it.
    writeFileSync(sigs, `${sha256(other)}:*:Test.New\n`);
    expect(await p.hup()).toMatchObject({ ok: true, generation: 2 });
    expect(status((await post(p.mm1, sendReq([part('b.bin', other)]))).body)).toBe(0xe5);
    expect(status((await post(p.mm1, sendReq([part('a.bin', bad)]))).body)).toBe(0x80);
    expect(p.alive()).toBe(true);
  });

  it('a broken MSISDN_LIST on reload keeps the old list whole; a good one applies', async () => {
    const list = join(dir, 'reload.list');
    writeFileSync(list, 'block simple +4790000009\n');
    const p = await start({ MSISDN_LIST: list, TRUSTED_GATEWAYS: '127.0.0.1' });
    const from = (m: string): Record<string, string> => ({ 'x-wap-network-client-msisdn': m });
    expect(status((await post(p.mm1, sendReq([text('x')]), from('+4790000009'))).body)).toBe(0xe1);
    writeFileSync(list, '# edited\nblock simple +4790000008\nblock nonsense x\n');
    const rec = await p.hup();
    expect(rec).toMatchObject({ event: 'reload', ok: false, file: list, line: 3, variable: 'MSISDN_LIST' });
    expect(status((await post(p.mm1, sendReq([text('x')]), from('+4790000009'))).body)).toBe(0xe1);
    expect(status((await post(p.mm1, sendReq([text('x')]), from('+4790000008'))).body)).toBe(0x80);
    writeFileSync(list, 'block simple +4790000008\n');
    expect(await p.hup()).toMatchObject({ event: 'reload', ok: true });
    expect(status((await post(p.mm1, sendReq([text('x')]), from('+4790000008'))).body)).toBe(0xe1);
    expect(status((await post(p.mm1, sendReq([text('x')]), from('+4790000009'))).body)).toBe(0x80);
    expect(p.alive()).toBe(true);
  });

  it('CONFIG_FILE: MM1_OVERSIZE_LIMIT changed live; an unknown name keeps the old configuration; restart-only settings are named', async () => {
    const conf = join(dir, 'reload.conf');
    writeFileSync(conf, 'MM1_OVERSIZE_LIMIT=1MiB\n');
    const p = await start({ CONFIG_FILE: conf, SCAN_ENGINE: 'builtin' });
    // The typo hint at start, on stderr, naming the likely variable.
    expect(p.err()).toContain('mmsguard: warning: SCAN_ENGINE in the environment is not a mmsguard variable; ' +
      'did you mean SCAN_ENGINES?');
    const big = sendReq([part('big.bin', new Uint8Array(4096).fill(0x41))], 'T-big');
    expect(status((await post(p.mm1, big)).body)).toBe(0x80);

    writeFileSync(conf, '# smaller\nMM1_OVERSIZE_LIMIT=2KiB\n');
    const ok = await p.hup();
    expect(ok).toMatchObject({ event: 'reload', ok: true, generation: 2, changed: ['MM1_OVERSIZE_LIMIT'] });
    expect(status((await post(p.mm1, big)).body)).toBe(0xe5);

    writeFileSync(conf, 'MM1_OVERSIZE_LIMIT=1MiB\nSCAN_ENGINE=clamd\n');
    const bad = await p.hup();
    expect(bad).toMatchObject({ event: 'reload', ok: false, file: conf, line: 2, variable: 'CONFIG_FILE' });
    expect(String(bad['msg'])).toContain('unknown variable SCAN_ENGINE (did you mean SCAN_ENGINES?)');
    // Generation 2 whole: the 2 KiB limit still applies.
    expect(status((await post(p.mm1, big)).body)).toBe(0xe5);

    // INFLIGHT_LIMIT sizes the budget made at start: kept, and named; the rest applies.
    writeFileSync(conf, 'MM1_OVERSIZE_LIMIT=1MiB\nINFLIGHT_LIMIT=64MiB\nLOG_LEVEL=debug\n');
    const kept = await p.hup();
    expect(kept).toMatchObject({ ok: true, generation: 3 });
    expect([...(kept['changed'] as string[])].sort()).toEqual(['LOG_LEVEL', 'MM1_OVERSIZE_LIMIT']);
    await until(() => p.records().some((r) => r['event'] === 'reload-restart-required'));
    expect(p.records().find((r) => r['event'] === 'reload-restart-required')?.['variables']).toEqual(['INFLIGHT_LIMIT']);
    expect(status((await post(p.mm1, big)).body)).toBe(0x80);
    expect(p.alive()).toBe(true);
  });

  it('QUARANTINE_DIR changed on reload: an unusable one is refused naming it, a good one takes the next blocked part', async () => {
    const conf = join(dir, 'quarantine.conf');
    const qa = join(dir, 'qa');
    const qb = join(dir, 'qb');
    const notADir = join(dir, 'not-a-dir');
    writeFileSync(notADir, 'a file');
    writeFileSync(conf, `QUARANTINE_DIR=${qa}\n`);
    const p = await start({ CONFIG_FILE: conf });
    const listed = async (): Promise<string[]> => {
      const r = await (await fetch(`${p.admin}/quarantine`)).json() as { entries: { sha256: string }[] };
      return r.entries.map((e) => e.sha256);
    };
    expect(status((await post(p.mm1, sendReq([eicarPart()], 'T-q1'))).body)).toBe(0xe5);
    await sleep(300); // the quarantine writes off the request path
    expect((await listed()).length).toBe(1);

    writeFileSync(conf, `QUARANTINE_DIR=${notADir}\n`);
    const bad = await p.hup();
    expect(bad).toMatchObject({ ok: false, variable: 'QUARANTINE_DIR' });
    expect(String(bad['msg'])).toContain('QUARANTINE_DIR');

    writeFileSync(conf, `QUARANTINE_DIR=${qb}\n`);
    const ok = await p.hup();
    expect(ok).toMatchObject({ ok: true });
    expect(ok['changed']).toContain('QUARANTINE_DIR');
    expect(await listed()).toEqual([]); // the new, empty quarantine
    expect(status((await post(p.mm1, sendReq([part('x.zip', zipSync({ 'e.com': eicarBytes() }))], 'T-q2'))).body))
      .toBe(0xe5);
    await sleep(300);
    expect((await listed()).length).toBe(1);
  });

  it('several SIGHUPs at once: each is answered, the last configuration wins, nothing exits', async () => {
    const conf = join(dir, 'burst.conf');
    writeFileSync(conf, 'MM1_OVERSIZE_LIMIT=2KiB\n');
    const p = await start({ CONFIG_FILE: conf });
    const big = sendReq([part('big.bin', new Uint8Array(4096).fill(0x42))], 'T-burst');
    writeFileSync(conf, 'MM1_OVERSIZE_LIMIT=1MiB\n');
    for (let i = 0; i < 5; i++) p.child.kill('SIGHUP');
    await until(() => p.reloads().length >= 1);
    await sleep(500);
    expect(p.reloads().every((r) => r['ok'] === true)).toBe(true);
    expect(status((await post(p.mm1, big)).body)).toBe(0x80);
    expect(p.alive()).toBe(true);
  });
});

describe('retro-hunt after a signature reload (CONTRACT §7)', () => {
  let srv: Server | null = null;
  afterEach(async () => {
    if (srv !== null) await new Promise((r) => srv?.close(r));
    srv = null;
  });

  it('a forwarded part and a quarantined one whose SHA-256 become signatures: one retrohunt record and one webhook call each', async () => {
    const got: Record<string, unknown>[] = [];
    srv = createServer((req, res) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c.toString()));
      req.on('end', () => {
        got.push(JSON.parse(b) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => srv?.listen(0, '127.0.0.1', r));
    const a = srv.address();
    const hook = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/hook`;
    const sigs = join(dir, 'hunt.hsb');
    writeFileSync(sigs, '');
    const p = await start({
      SIGNATURE_FILES: sigs, NOTIFY_URL: hook, QUARANTINE_DIR: join(dir, 'hunt-q'), FILE_FILTER: 'exe',
    });
    const delivered = content();
    const other = content();
    const exe = peExe();
    expect(status((await post(p.mm1, sendReqFrom([part('clean.bin', delivered)], '+4790000001', 'T-hunted'))).body))
      .toBe(0x80);
    expect(status((await post(p.mm1, sendReq([part('other.bin', other)], 'T-other'))).body)).toBe(0x80);
    // Blocked by file type, kept in the quarantine: the new signature names it too.
    expect(status((await post(p.mm1, sendReq([part('setup.exe', exe)], 'T-exe'))).body)).toBe(0xe5);
    await sleep(300); // the verdict store's put and the quarantine's write are not awaited by the reply
    writeFileSync(sigs, `${sha256(delivered)}:*:Test.Retro.Hunt\n${sha256(exe)}:*:Test.Retro.Exe\n`);
    expect(await p.hup()).toMatchObject({ ok: true });
    await until(() => p.records().some((r) => r['event'] === 'retrohunt-done'));
    const hunts = p.records().filter((r) => r['event'] === 'retrohunt');
    expect(hunts).toHaveLength(2);
    expect(hunts.find((h) => h['source'] === 'delivered')).toMatchObject({
      transactionid: 'T-hunted', sha256: sha256(delivered), signature: 'Test.Retro.Hunt',
    });
    expect(typeof hunts.find((h) => h['source'] === 'delivered')?.['delivered_at']).toBe('string');
    expect(hunts.find((h) => h['source'] === 'quarantine')).toMatchObject({
      transactionids: ['T-exe'], sha256: sha256(exe), signature: 'Test.Retro.Exe',
    });
    const hunted = (): Record<string, unknown>[] => got.filter((g) => g['event'] === 'retrohunt');
    await until(() => hunted().length >= 2);
    expect(hunted()).toHaveLength(2); // (the exe's block was a file-block notice of its own)
    expect(hunted().find((g) => (g['record'] as Record<string, unknown>)['source'] === 'delivered')).toMatchObject({
      event: 'retrohunt', record: { transactionid: 'T-hunted', sha256: sha256(delivered) },
    });
    // A reload that adds no signature hunts nothing.
    expect(await p.hup()).toMatchObject({ ok: true });
    await sleep(300);
    expect(p.records().filter((r) => r['event'] === 'retrohunt')).toHaveLength(2);
  });
});
