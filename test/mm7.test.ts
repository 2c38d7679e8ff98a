/** MM7 through the proxy, with requests from shared/tools/mm7-gen made at test time (never committed: EICAR). */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eicarBytes } from '@mmsguard/scan';
import { decodedBody, leaves, parseMime } from '@mmsguard/mm7';
import { startStack, verdicts, type Stack } from './harness.js';

const SHARED = process.env['MMSGUARD_SHARED'] ?? resolve(fileURLToPath(import.meta.url), '../../../shared');
const GEN = join(SHARED, 'tools/mm7-gen/mm7gen.py');
const HAVE = existsSync(GEN);
if (!HAVE) console.warn('NOTICE: ../shared/tools/mm7-gen not found; MM7 end-to-end tests are skipped.');
const tmp = mkdtempSync(join(tmpdir(), 'mm7e2e-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

interface Gen { body: Buffer; contentType: string; tid: string }
function gen(...args: string[]): Gen {
  const r = spawnSync('python3', [GEN, ...args, '--body-out', join(tmp, 'b'), '--headers-out', join(tmp, 'h.json'), '--meta'], { encoding: 'utf8' });
  const meta = JSON.parse(r.stderr) as { transaction_id: string };
  const h = JSON.parse(readFileSync(join(tmp, 'h.json'), 'utf8')) as Record<string, string>;
  return { body: readFileSync(join(tmp, 'b')), contentType: h['Content-Type'] ?? '', tid: meta.transaction_id };
}

async function send(s: Stack, g: { body: Uint8Array; contentType: string }): Promise<{ status: number; text: string }> {
  const res = await fetch(`${s.mm7}/mm7`, { method: 'POST', headers: { 'content-type': g.contentType, soapaction: '""' }, body: g.body });
  return { status: res.status, text: await res.text() };
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe.skipIf(!HAVE)('MM7', () => {
  it('forwards a clean SubmitReq byte-identical and relays the SubmitRsp', async () => {
    stack = await startStack();
    const g = gen('--seed', '11', '--attachments', '3', '--cte', 'mixed');
    const r = await send(stack, g);
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/<SubmitRsp[^>]*>.*<StatusCode>1000<\/StatusCode>/s);
    expect(stack.sim.received.at(-1)).toMatchObject({ length: g.body.length, sha256: sha(g.body) });
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ service: 'MM7', msgtype: 'SubmitReq', transactionid: g.tid, action: 'forwarded', parts: 5 }); // 3 attachments + the SMIL part + the SOAP envelope
  });

  for (const cte of ['base64', 'binary', 'text'] as const) {
    it(`refuses EICAR (${cte}) with an RSErrorRsp Fault 2004 over HTTP 500, echoing the TransactionID`, async () => {
      stack = await startStack();
      const g = gen('--seed', '12', '--attachments', '2', '--eicar', cte);
      const r = await send(stack, g);
      expect(r.status).toBe(500);
      expect(r.text).toMatch(/<faultcode>env:Client<\/faultcode>/);
      expect(r.text).toMatch(/<RSErrorRsp[^>]*>.*<StatusCode>2004<\/StatusCode><StatusText>Multimedia content refused<\/StatusText>/s);
      expect(r.text).toContain(`>${g.tid}</mm7:TransactionID>`);
      expect(r.text).toContain('REL-6-MM7-1-4');
      expect(stack.sim.received).toHaveLength(0);
      expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ service: 'MM7', subtype: 'virus', virus: 'Eicar-Test-Signature', msgtype: 'SubmitReq', action: 'blocked' });
    });
  }

  it('answers a DeliverReq with EICAR with a VASPErrorRsp Fault and logs it incoming', async () => {
    stack = await startStack();
    const r = await send(stack, gen('--seed', '13', '--kind', 'deliver', '--eicar', 'base64', '--ns', 'REL-5-MM7-1-3'));
    expect(r.status).toBe(500);
    expect(r.text).toMatch(/<VASPErrorRsp xmlns="[^"]*REL-5-MM7-1-3">.*2004/s);
    expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ direction: 'incoming', msgtype: 'DeliverReq' });
  });

  it('answers malformed MIME with 2007 and forwards nothing', async () => {
    stack = await startStack();
    const g = gen('--seed', '14');
    const r = await send(stack, { body: Buffer.from('no delimiter in here at all'), contentType: g.contentType });
    expect(r.status).toBe(500);
    expect(r.text).toMatch(/<StatusCode>2007<\/StatusCode>/);
    expect(stack.sim.received).toHaveLength(0);
  });

  it('answers 4006 when the scanner is down and fail-closed', async () => {
    stack = await startStack({ SCAN_ENGINES: 'clamd', CLAMD_ADDRESS: 'unix:/nonexistent/clamd.sock' });
    const r = await send(stack, gen('--seed', '15'));
    expect(r.status).toBe(500);
    expect(r.text).toMatch(/<StatusCode>4006<\/StatusCode><StatusText>Service unavailable<\/StatusText>/);
  });

  it('with REMOVE_BLOCKED=on forwards the request with the EICAR part replaced, references kept', async () => {
    stack = await startStack({ REMOVE_BLOCKED: 'on' });
    const g = gen('--seed', '16', '--attachments', '2', '--eicar', 'base64');
    const r = await send(stack, g);
    expect(r.status).toBe(200);
    const fwd = stack.sim.received.at(-1);
    expect(fwd?.length).not.toBe(g.body.length);
    // What reached the MMSC still parses, has the same parts (by Content-ID), and no EICAR anywhere.
    const at = stack.sim.mm7Bodies.at(-1) ?? Buffer.alloc(0);
    const cids = (b: Buffer): (string | null)[] => leaves(parseMime(b, g.contentType).root).map((l) => l.contentId);
    expect(cids(at)).toEqual(cids(g.body));
    expect(leaves(parseMime(at, g.contentType).root).some((l) => Buffer.from(decodedBody(l)).includes(Buffer.from(eicarBytes())))).toBe(false);
    expect(at.toString('latin1')).toMatch(/was removed by the network's content filter: virus Eicar-Test-Signature/);
    expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ action: 'attachment-removed' });
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'attachment-removed', service: 'MM7' });
  });

  it('forwards text/xml operations (DeliveryReportReq) without content', async () => {
    stack = await startStack();
    const g = gen('--seed', '17', '--kind', 'deliveryreport');
    const r = await send(stack, g);
    expect(r.status).toBe(200);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ msgtype: 'DeliveryReportReq', action: 'forwarded', parts: 0 });
  });

  it('refuses an oversized request with 2004 at once', async () => {
    stack = await startStack({ MM7_OVERSIZE_LIMIT: '20KB' });
    const r = await send(stack, gen('--seed', '18', '--target-size', '100000'));
    expect(r.status).toBe(500);
    expect(r.text).toMatch(/2004.*too large/s);
    expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ subtype: 'oversize', service: 'MM7' });
  });

  it('finds EICAR that only a decoded base64 part reveals, not the raw bytes', () => {
    const g = gen('--seed', '19', '--eicar', 'base64');
    const found = leaves(parseMime(g.body, g.contentType).root).some((l) => Buffer.from(decodedBody(l)).equals(Buffer.from(eicarBytes())));
    expect(found).toBe(true);
    expect(g.body.includes(Buffer.from(eicarBytes()))).toBe(false);
  });
});

describe.skipIf(!HAVE)('MM7 server comforting', () => {
  async function upstream(): Promise<{ url: string; close: () => Promise<void>; seen: { bytesAt500: number; complete: boolean; length: number }[] }> {
    const { createServer } = await import('node:http');
    const seen: { bytesAt500: number; complete: boolean; length: number }[] = [];
    const srv = createServer((req, res) => {
      const t0 = Date.now();
      const e = { bytesAt500: 0, complete: false, length: 0 };
      seen.push(e);
      req.on('data', (c: Buffer) => {
        e.length += c.length;
        if (Date.now() - t0 <= 500) e.bytesAt500 = e.length;
      });
      req.on('end', () => {
        e.complete = true;
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end('<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><SubmitRsp><Status><StatusCode>1000</StatusCode></Status></SubmitRsp></env:Body></env:Envelope>');
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const a = srv.address();
    return { url: `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`, seen, close: () => new Promise((r) => srv.close(() => r())) };
  }

  async function slowPost(url: string, g: Gen, chunk = 2000): Promise<{ status: number; text: string }> {
    const { request } = await import('node:http');
    return new Promise((resolve, reject) => {
      const req = request(`${url}/mm7`, { method: 'POST', headers: { 'content-type': g.contentType, 'content-length': String(g.body.length) } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      let off = 0;
      const step = (): void => {
        req.write(g.body.subarray(off, off + chunk));
        off += chunk;
        if (off >= g.body.length) req.end();
        else setTimeout(step, 50);
      };
      step();
    });
  }

  it('trickles a slow SubmitReq to the MMSC and completes it when clean; cuts it when infected', async () => {
    const up = await upstream();
    try {
      stack = await startStack({ MM1_UPSTREAM_URL: up.url, MM7_SERVER_COMFORT: 'on', MM7_COMFORT_INTERVAL: '0.2', MM7_COMFORT_AMOUNT: '100' }, up.url);
      const clean = gen('--seed', '21', '--attachments', '1', '--target-size', '30000');
      const r1 = await slowPost(stack.mm7, clean, 1000);
      expect(r1.status).toBe(200);
      expect(up.seen[0]).toMatchObject({ complete: true, length: clean.body.length });
      expect(up.seen[0]?.bytesAt500).toBeGreaterThanOrEqual(100);
      expect(up.seen[0]?.bytesAt500).toBeLessThanOrEqual(400);
      const bad = gen('--seed', '22', '--attachments', '1', '--eicar', 'base64', '--target-size', '30000');
      // The infected request is small: 200 bytes per 50 ms keeps it uploading past the first tick.
      const r2 = await slowPost(stack.mm7, bad, 200);
      expect(r2.status).toBe(500);
      expect(r2.text).toMatch(/2004/);
      await new Promise((r) => setTimeout(r, 100));
      expect(up.seen[1]?.complete).toBe(false);
      const vs = await verdicts(stack, 2);
      expect(vs[1]).toMatchObject({ action: 'blocked', comfort_started: true });
    } finally {
      await up.close();
    }
  });
});
