/**
 * readBody behind a small node:http server on 127.0.0.1, attacked the way issue 14 (class 9) did it:
 * 26 sockets each declaring 10 MiB and sending 1 byte must not lock out the 27th, honest client; and a
 * slow-loris upload is cut by the minimum rate (short real window) while an honest one goes through.
 */
import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MIN_CAPACITY, readBody, type MinRate } from '../src/body.js';
import { ByteBudget } from '../src/budget.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

let server: Server | null = null;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  server?.closeAllConnections();
  await new Promise((r) => (server === null ? r(null) : server.close(r)));
  server = null;
});

/** The proxy's shape: 10 MiB oversize limit, the 256 MiB default budget; answers the body's SHA-256. */
interface BodyServer {
  port: number;
  /** Requests whose first body byte was read. */
  started: () => number;
  /** Requests answered with anything but the body's hash. */
  refused: () => number;
}

async function bodyServer(budget: ByteBudget, minRate?: MinRate): Promise<BodyServer> {
  let started = 0;
  let refused = 0;
  server = createServer((req, res) => {
    const cl = req.headers['content-length'];
    let first = true;
    const opts = {
      declaredLength: cl === undefined ? null : Number(cl), limit: 10 * MiB, budget,
      onProgress: () => {
        if (first) started++;
        first = false;
      },
    };
    void (minRate !== undefined ? readBody(req, { ...opts, minRate }) : readBody(req, opts)).then((r) => {
      if (r.kind === 'complete') {
        res.end(sha(r.body));
        budget.give(r.reserved);
        return;
      }
      refused++;
      if (r.kind === 'too-slow') {
        res.writeHead(408, { connection: 'close' }).end();
      } else {
        res.writeHead(r.kind === 'budget' ? 503 : 400, { connection: 'close' }).end(r.kind);
      }
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, started: () => started, refused: () => refused };
}

/** Declares `declared` bytes and sends `sent`, then holds the socket open. */
async function hold(port: number, declared: number, sent: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  sockets.push(s);
  s.on('error', () => undefined);
  await new Promise((r) => s.once('connect', r));
  s.write(`POST /mms HTTP/1.1\r\nHost: x\r\nContent-Length: ${declared}\r\n\r\n${'A'.repeat(sent)}`);
  return s;
}

function post(port: number, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-length': body.length };
    const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/mms', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

describe('in-flight budget under the 26-socket attack', () => {
  it('reads the 27th, honest client\'s body while 26 sockets each declare 10 MiB and send 1 byte', async () => {
    const budget = new ByteBudget(256 * MiB);
    const srv = await bodyServer(budget);
    for (let i = 0; i < 26; i++) await hold(srv.port, 10 * MiB, 1);
    await until(() => srv.started() + srv.refused() === 26);
    expect(srv.refused()).toBe(0);
    // Memory held, not bytes promised: 26 small buffers, not 260 MiB.
    expect(budget.inUse).toBe(26 * MIN_CAPACITY);
    const body = Buffer.alloc(300 * 1024, 0x5a);
    const r = await post(srv.port, body);
    expect(r).toEqual({ status: 200, text: sha(body) });
    expect(budget.inUse).toBe(26 * MIN_CAPACITY);
  });
});

describe('minimum upload rate on real sockets', () => {
  it('cuts a slow-loris upload (408, connection closed) while an honest upload is read', async () => {
    const budget = new ByteBudget(256 * MiB);
    const srv = await bodyServer(budget, { bytesPerSecond: 10_000, graceMs: 200 });
    const loris = await hold(srv.port, 10 * MiB, 1);
    let answer = '';
    loris.on('data', (c: Buffer) => (answer += c.toString()));
    const closed = new Promise((r) => loris.once('close', r));
    const body = Buffer.alloc(64 * 1024, 0x33);
    expect(await post(srv.port, body)).toEqual({ status: 200, text: sha(body) });
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(budget.inUse).toBe(0);
  });
});
