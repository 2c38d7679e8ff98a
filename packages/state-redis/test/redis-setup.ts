/**
 * A private redis-server on 127.0.0.1 for the tests (Debian's redis-server,
 * installed by .ci/run), no persistence, stopped afterwards. Without the binary
 * the Redis tests skip with a notice.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string | null;
  }
}

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    let got = '';
    c.on('connect', () => c.write('PING\r\n'));
    c.on('data', (d) => {
      got += d.toString();
      c.end();
    });
    c.on('close', () => resolve(got.startsWith('+PONG')));
    c.on('error', () => resolve(false));
  });
}

export const REDIS_BIN = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p)) ?? null;

/** A private redis-server on 127.0.0.1 (on `port`, or a free one), ready; `stop` waits for its exit. */
export async function startRedis(port?: number): Promise<{ port: number; url: string; stop(): Promise<void> }> {
  if (REDIS_BIN === null) throw new Error('redis-server not installed');
  const p = port ?? (await freePort());
  const child = spawn(REDIS_BIN, ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(await ping(p)); i++) await new Promise((r) => setTimeout(r, 100));
  return {
    port: p, url: `redis://127.0.0.1:${p}`,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (REDIS_BIN === null) {
    console.warn('NOTICE: redis-server not installed (apt-get install redis-server); Redis tests are skipped.');
    project.provide('redisUrl', null);
    return () => Promise.resolve();
  }
  const r = await startRedis();
  project.provide('redisUrl', r.url);
  return () => r.stop();
}
