/**
 * Starts a real clamd for the clamd tests: the repo's own small signature
 * database (freshclam cannot download here), a generated config in a temp
 * dir, a unix socket and a loopback TCP port; waits for PONG; stops it by pid
 * afterwards. Without a clamd binary (a user's machine without clamav-daemon)
 * the tests that need it skip with a visible notice; CI installs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    clamdSocket: string | null;
    clamdTcp: string | null;
  }
}

const CANDIDATES = ['/usr/sbin/clamd', '/usr/bin/clamd', '/usr/local/sbin/clamd'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function ping(socket: string): Promise<boolean> {
  const { createConnection } = await import('node:net');
  return new Promise((resolve) => {
    const c = createConnection({ path: socket });
    const t = setTimeout(() => {
      c.destroy();
      resolve(false);
    }, 1000);
    let got = '';
    c.on('connect', () => c.write('zPING\0'));
    c.on('data', (d) => (got += d.toString()));
    c.on('close', () => {
      clearTimeout(t);
      resolve(got.startsWith('PONG'));
    });
    c.on('error', () => undefined);
  });
}

let child: ChildProcess | null = null;
let dir: string | null = null;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bin = process.env['CLAMD_BIN'] ?? CANDIDATES.find((c) => existsSync(c));
  if (bin === undefined) {
    console.warn('NOTICE: clamd not installed (apt-get install clamav-daemon); real-clamd tests are skipped.');
    project.provide('clamdSocket', null);
    project.provide('clamdTcp', null);
    return () => Promise.resolve();
  }
  dir = mkdtempSync(join(tmpdir(), 'mmsguard-clamd-'));
  const db = join(dir, 'db');
  cpSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'db'), db, { recursive: true });
  const socket = join(dir, 'clamd.sock');
  const port = await freePort();
  const conf = join(dir, 'clamd.conf');
  writeFileSync(conf, [
    `LocalSocket ${socket}`, `TCPSocket ${port}`, 'TCPAddr 127.0.0.1', `DatabaseDirectory ${db}`,
    'Foreground yes', `LogFile ${join(dir, 'clamd.log')}`, 'StreamMaxLength 2M', 'MaxThreads 4',
    `User ${process.env['USER'] ?? 'root'}`, '',
  ].join('\n'));
  child = spawn(bin, ['-c', conf], { stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (existsSync(socket) && (await ping(socket))) break;
    if (child.exitCode !== null) throw new Error(`clamd exited with ${child.exitCode}; see ${join(dir, 'clamd.log')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  if (!(await ping(socket))) throw new Error('clamd did not answer PONG within 60 s');
  project.provide('clamdSocket', socket);
  project.provide('clamdTcp', `tcp://127.0.0.1:${port}`);
  return async () => {
    const c = child;
    if (c !== null && c.exitCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (c.exitCode === null) c.kill('SIGKILL');
    }
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  };
}
