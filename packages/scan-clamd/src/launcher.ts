/**
 * Starts a private clamd (for tests, benches and demos): a generated config in
 * a temp dir, the given signature database, a unix socket and a loopback TCP
 * port; resolves once it answers PONG. `stop()` ends it by pid and removes the
 * dir. Not used by the proxy in production, where clamd is the operator's.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseClamdAddress } from './address.js';
import { ClamdClient } from './client.js';

const CANDIDATES = ['/usr/sbin/clamd', '/usr/bin/clamd', '/usr/local/sbin/clamd'];

export function findClamd(): string | null {
  return process.env['CLAMD_BIN'] ?? CANDIDATES.find((c) => existsSync(c)) ?? null;
}

export interface LocalClamd {
  readonly socket: string;
  readonly tcp: string;
  readonly pid: number;
  stop(): Promise<void>;
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

export interface LaunchOptions {
  /** Directory of signature files to copy into the private database. */
  readonly databaseDir: string;
  readonly streamMaxLength?: string;
  readonly startTimeoutMs?: number;
}

export async function startLocalClamd(opts: LaunchOptions): Promise<LocalClamd> {
  const bin = findClamd();
  if (bin === null) throw new Error('clamd is not installed (apt-get install clamav-daemon)');
  const dir = mkdtempSync(join(tmpdir(), 'mmsguard-clamd-'));
  const db = join(dir, 'db');
  cpSync(opts.databaseDir, db, { recursive: true });
  const socket = join(dir, 'clamd.sock');
  const port = await freePort();
  const conf = join(dir, 'clamd.conf');
  writeFileSync(conf, [
    `LocalSocket ${socket}`, `TCPSocket ${port}`, 'TCPAddr 127.0.0.1', `DatabaseDirectory ${db}`, 'Foreground yes',
    `LogFile ${join(dir, 'clamd.log')}`, `StreamMaxLength ${opts.streamMaxLength ?? '25M'}`, 'MaxThreads 4',
    `User ${process.env['USER'] ?? 'root'}`, '',
  ].join('\n'));
  const child = spawn(bin, ['-c', conf], { stdio: 'ignore' });
  const client = new ClamdClient({ addresses: [parseClamdAddress(`unix:${socket}`)], connectTimeoutMs: 500 });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`clamd exited with code ${child.exitCode} while starting`);
    }
    if (existsSync(socket)) {
      try {
        if ((await client.command('PING', AbortSignal.timeout(1000))).trim() === 'PONG') break;
      } catch {
        // not ready yet
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error('clamd did not answer PONG in time');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { socket, tcp: `tcp://127.0.0.1:${port}`, pid: child.pid ?? -1, stop };
}
