/**
 * Comforting end to end with real sockets on 127.0.0.1, INTERVAL 0.2 s,
 * AMOUNT 100 bytes: byte counts over time (within a tick), the complete
 * identical body when clean, a cut transfer when infected, the log record,
 * and the retry answered from the verdict cache.
 */
import { createHash } from 'node:crypto';
import { createServer, request, get as httpGet, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { FIELD, buildSendConf, decode, octetHeader, textHeader } from 'wap-mms-decoder';
import { eicarBytes } from '@mmsguard/scan';
import { get, startStack, verdicts, type Stack } from './harness.js';
import { part, retrieveConfOf, sendReq, text } from './pdus.js';

const COMFORT = { MM1_COMFORT_INTERVAL: '0.2', MM1_COMFORT_AMOUNT: '100' };
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let stack: Stack | null = null;
let extra: Server | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
  if (extra !== null) await new Promise((r) => extra?.close(r));
  extra = null;
});

function padded(withVirus: boolean): Uint8Array {
  const filler = part('photo.jpg', new Uint8Array(20_000).fill(0x41), 'image/jpeg');
  return retrieveConfOf(sendReq(withVirus ? [filler, part('eicar.com', eicarBytes())] : [filler, text('hello')], 'R-comfort'));
}

interface Download {
  samples: { t: number; bytes: number }[];
  done: Promise<{ complete: boolean; body: Buffer; status: number; length: string | undefined }>;
}

function download(url: string, headers: Record<string, string>): Download {
  const samples: { t: number; bytes: number }[] = [];
  const t0 = Date.now();
  const done = new Promise<{ complete: boolean; body: Buffer; status: number; length: string | undefined }>((resolve) => {
    const req = httpGet(url, { headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      const length = res.headers['content-length'];
      let n = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        n += c.length;
        samples.push({ t: Date.now() - t0, bytes: n });
      });
      const end = (complete: boolean) => (): void => resolve({ complete, body: Buffer.concat(chunks), status: res.statusCode ?? 0, length });
      res.on('end', end(true));
      res.on('error', end(false));
      res.on('aborted', end(false));
    });
    req.on('error', () => resolve({ complete: false, body: Buffer.alloc(0), status: 0, length: undefined }));
  });
  return { samples, done };
}

const bytesAt = (samples: { t: number; bytes: number }[], t: number): number => samples.filter((s) => s.t <= t).at(-1)?.bytes ?? 0;

async function preload(s: Stack, id: string, pdu: Uint8Array): Promise<void> {
  await fetch(`${s.simUrl}/_sim/messages/${id}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: pdu });
}

describe('client comforting (MM1 retrieve)', () => {
  it('trickles AMOUNT bytes per INTERVAL while the MMSC is slow, then delivers the identical message', async () => {
    stack = await startStack({ MM1_CLIENT_COMFORT: 'on', ...COMFORT });
    const pdu = padded(false);
    await preload(stack, 'slow', pdu);
    // The simulator sends 1,000 bytes every 50 ms: about 1 s for the 20 KB message.
    const d = download(`${stack.proxy}/mms/slow`, { 'x-sim-trickle': '1000:50' });
    const r = await d.done;
    expect(r.complete).toBe(true);
    expect(sha(r.body)).toBe(sha(pdu));
    // The head went out with the first comfort byte, still with the MMSC's Content-Length (not chunked).
    expect(r.length).toBe(String(pdu.length));
    // After 0.5 s of buffering: two comfort ticks (0.2 s, 0.4 s) -> 200 bytes, within a tick.
    expect(bytesAt(d.samples, 500)).toBeGreaterThanOrEqual(100);
    expect(bytesAt(d.samples, 500)).toBeLessThanOrEqual(300);
    expect(d.samples[0]?.t).toBeGreaterThanOrEqual(150);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'forwarded', comfort_started: true });
  });

  it('cuts the connection when the message is infected after comforting started, and refuses the retry at once', async () => {
    stack = await startStack({ MM1_CLIENT_COMFORT: 'on', ...COMFORT });
    const pdu = padded(true);
    await preload(stack, 'bad', pdu);
    const d = download(`${stack.proxy}/mms/bad`, { 'x-sim-trickle': '1000:50' });
    const r = await d.done;
    expect(r.complete).toBe(false);
    expect(r.body.length).toBeGreaterThan(0);
    expect(r.body.length).toBeLessThan(pdu.length);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'blocked', subtype: 'virus', comfort_started: true });
    const gets = stack.sim.received.filter((x) => x.method === 'GET').length;
    const retry = await get(stack.proxy, '/mms/bad');
    expect(octetHeader(decode(retry.body), FIELD.RETRIEVE_STATUS)).toBe(0xe3);
    // Answered from the cache, and still with the message's Transaction-ID.
    expect(textHeader(decode(retry.body), FIELD.TRANSACTION_ID)).toBe('R-comfort');
    expect(stack.sim.received.filter((x) => x.method === 'GET').length).toBe(gets);
  });

  it('cannot rewrite once comforting started: REMOVE_BLOCKED=on still cuts, and the logs say blocked', async () => {
    stack = await startStack({ MM1_CLIENT_COMFORT: 'on', REMOVE_BLOCKED: 'on', ...COMFORT });
    await preload(stack, 'bad2', padded(true));
    const r = await download(`${stack.proxy}/mms/bad2`, { 'x-sim-trickle': '1000:50' }).done;
    expect(r.complete).toBe(false);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'blocked', comfort_started: true });
    expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ subtype: 'virus', action: 'blocked' });
  });

  it('answers with the normal error PDU when the verdict comes before the first comfort byte', async () => {
    stack = await startStack({ MM1_CLIENT_COMFORT: 'on', ...COMFORT });
    await preload(stack, 'fast', padded(true));
    const r = await get(stack.proxy, '/mms/fast');
    expect(octetHeader(decode(r.body), FIELD.RETRIEVE_STATUS)).toBe(0xe3);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'blocked', comfort_started: false });
  });
});

/** A small MMSC that records when request bytes arrive. */
async function recordingUpstream(): Promise<{ url: string; seen: { samples: { t: number; bytes: number }[]; complete: boolean; body: Buffer }[] }> {
  const seen: { samples: { t: number; bytes: number }[]; complete: boolean; body: Buffer }[] = [];
  extra = createServer((req, res) => {
    const t0 = Date.now();
    const entry = { samples: [] as { t: number; bytes: number }[], complete: false, body: Buffer.alloc(0) };
    seen.push(entry);
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      n += c.length;
      entry.samples.push({ t: Date.now() - t0, bytes: n });
    });
    req.on('end', () => {
      entry.complete = true;
      entry.body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'application/vnd.wap.mms-message' });
      res.end(Buffer.from(buildSendConf({ transactionId: 'x', status: 0x80, messageId: 'm1' })));
    });
    req.on('close', () => {
      if (!entry.complete) entry.body = Buffer.concat(chunks);
    });
  });
  await new Promise<void>((r) => extra?.listen(0, '127.0.0.1', r));
  const a = extra.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`, seen };
}

function slowUpload(url: string, body: Uint8Array, chunk: number, everyMs: number): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/mms`, { method: 'POST', headers: { 'content-type': 'application/vnd.wap.mms-message', 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    let off = 0;
    const step = (): void => {
      req.write(body.subarray(off, off + chunk));
      off += chunk;
      if (off >= body.length) req.end();
      else setTimeout(step, everyMs);
    };
    step();
  });
}

describe('server comforting (MM1 send)', () => {
  it('trickles the upload to the MMSC while the handset is slow, then sends the rest identical', async () => {
    const up = await recordingUpstream();
    stack = await startStack({ MM1_SERVER_COMFORT: 'on', ...COMFORT }, up.url);
    const pdu = sendReq([part('photo.jpg', new Uint8Array(20_000).fill(0x42), 'image/jpeg')], 'T-slow');
    const r = await slowUpload(stack.proxy, pdu, 1000, 50);
    expect(octetHeader(decode(r.body), FIELD.RESPONSE_STATUS)).toBe(0x80);
    const seen = up.seen[0];
    expect(seen?.complete).toBe(true);
    expect(sha(seen?.body ?? Buffer.alloc(0))).toBe(sha(pdu));
    expect(bytesAt(seen?.samples ?? [], 500)).toBeGreaterThanOrEqual(100);
    expect(bytesAt(seen?.samples ?? [], 500)).toBeLessThanOrEqual(300);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'forwarded', comfort_started: true });
  });

  it('aborts the upstream request when the upload is infected, and answers the handset 0xE5', async () => {
    const up = await recordingUpstream();
    stack = await startStack({ MM1_SERVER_COMFORT: 'on', ...COMFORT }, up.url);
    const pdu = sendReq([part('photo.jpg', new Uint8Array(20_000).fill(0x42), 'image/jpeg'), part('eicar.com', eicarBytes())], 'T-bad');
    const r = await slowUpload(stack.proxy, pdu, 1000, 50);
    expect(octetHeader(decode(r.body), FIELD.RESPONSE_STATUS)).toBe(0xe5);
    await sleep(100);
    const seen = up.seen[0];
    expect(seen?.complete).toBe(false);
    expect(seen?.body.length ?? 0).toBeGreaterThan(0);
    expect(seen?.body.length ?? 0).toBeLessThan(pdu.length);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'blocked', subtype: 'virus', comfort_started: true });
  });
});

describe('client comforting (MM7)', () => {
  it('keeps a slow VASP connection alive with 102 Processing while its request is read and scanned, then answers', async () => {
    const { submitReq } = await import('./mm7-submit.js');
    stack = await startStack({ MM7_CLIENT_COMFORT: 'on', MM7_COMFORT_INTERVAL: '0.2' });
    const m = submitReq({ vaspId: 'V', tid: 'T-interim', attachments: [{ name: 'a.bin', type: 'application/octet-stream', data: new Uint8Array(10_000).fill(1) }] });
    const { port } = new URL(stack.mm7);
    const interim: number[] = [];
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/mm7', method: 'POST', headers: { 'content-type': m.contentType, 'content-length': String(m.body.length) } }, (r) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, text }));
      });
      req.on('information', (info: { statusCode: number }) => interim.push(info.statusCode));
      req.on('error', reject);
      let off = 0;
      const step = (): void => {
        req.write(m.body.subarray(off, off + 1000));
        off += 1000;
        if (off >= m.body.length) req.end();
        else setTimeout(step, 100);
      };
      step();
    });
    expect(res.status).toBe(200);
    expect(res.text).toContain('>T-interim</');
    expect(interim.length).toBeGreaterThanOrEqual(2);
    expect(new Set(interim)).toEqual(new Set([102]));
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ service: 'MM7', action: 'forwarded' });
    expect(v?.['client_comfort_interim']).toBeGreaterThanOrEqual(2);
  });
});
