/**
 * Starts a private redis-server (for tests, benches and demos; Debian's
 * `redis-server`, installed by .ci/run): 127.0.0.1 only, no persistence;
 * resolves once it answers PONG. `stop()` waits for it to exit. Not used by
 * the proxy in production, where Redis is the operator's.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';

export function findRedis(): string | null {
  return process.env['REDIS_BIN']
    ?? ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p)) ?? null;
}

export interface LocalRedis {
  readonly port: number;
  readonly url: string;
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

/** On `port` (e.g. to come back where a stopped one was), or a free one. */
export async function startLocalRedis(port?: number): Promise<LocalRedis> {
  const bin = findRedis();
  if (bin === null) throw new Error('redis-server is not installed (apt-get install redis-server)');
  const p = port ?? (await freePort());
  const args = ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  const child = spawn(bin, args, { stdio: 'ignore' });
  let up = false;
  for (let i = 0; i < 100 && !(up = await ping(p)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!up) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not answer on 127.0.0.1:${p}`);
  }
  return {
    port: p, url: `redis://127.0.0.1:${p}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    },
  };
}
