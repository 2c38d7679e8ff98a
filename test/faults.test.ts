/**
 * Faults (issue 5): the MMSC, clamd and the client failing in every way we can
 * provoke on 127.0.0.1. Each message is forwarded intact, answered with an
 * explicit error, or cut with a log line saying why; the process keeps serving
 * the next message; metrics count it; no socket or timer is left behind.
 */
import { createServer as netServer, connect, type Server as NetServer, type Socket } from 'node:net';
import { request, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FIELD, decode, octetHeader } from 'wap-mms-decoder';
import { get, post, startStack, verdicts, type Stack } from './harness.js';
import { part, retrieveConfOf, sendReq, text } from './pdus.js';

let stack: Stack | null = null;
const servers: (Server | NetServer)[] = [];
const dir = mkdtempSync(join(tmpdir(), 'faults-'));
afterEach(async () => {
  await stack?.close();
  stack = null;
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function listen(s: Server | NetServer): Promise<string> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  return `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
}

const status = (b: Uint8Array): number | null => octetHeader(decode(b), FIELD.RESPONSE_STATUS);

async function stillServes(s: Stack): Promise<void> {
  const r = await post(s.proxy, sendReq([text('next')]));
  expect(r.status).toBe(200);
}

function handles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of process.getActiveResourcesInfo()) out[h] = (out[h] ?? 0) + 1;
  return out;
}

describe('upstream MMSC faults', () => {
  it('resets the connection while receiving the request: 0xC3, logged, counted, next message served', async () => {
    const url = await listen(netServer((sock: Socket) => sock.once('data', () => sock.destroy())));
    stack = await startStack({}, url);
    const r = await post(stack.proxy, sendReq([part('a.bin', new Uint8Array(200_000).fill(1))]));
    expect(status(r.body)).toBe(0xc3);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'error' });
    expect(await (await fetch(`${stack.admin}/metrics`)).text()).toMatch(/mmsguard_upstream_errors_total\{service="MM1",kind="reset"\} 1/);
  });

  it('answers garbage: 0xC3 to the handset', async () => {
    const url = await listen(netServer((sock: Socket) => sock.once('data', () => sock.end('HTTP/1.1 2OO OK\r\nContent-Length: x\r\n\r\nhello'))));
    stack = await startStack({}, url);
    const r = await post(stack.proxy, sendReq([text('x')]));
    expect([0xc3, 0xc0]).toContain(status(r.body));
  });

  it('answers 500: relayed to the handset as it came (the MMSC spoke)', async () => {
    stack = await startStack();
    const r = await post(stack.proxy, sendReq([text('x')]), { 'x-sim-mode': 'fail' });
    expect(r.status).toBe(500);
    await stillServes(stack);
  });

  it('sends its response body slower than UPSTREAM_TIMEOUT on a retrieve: 502, logged', async () => {
    stack = await startStack({ UPSTREAM_TIMEOUT: '0.3' });
    await fetch(`${stack.simUrl}/_sim/messages/slow`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: retrieveConfOf(sendReq([part('a.bin', new Uint8Array(5000).fill(2))])) });
    const r = await get(stack.proxy, '/mms/slow', { 'x-sim-trickle': '100:600' });
    expect(r.status).toBe(502);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'aborted' });
    await stillServes(stack);
  });
});

describe('clamd faults', () => {
  it('clamd killed mid-scan (closes after reading part of the stream): 0xC0, scan-error logged', async () => {
    const path = join(dir, 'dies.sock');
    const srv = netServer((s: Socket) => s.once('data', () => s.destroy()));
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(path, r));
    stack = await startStack({ SCAN_ENGINES: 'clamd', CLAMD_ADDRESS: `unix:${path}` });
    const r = await post(stack.proxy, sendReq([text('x')]));
    expect(status(r.body)).toBe(0xc0);
    expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ subtype: 'scan-error', dtype: 'clamd' });
  });

  it('clamd hanging: SCAN_TIMEOUT turns it into 0xC0 in time', async () => {
    const path = join(dir, 'hangs.sock');
    const held: Socket[] = [];
    const srv = netServer((s: Socket) => {
      held.push(s);
      s.resume();
    });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(path, r));
    stack = await startStack({ SCAN_ENGINES: 'clamd', CLAMD_ADDRESS: `unix:${path}`, SCAN_TIMEOUT: '0.3' });
    const t0 = Date.now();
    const r = await post(stack.proxy, sendReq([text('x')]));
    expect(status(r.body)).toBe(0xc0);
    expect(Date.now() - t0).toBeLessThan(3000);
    held.forEach((s) => s.destroy());
  });
});

describe('client faults', () => {
  it('aborts mid-upload: logged as aborted, nothing forwarded, the next message is served', async () => {
    stack = await startStack();
    const { port } = new URL(stack.proxy);
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/mms', method: 'POST', headers: { 'content-type': 'application/vnd.wap.mms-message', 'content-length': '100000' } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(10_000, 1));
      setTimeout(() => {
        req.destroy();
        setTimeout(resolve, 200);
      }, 100);
    });
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'aborted' });
    expect(stack.sim.received).toHaveLength(0);
    await stillServes(stack);
  });

  it('aborts mid-download while being comforted: the proxy stops the transfer and serves on', async () => {
    stack = await startStack({ MM1_CLIENT_COMFORT: 'on', MM1_COMFORT_INTERVAL: '0.1', MM1_COMFORT_AMOUNT: '50' });
    await fetch(`${stack.simUrl}/_sim/messages/m`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: retrieveConfOf(sendReq([part('a.bin', new Uint8Array(20_000).fill(3))])) });
    const { port } = new URL(stack.proxy);
    await new Promise<void>((resolve) => {
      const sock = connect(Number(port), '127.0.0.1');
      sock.on('error', () => undefined);
      sock.write('GET /mms/m HTTP/1.1\r\nHost: x\r\nx-sim-trickle: 1000:100\r\n\r\n');
      sock.once('data', () => {
        sock.destroy();
        setTimeout(resolve, 2500);
      });
    });
    await stillServes(stack);
    const vs = await verdicts(stack, 2);
    expect(vs.length).toBeGreaterThanOrEqual(2);
  });
});

describe('resources', () => {
  it('leaves no server socket or timer behind after a stack closes', async () => {
    const before = handles();
    stack = await startStack();
    for (let i = 0; i < 5; i++) await post(stack.proxy, sendReq([text(`m${i}`)]));
    await stack.close();
    stack = null;
    await new Promise((r) => setTimeout(r, 200));
    const after = handles();
    expect(after['TCPServerWrap'] ?? 0).toBeLessThanOrEqual(before['TCPServerWrap'] ?? 0);
    expect(after['Timeout'] ?? 0).toBeLessThanOrEqual((before['Timeout'] ?? 0) + 1);
  });
});

