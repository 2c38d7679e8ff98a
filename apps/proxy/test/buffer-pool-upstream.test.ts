/** A pooled body sent upstream goes back to the pool only once its socket has nothing left to write (issue 15). */
import { createServer, type Server } from 'node:http';
import { finished } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { BufferPool, holdForUpstream } from '../src/buffer-pool.js';

const MiB = 1024 * 1024;
let server: Server | null = null;
let upstream: Pool | null = null;
afterEach(async () => {
  await upstream?.destroy();
  upstream = null;
  server?.closeAllConnections();
  if (server !== null) await new Promise((r) => server?.close(r));
  server = null;
});

async function send(readFirst: boolean, size: number): Promise<BufferPool> {
  server = createServer((req, res) => {
    if (readFirst) {
      req.resume();
      req.on('end', () => res.end('ok'));
    } else {
      res.end('early'); // answers without reading: the body may still be on its way
    }
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const a = server.address();
  upstream = new Pool(`http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`, { pipelining: 1 });
  const pool = new BufferPool({ room: () => 256 * MiB, maxClass: 64 * MiB, idleTrimMs: 0 });
  const lease = pool.acquire(size);
  const body = lease.buffer.subarray(0, size);
  const done = holdForUpstream(lease, body);
  lease.drop(); // the pipeline's own hold: only the upstream's is left
  expect(lease.holders).toBe(1);
  try {
    const res = await upstream.request({
      path: '/', method: 'POST', body, headers: { 'content-length': String(size) },
    });
    await new Promise<void>((resolve) => {
      finished(res.body, (err) => {
        done(err === undefined || err === null);
        resolve();
      });
      void res.body.text().catch(() => undefined);
    });
  } catch {
    done(false);
  }
  return pool;
}

describe('holdForUpstream', () => {
  it('returns the buffer once an upstream that read the whole body has answered', async () => {
    const pool = await send(true, 4 * MiB);
    expect(pool.stats.forgotten).toBe(0);
    expect(pool.retained).toBe(4 * MiB);
  });

  it('never reuses the buffer of a body an upstream answered before reading', async () => {
    const pool = await send(false, 48 * MiB);
    expect(pool.stats.forgotten).toBe(1);
    expect(pool.retained).toBe(0);
  });
});
