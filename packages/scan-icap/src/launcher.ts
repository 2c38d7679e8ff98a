/**
 * Starts a private c-icap (for tests, benches and demos; Debian's `c-icap` and
 * `libc-icap-mod-virus-scan`): a generated config in a temp dir (pid file, command socket, logs and
 * temp files inside it, nothing under /var or /etc written), listening on 127.0.0.1 only, with the
 * `virus_scan` service backed by the clamd on `clamdSocket` (clamd_mod passes it the file
 * descriptor). Resolves once OPTIONS is answered. `stop()` ends c-icap's process group (the main
 * process and the children it forks; SIGKILL on request, to test a crash) and waits until the port
 * is free, so a test can start it again on the same port. Not used by the proxy in production,
 * where the ICAP server is the operator's.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIcapUrl } from './address.js';
import { IcapClient } from './client.js';
import { IcapError, IcapErrorCode } from './errors.js';

const BINARIES = ['/usr/bin/c-icap', '/usr/sbin/c-icap', '/usr/local/bin/c-icap'];
const MAGIC = ['/etc/c-icap/c-icap.magic', '/usr/local/etc/c-icap.magic'];
const TEMPLATES = ['/usr/share/c_icap/templates', '/usr/local/share/c_icap/templates'];

/** c-icap's binary: C_ICAP_BIN, or where Debian and source builds put it. */
export function findCIcap(): string | null {
  const env = process.env['C_ICAP_BIN'];
  return [...(env === undefined ? [] : [env]), ...BINARIES].find((p) => existsSync(p)) ?? null;
}

/** The directory holding virus_scan.so and clamd_mod.so (Debian: /usr/lib/<multiarch>/c_icap). */
export function findCIcapModules(): string | null {
  const env = process.env['C_ICAP_MODULES'];
  const candidates = [...(env === undefined ? [] : [env]), '/usr/lib/c_icap', '/usr/local/lib/c_icap'];
  try {
    for (const d of readdirSync('/usr/lib')) candidates.push(join('/usr/lib', d, 'c_icap'));
  } catch {
    // no /usr/lib: nothing to find
  }
  return candidates.find((d) => existsSync(join(d, 'virus_scan.so')) && existsSync(join(d, 'clamd_mod.so'))) ?? null;
}

/** Both the server and the virus_scan module, or null with what is missing. */
export function cIcapMissing(): string | null {
  if (findCIcap() === null) return 'c-icap is not installed (apt-get install c-icap)';
  if (findCIcapModules() === null) return 'c-icap virus_scan module missing (apt-get install libc-icap-mod-virus-scan)';
  return null;
}

export interface LocalIcapOptions {
  /** clamd's unix socket (e.g. startLocalClamd().socket from @mmsguard/scan-clamd). */
  readonly clamdSocket: string;
  /** Port on 127.0.0.1 (to come back where a stopped one was), or a free one. */
  readonly port?: number;
  readonly startTimeoutMs?: number;
}

export interface LocalIcap {
  /** `icap://127.0.0.1:PORT/virus_scan` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** c-icap's server log so far (for failure messages). */
  log(): string;
  /** Ends the process group with `signal` (SIGTERM; SIGKILL to test a crash) and waits for the port. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startLocalIcap(opts: LocalIcapOptions): Promise<LocalIcap> {
  const bin = findCIcap();
  const modules = findCIcapModules();
  if (bin === null || modules === null) throw new Error(cIcapMissing() ?? 'c-icap not found');
  const dir = mkdtempSync(join(tmpdir(), 'mmsguard-c-icap-'));
  const port = opts.port ?? (await freePort());
  const magic = MAGIC.find((p) => existsSync(p));
  const templates = TEMPLATES.find((p) => existsSync(p));
  const serverLog = join(dir, 'server.log');
  writeFileSync(join(dir, 'c-icap.conf'), [
    `PidFile ${join(dir, 'c-icap.pid')}`, `CommandsSocket ${join(dir, 'c-icap.ctl')}`,
    `Port 127.0.0.1:${port}`, `TmpDir ${dir}`, `ServerLog ${serverLog}`, `AccessLog ${join(dir, 'access.log')}`,
    // Small and quick to start: one child; idle keep-alive connections are closed by our pool first.
    'StartServers 1', 'MaxServers 2', 'MinSpareThreads 2', 'MaxSpareThreads 8', 'ThreadsPerChild 8',
    'Timeout 30', 'KeepAliveTimeout 60', 'MaxKeepAliveRequests 1000', 'DebugLevel 1',
    `ModulesDir ${modules}`, `ServicesDir ${modules}`,
    ...(magic === undefined ? [] : [`LoadMagicFile ${magic}`]),
    ...(templates === undefined ? [] : [`TemplateDir ${templates}`, 'TemplateDefaultLanguage en']),
    'Module common clamd_mod.so', `clamd_mod.ClamdSocket ${opts.clamdSocket}`,
    'Service virus_scan virus_scan.so', 'virus_scan.DefaultEngine clamd',
    // Every group c-icap's magic file knows: MMS parts are pictures, audio and video (STREAM) too,
    // and Debian's default list leaves those unscanned (answered 204 as if clean).
    'virus_scan.ScanFileTypes TEXT DATA EXECUTABLE ARCHIVE GRAPHICS STREAM DOCUMENT',
    // Never send part of an object before it is scanned, and never let size skip the scan.
    'virus_scan.SendPercentData 0', 'virus_scan.MaxObjectSize 100M', 'virus_scan.Allow204Responces on', '',
  ].join('\n'));
  const child = spawn(bin, ['-N', '-f', join(dir, 'c-icap.conf')], { stdio: 'ignore', detached: true });
  const pid = child.pid ?? -1;
  const log = (): string => (existsSync(serverLog) ? readFileSync(serverLog, 'utf8') : '');
  const url = `icap://127.0.0.1:${port}/virus_scan`;

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      // The group: c-icap forks its children into it; an orphaned child would keep the port.
      try {
        process.kill(-pid, signal);
      } catch {
        child.kill(signal);
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
    for (let i = 0; i < 100 && (await portOpen(port)); i++) await sleep(50);
    rmSync(dir, { recursive: true, force: true });
  };

  const client = new IcapClient({ addresses: [parseIcapUrl(url)], connectTimeoutMs: 500 });
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`c-icap exited (code ${child.exitCode}) while starting: ${log()}`);
      try {
        await client.serviceInfo(AbortSignal.timeout(1000));
        break;
      } catch (e) {
        // Up, but without an engine (a clamd socket nobody listens on): the caller's tests want that too.
        if (e instanceof IcapError && e.code === IcapErrorCode.NO_ENGINE) break;
      }
      if (Date.now() > deadline) throw new Error(`c-icap did not answer OPTIONS on ${url} in time: ${log()}`);
      await sleep(100);
    }
  } catch (e) {
    await stop();
    throw e;
  } finally {
    client.close();
  }
  return { url, port, pid, log, stop };
}
