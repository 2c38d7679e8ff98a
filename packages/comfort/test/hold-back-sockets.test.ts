/**
 * The held-back tail over real sockets on 127.0.0.1, both directions, with AMOUNT larger than the body:
 * the receiver (a node:http client for client comforting, a node:http server for server comforting)
 * gets every byte but the last, waits through more intervals without the last byte, and then either the
 * verdict cuts (an incomplete transfer against the original Content-Length) or releases (the exact bytes).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ComfortScheduler, Comforter } from '../src/index.js';

const body = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) & 0xff));
const INTERVAL_MS = 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let server: Server | null = null;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => (server === null ? r(null) : server.close(r)));
  server = null;
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  server = createServer(handler);
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

interface Received {
  bytes: number;
  headers: IncomingMessage['headers'];
  /** Resolves once `n` bytes have arrived. */
  reach: (n: number) => Promise<void>;
  done: Promise<{ complete: boolean; body: Buffer }>;
}

/** Counts a body as it arrives; complete only on 'end' (never on an abort or reset). */
function receive(msg: IncomingMessage): Received {
  const chunks: Buffer[] = [];
  const waiters: { n: number; go: () => void }[] = [];
  const r: Received = {
    bytes: 0,
    headers: msg.headers,
    reach: (n) => new Promise((go) => (r.bytes >= n ? go() : waiters.push({ n, go }))),
    done: new Promise((resolve) => {
      msg.on('data', (c: Buffer) => {
        chunks.push(c);
        r.bytes += c.length;
        for (const w of waiters.filter((x) => r.bytes >= x.n)) w.go();
      });
      msg.on('end', () => resolve({ complete: true, body: Buffer.concat(chunks) }));
      msg.on('aborted', () => resolve({ complete: false, body: Buffer.concat(chunks) }));
      msg.on('error', () => resolve({ complete: false, body: Buffer.concat(chunks) }));
    }),
  };
  return r;
}

/** Client comforting: the proxy side is this server; the whole body is buffered, the scan "takes long". */
async function download(
  known: boolean, verdict: 'clean' | 'blocked',
): Promise<{ r: Received; result: { complete: boolean; body: Buffer } }> {
  let comforter: Comforter | null = null;
  const port = await listen((_req, res) => {
    const c = new Comforter(new ComfortScheduler(), () => body, {
      intervalMs: INTERVAL_MS, amount: 10_000, length: known ? body.length : null,
      onFirstByte: (framing) => {
        res.writeHead(200, { 'content-type': 'application/vnd.wap.mms-message', ...framing });
        c.output.pipe(res);
      },
    });
    c.output.on('error', () => undefined);
    c.inputComplete();
    comforter = c;
  });
  const r = await new Promise<Received>((resolve, reject) => {
    request({ port, host: '127.0.0.1', path: '/' }, (res) => resolve(receive(res))).on('error', reject).end();
  });
  await r.reach(body.length - 1);
  await sleep(INTERVAL_MS * 5);
  expect(r.bytes).toBe(body.length - 1);
  const c = comforter as Comforter | null;
  if (verdict === 'clean') c?.release();
  else {
    c?.cut('virus');
    server?.closeAllConnections();
  }
  return { r, result: await r.done };
}

describe('client comforting over a socket', () => {
  it('keeps the original Content-Length and, blocked, leaves the handset one byte short of it', async () => {
    const { r, result } = await download(true, 'blocked');
    expect(r.headers['content-length']).toBe(String(body.length));
    expect(r.headers['transfer-encoding']).toBeUndefined();
    expect(result.complete).toBe(false);
    expect(result.body.length).toBe(body.length - 1);
  });

  it('keeps the original Content-Length and, clean, delivers the exact bytes', async () => {
    const { r, result } = await download(true, 'clean');
    expect(r.headers['content-length']).toBe(String(body.length));
    expect(result.complete).toBe(true);
    expect(result.body.equals(body)).toBe(true);
  });

  it('with an unknown length answers chunked and, blocked, never sends the terminating chunk', async () => {
    const { r, result } = await download(false, 'blocked');
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(result.complete).toBe(false);
    expect(result.body.length).toBe(body.length - 1);
  });
});

/** Server comforting: this test is the proxy, the server is the MMSC; the upload has fully arrived. */
async function upload(verdict: 'clean' | 'blocked'): Promise<{ complete: boolean; body: Buffer }> {
  let arrive: (r: Received) => void = () => undefined;
  const arrived = new Promise<Received>((resolve) => (arrive = resolve));
  const port = await listen((req, res) => {
    const got = receive(req);
    arrive(got);
    void got.done.then((d) => (d.complete ? res.end('ok') : undefined));
  });
  const c = new Comforter(new ComfortScheduler(), () => body, {
    intervalMs: INTERVAL_MS, amount: 10_000, length: body.length,
  });
  c.output.on('error', () => undefined);
  c.inputComplete();
  const req = request({ port, host: '127.0.0.1', path: '/mms', method: 'POST', headers: { ...c.framing } });
  req.on('error', () => undefined);
  c.output.pipe(req);
  const r = await arrived;
  await r.reach(body.length - 1);
  await sleep(INTERVAL_MS * 5);
  expect(r.bytes).toBe(body.length - 1);
  if (verdict === 'clean') c.release();
  else {
    c.cut('virus');
    req.destroy();
  }
  return r.done;
}

describe('server comforting over a socket', () => {
  it('blocked: the MMSC sees an aborted request one byte short of its Content-Length', async () => {
    const result = await upload('blocked');
    expect(result.complete).toBe(false);
    expect(result.body.length).toBe(body.length - 1);
  });

  it('clean: the MMSC gets the exact original bytes', async () => {
    const result = await upload('clean');
    expect(result.complete).toBe(true);
    expect(result.body.equals(body)).toBe(true);
  });
});
