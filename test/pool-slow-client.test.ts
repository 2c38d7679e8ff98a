/**
 * Pooled body buffers (issue 15) are reused only when nothing can still read them. Node writes a large
 * Buffer to a socket without copying it and finishes the write later, when the client reads: a slow client's
 * retrieve reply must stay byte-identical while other messages, taking buffers of the same class from the
 * pool, flow through the proxy. Without the reply's hold on the lease this test gets another message's bytes.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { get, post, startStack, type Stack } from './harness.js';
import { part, retrieveConfOf, sendReq } from './pdus.js';

let stack: Stack | null = null;
let mmsc: Server | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
  if (mmsc !== null) await new Promise((r) => mmsc?.close(r));
  mmsc = null;
});

const MiB = 1024 * 1024;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** An m-retrieve-conf of about 8 MiB whose bytes depend on `seed`. */
function message(seed: number): Uint8Array {
  const data = new Uint8Array(8 * MiB - 4096);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) >>> 24) ^ seed;
  return retrieveConfOf(sendReq([part(`photo-${seed}.jpg`, data, 'image/jpeg')], `R-${seed}`));
}

/** GET over a raw socket that stops reading after the first bytes until `resume` is called; resolves with the body. */
function slowGet(base: string, path: string): { firstBytes: Promise<void>; resume: () => void; body: Promise<Buffer> } {
  const u = new URL(base);
  const s = connect(Number(u.port), u.hostname);
  const chunks: Buffer[] = [];
  let first: () => void = () => undefined;
  const firstBytes = new Promise<void>((r) => (first = r));
  const body = new Promise<Buffer>((resolve, reject) => {
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      if (chunks.length === 1) {
        s.pause();
        first();
      }
    });
    s.on('end', () => {
      const raw = Buffer.concat(chunks);
      const at = raw.indexOf('\r\n\r\n');
      resolve(raw.subarray(at + 4));
    });
    s.on('error', reject);
  });
  s.write(`GET ${path} HTTP/1.1\r\nHost: mmsc\r\nConnection: close\r\n\r\n`);
  return { firstBytes, resume: () => s.resume(), body };
}

describe('pooled body buffers', () => {
  it('a slow client reading a retrieve reply gets byte-identical content while other messages flow', async () => {
    const pdus = new Map([1, 2, 3].map((seed) => [`/mms/m${seed}`, message(seed)]));
    mmsc = createServer((req, res) => {
      if (req.method === 'POST') {
        req.resume();
        req.on('end', () => res.writeHead(200, { 'content-type': 'application/vnd.wap.mms-message' }).end(Buffer.from([0x8c, 0x81])));
        return;
      }
      const pdu = pdus.get(req.url ?? '');
      if (pdu === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/vnd.wap.mms-message', 'content-length': String(pdu.length) });
      res.end(Buffer.from(pdu));
    });
    await new Promise<void>((r) => mmsc?.listen(0, '127.0.0.1', r));
    const a = mmsc.address();
    stack = await startStack({ MM1_OVERSIZE_LIMIT: '16MiB' }, `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`);
    const pool = stack.proxyApp.ctx.budget.pool;
    expect(pool).not.toBeNull();

    const slow = slowGet(stack.proxy, '/mms/m1');
    await slow.firstBytes;
    // The proxy has answered and released the message; the rest of the 8 MiB waits in Node for the reader.
    await new Promise((r) => setTimeout(r, 200));
    for (let round = 0; round < 3; round++) {
      const [r2, r3] = await Promise.all([get(stack.proxy, '/mms/m2'), get(stack.proxy, '/mms/m3')]);
      expect(sha(r2.body)).toBe(sha(pdus.get('/mms/m2') as Uint8Array));
      expect(sha(r3.body)).toBe(sha(pdus.get('/mms/m3') as Uint8Array));
      const sent = await post(stack.proxy, pdus.get('/mms/m2') as Uint8Array);
      expect(sent.status).toBe(200);
    }
    expect(pool?.stats.reused).toBeGreaterThan(0);
    slow.resume();
    const got = await slow.body;
    expect(got.length).toBe((pdus.get('/mms/m1') as Uint8Array).length);
    expect(sha(got)).toBe(sha(pdus.get('/mms/m1') as Uint8Array));
    expect(pool?.stats.doubleDrops).toBe(0);
  }, 60_000);
});
