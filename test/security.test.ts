/** Hostile HTTP and forged identity at the edge (issue 5): raw sockets on 127.0.0.1. */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { post, startStack, verdicts, type Stack } from './harness.js';
import { retrieveConfOf, sendReq, text } from './pdus.js';

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

/** Sends raw bytes, returns what came back before the socket closed (or after `waitMs`). */
function raw(url: string, data: string | Buffer, waitMs = 2000): Promise<{ text: string; closedAfterMs: number }> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = connect(Number(port), '127.0.0.1');
    let text = '';
    const done = (): void => resolve({ text, closedAfterMs: Date.now() - t0 });
    sock.on('data', (d) => (text += d.toString('latin1')));
    sock.on('close', done);
    sock.on('error', () => undefined);
    sock.write(data);
    setTimeout(() => {
      sock.destroy();
    }, waitMs);
  });
}

describe('HTTP edge', () => {
  it('refuses conflicting Content-Lengths and Content-Length with Transfer-Encoding (no request smuggling)', async () => {
    stack = await startStack();
    const a = await raw(stack.proxy, 'POST /mms HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!');
    expect(a.text).toMatch(/^HTTP\/1\.1 400/);
    const b = await raw(stack.proxy, 'POST /mms HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    expect(b.text).toMatch(/^HTTP\/1\.1 400/);
    expect(stack.sim.received).toHaveLength(0);
  });

  it('refuses oversized request headers with 431', async () => {
    stack = await startStack();
    const r = await raw(stack.proxy, `GET /mms/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(r.text).toMatch(/^HTTP\/1\.1 431/);
  });

  it('closes a slowloris connection after HEADERS_TIMEOUT', async () => {
    stack = await startStack({ HEADERS_TIMEOUT: '0.5' });
    const { port } = new URL(stack.proxy);
    const t0 = Date.now();
    const closed = await new Promise<number>((resolve) => {
      const sock = connect(Number(port), '127.0.0.1');
      sock.on('error', () => undefined);
      sock.write('GET /mms/x HTTP/1.1\r\nHost: x\r\n');
      const drip = setInterval(() => sock.write('X-A: b\r\n'), 100);
      sock.on('close', () => {
        clearInterval(drip);
        resolve(Date.now() - t0);
      });
      setTimeout(() => sock.destroy(), 5000);
    });
    // Node checks the headers timeout on its connection-check interval (up to ~1 s later).
    expect(closed).toBeLessThan(3000);
  });

  it('does not forward hop-by-hop headers', async () => {
    stack = await startStack();
    const pdu = Buffer.from(sendReq([text('x')]));
    const head = `POST /mms HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: ${pdu.length}\r\nConnection: close, X-Secret\r\nX-Secret: s\r\nProxy-Authorization: Basic x\r\n\r\n`;
    await raw(stack.proxy, Buffer.concat([Buffer.from(head), pdu]));
    const h = stack.sim.received[0]?.headers ?? {};
    expect(h['x-secret']).toBeUndefined();
    expect(h['proxy-authorization']).toBeUndefined();
  });
});

describe('request targets (issue 14 class 12)', () => {
  const mms = 'Content-Type: application/vnd.wap.mms-message';
  for (const target of ['/../admin', '/mms/../../admin', '/mms/%2e%2e/admin', '/mms/.%2E/x', '/mms/%2E%2e%2Fadmin', '/mms/..%5cadmin', '/mms/..\\admin', '/./mms']) {
    it(`refuses ${target} with 400: nothing reaches the MMSC`, async () => {
      stack = await startStack();
      const pdu = Buffer.from(sendReq([text('x')]));
      const post = await raw(stack.proxy, Buffer.concat([Buffer.from(`POST ${target} HTTP/1.1\r\nHost: x\r\n${mms}\r\nContent-Length: ${pdu.length}\r\n\r\n`), pdu]));
      expect(post.text).toMatch(/^HTTP\/1\.1 400/);
      const getr = await raw(stack.proxy, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(getr.text).toMatch(/^HTTP\/1\.1 400/);
      expect(stack.sim.received).toHaveLength(0);
      const [v] = await verdicts(stack, 1);
      expect(v).toMatchObject({ action: 'rejected', status: 400 });
    });
  }

  it('takes only the path and query of an absolute-form target (the upstream is ours to choose)', async () => {
    stack = await startStack();
    await fetch(`${stack.simUrl}/_sim/messages/m1`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: retrieveConfOf(sendReq([text('x')], 'R-abs')) });
    const r = await raw(stack.proxy, 'GET http://evil.example:8080/mms/m1?a=1 HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
    expect(r.text).toMatch(/^HTTP\/1\.1 200/);
    expect(stack.sim.received.at(-1)?.url).toBe('/mms/m1?a=1');
  });
});

describe('forged identity', () => {
  it('ignores, strips and logs an MSISDN header from an address that is no trusted gateway', async () => {
    stack = await startStack({ TRUSTED_GATEWAYS: '10.0.0.1' });
    await post(stack.proxy, sendReq([text('x')]), { 'x-wap-network-client-msisdn': '+4712345678' });
    expect(stack.sim.received[0]?.headers['x-wap-network-client-msisdn']).toBeUndefined();
    const [v] = await verdicts(stack, 1);
    expect(v?.['from']).toBeNull();
    expect(stack.logs.find((l) => l['event'] === 'untrusted-msisdn')).toMatchObject({ srcip: '127.0.0.1' });
  });

  it('drops every spelling a server could read as the MSISDN header (X_WAP_Network_Client_MSISDN …) (issue 14 class 13)', async () => {
    stack = await startStack({ TRUSTED_GATEWAYS: '10.0.0.1' });
    const pdu = Buffer.from(sendReq([text('x')]));
    const spellings = ['X_WAP_Network_Client_MSISDN: +4711111111', 'x-wap_network-client_msisdn: +4722222222'];
    const head = `POST /mms HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: ${pdu.length}\r\n${spellings.join('\r\n')}\r\nConnection: close\r\n\r\n`;
    await raw(stack.proxy, Buffer.concat([Buffer.from(head), pdu]));
    const h = stack.sim.received[0]?.headers ?? {};
    expect(Object.keys(h).filter((k) => k.replace(/_/g, '-') === 'x-wap-network-client-msisdn')).toEqual([]);
    expect(JSON.stringify(h)).not.toMatch(/4711111111|4722222222/);
  });

  it('forwards the MSISDN header from a trusted gateway only under its configured name', async () => {
    stack = await startStack({ TRUSTED_GATEWAYS: '127.0.0.1' });
    const pdu = Buffer.from(sendReq([text('x')]));
    const head = `POST /mms HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: ${pdu.length}\r\nX-WAP-Network-Client-MSISDN: +4733333333\r\nX_WAP_Network_Client_MSISDN: +4744444444\r\nConnection: close\r\n\r\n`;
    await raw(stack.proxy, Buffer.concat([Buffer.from(head), pdu]));
    const h = stack.sim.received[0]?.headers ?? {};
    expect(h['x-wap-network-client-msisdn']).toBe('+4733333333');
    expect(JSON.stringify(h)).not.toContain('4744444444');
  });
});

describe('admin listener', () => {
  it('needs the bearer token for /metrics and /readyz when ADMIN_TOKEN is set; /healthz stays open', async () => {
    stack = await startStack({ ADMIN_TOKEN: 't0ken' });
    expect((await fetch(`${stack.admin}/metrics`)).status).toBe(401);
    expect((await fetch(`${stack.admin}/readyz`)).status).toBe(401);
    expect((await fetch(`${stack.admin}/metrics`, { headers: { authorization: 'Bearer t0ken' } })).status).toBe(200);
    expect((await fetch(`${stack.admin}/healthz`)).status).toBe(200);
  });

  it('accepts the Bearer scheme in any case (issue 14: `bearer` is the same scheme), never a wrong token', async () => {
    stack = await startStack({ ADMIN_TOKEN: 't0ken' });
    for (const auth of ['bearer t0ken', 'BEARER t0ken', 'Bearer  t0ken']) {
      expect((await fetch(`${stack.admin}/metrics`, { headers: { authorization: auth } })).status, auth).toBe(200);
    }
    for (const auth of ['bearer t0ke', 'bearer t0kenX', 'Basic t0ken', 'bearert0ken', 't0ken']) {
      expect((await fetch(`${stack.admin}/metrics`, { headers: { authorization: auth } })).status, auth).toBe(401);
    }
  });
});
