/** The engine against small scripted ICAP servers: what it sends, what each kind of answer becomes, faults. */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { IcapEngine } from '../src/index.js';
import { NO_CONTENT, OPTIONS_OK, fakeIcap, okReply, type Fake, type Script } from './fake-icap.js';

const fakes: Fake[] = [];
const engines: IcapEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});
const fake = async (script: Script, options?: string | null): Promise<Fake> => {
  const f = await fakeIcap(script, options);
  fakes.push(f);
  return f;
};
const engine = (list: string, opts: ConstructorParameters<typeof IcapEngine>[0] | object = {}): IcapEngine => {
  const e = IcapEngine.fromUrlList(list, opts);
  engines.push(e);
  return e;
};
const PART = Buffer.from('a clean part of an MMS, long enough to need more than one preview of 16 bytes');
const scan = (e: IcapEngine, data: Uint8Array = PART, ms = 3000) =>
  e.scan({ path: 'p', data }, AbortSignal.timeout(ms));
const failsWith = (code: string, message?: RegExp) =>
  ({ kind: 'error', code, ...(message === undefined ? {} : { message: expect.stringMatching(message) as string }) });
const http200 = (n: number): string => `HTTP/1.1 200 OK\r\nContent-Length: ${n}\r\n\r\n`;
const PREVIEW_16 = OPTIONS_OK('Preview: 16\r\n');

describe('what the engine sends', () => {
  it('asks OPTIONS once, then RESPMOD with Allow 204, the server’s preview size, the part chunked', async () => {
    let rest: Buffer | null = null;
    const f = await fake(async (x) => {
      rest = await x.continue();
      x.write(NO_CONTENT());
    }, PREVIEW_16);
    const e = engine(`${f.url}?force=on`);
    expect(await scan(e)).toEqual({ kind: 'clean' });
    const [opt, req] = f.requests;
    expect(opt).toMatchObject({ method: 'OPTIONS', uri: `${f.url}?force=on` });
    expect(req).toMatchObject({ method: 'RESPMOD', uri: `${f.url}?force=on`, ieof: false });
    expect(req?.fields.get('allow')).toBe('204');
    expect(req?.fields.get('preview')).toBe('16');
    expect(req?.fields.get('host')).toBe(`127.0.0.1:${f.port}`);
    // The part is named by nothing the sender chose: fixed URL, octet-stream, our own length.
    expect(req?.http).toBe('GET /mms/part HTTP/1.1\r\nHost: mmsguard.invalid\r\n\r\n' +
      `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${PART.length}\r\n\r\n`);
    const enc = req?.fields.get('encapsulated') ?? '';
    expect(enc).toBe(`req-hdr=0, res-hdr=50, res-body=${req?.http.length}`);
    expect(Buffer.concat([req?.preview ?? Buffer.alloc(0), rest ?? Buffer.alloc(0)])).toEqual(PART);
    expect(req?.preview).toEqual(PART.subarray(0, 16));
  });

  it('sends a part that fits the preview whole with ieof, and expects no 100 Continue', async () => {
    const f = await fake((x) => x.write(NO_CONTENT()));
    expect(await scan(engine(f.url))).toEqual({ kind: 'clean' });
    expect(f.requests[1]).toMatchObject({ ieof: true, preview: PART });
  });

  it('sends the whole part without Preview when the server offers none', async () => {
    const f = await fake((x) => x.write(NO_CONTENT()), OPTIONS_OK(''));
    expect(await scan(engine(f.url))).toEqual({ kind: 'clean' });
    expect(f.requests[1]?.fields.has('preview')).toBe(false);
    expect(f.requests[1]?.preview).toEqual(PART);
  });

  it('uses REQMOD when the service offers only that, the part as the request body', async () => {
    const f = await fake((x) => x.write(NO_CONTENT()), OPTIONS_OK('Preview: 1024\r\n', 'REQMOD'));
    expect(await scan(engine(f.url))).toEqual({ kind: 'clean' });
    const req = f.requests[1];
    expect(req?.method).toBe('REQMOD');
    expect(req?.http).toBe('POST /mms/part HTTP/1.1\r\nHost: mmsguard.invalid\r\n' +
      `Content-Type: application/octet-stream\r\nContent-Length: ${PART.length}\r\n\r\n`);
    expect(req?.fields.get('encapsulated')).toBe(`req-hdr=0, req-body=${req?.http.length}`);
  });

  it('says clean for zero bytes without asking anyone', async () => {
    const f = await fake(() => undefined);
    expect(await scan(engine(f.url), new Uint8Array(0))).toEqual({ kind: 'clean' });
    expect(f.stats.connections).toBe(0);
  });
});

describe('what each answer becomes', () => {
  it('204 after the preview: clean, and the rest of the part is never sent', async () => {
    const f = await fake((x) => x.write(NO_CONTENT()), PREVIEW_16);
    const e = engine(f.url);
    expect(await scan(e)).toEqual({ kind: 'clean' });
    expect(await scan(e)).toEqual({ kind: 'clean' });
    expect(f.requests.map((r) => r.method)).toEqual(['OPTIONS', 'RESPMOD', 'RESPMOD']);
  });

  it('200 echoing the part unmodified (a server without 204): clean, read in any chunking', async () => {
    const pieces = [PART.subarray(0, 5), PART.subarray(5, 6), PART.subarray(6)];
    const f = await fake((x) => x.write(okReply('', http200(PART.length), pieces)));
    expect(await scan(engine(f.url))).toEqual({ kind: 'clean' });
  });

  it('200 with the part changed, cut short, longer or gone: ICAP.Modified', async () => {
    const changed = Buffer.from(PART);
    changed[40] = 0x21;
    for (const chunks of [[changed], [PART.subarray(0, 10)], [PART, 'x'], null]) {
      const f = await fake((x) => x.write(okReply('', http200(PART.length), chunks)));
      expect(await scan(engine(f.url)), String(chunks?.length)).toEqual({ kind: 'infected', name: 'ICAP.Modified' });
    }
  });

  it('a 403 page: ICAP.Blocked, or the name X-Infection-Found, X-Violations-Found or X-Virus-ID gives', async () => {
    const page = 'HTTP/1.0 403 Forbidden\r\nContent-Type: text/html\r\n\r\n';
    const cases: [string, string][] = [
      ['', 'ICAP.Blocked'],
      ['X-Infection-Found: Type=0; Resolution=2; Threat=Win.Test.EICAR_HDB-1;\r\n', 'Win.Test.EICAR_HDB-1'],
      ['X-Violations-Found: 1\r\n\tphoto.jpg\r\n\tExploit.JPEG.Gdiplus\r\n\t7\r\n\t2\r\n', 'Exploit.JPEG.Gdiplus'],
      ['X-Virus-ID: Troj/Agent-XYZ\r\n', 'Troj/Agent-XYZ'],
    ];
    for (const [headers, name] of cases) {
      const f = await fake((x) => x.write(okReply(headers, page, ['<html>blocked</html>'])));
      expect(await scan(engine(f.url)), name).toEqual({ kind: 'infected', name });
    }
  });

  it('a 204 that names a threat is still a finding', async () => {
    const f = await fake((x) => x.write('ICAP/1.0 204 No Content\r\nX-Virus-ID: Eicar\r\n\r\n'));
    expect(await scan(engine(f.url))).toEqual({ kind: 'infected', name: 'Eicar' });
  });

  it('a REQMOD service answering with an HTTP response: ICAP.Blocked', async () => {
    const page = 'HTTP/1.1 403 Forbidden\r\n\r\n';
    const f = await fake((x) => x.write(okReply('', page, null)), OPTIONS_OK('', 'REQMOD'));
    expect(await scan(engine(f.url))).toEqual({ kind: 'infected', name: 'ICAP.Blocked' });
  });

  it('ICAP 500 and 404: MMS_ERR_ICAP_STATUS naming the status', async () => {
    const f = await fake((x) => x.write('ICAP/1.0 500 Server Error\r\n\r\n'));
    expect(await scan(engine(f.url))).toMatchObject(failsWith('MMS_ERR_ICAP_STATUS', /500 Server Error/));
    const g = await fake(() => undefined, 'ICAP/1.0 404 ICAP Service not found\r\n\r\n');
    const e = engine(g.url);
    expect(await scan(e)).toMatchObject({ kind: 'error', code: 'MMS_ERR_ICAP_STATUS' });
    await expect(e.ready()).rejects.toMatchObject({ code: 'MMS_ERR_ICAP_STATUS' });
  });

  it('a c-icap without its antivirus engine (ISTag of none): MMS_ERR_ICAP_NO_ENGINE, never its 204', async () => {
    const none = OPTIONS_OK().replace('"FAKE-1"', '"CI0001-1B2M2Y8AsgTpgAmY7PhCfgAA"');
    const f = await fake((x) => x.write(NO_CONTENT('CI0001-1B2M2Y8AsgTpgAmY7PhCfgAA')), none);
    const e = engine(f.url);
    expect(await scan(e)).toMatchObject(failsWith('MMS_ERR_ICAP_NO_ENGINE'));
    await expect(e.ready()).rejects.toMatchObject({ code: 'MMS_ERR_ICAP_NO_ENGINE' });
    // Restarted without its engine after we asked OPTIONS: the 204 itself carries the sign.
    const later = await fake((x) => x.write(NO_CONTENT('CI0001-1B2M2Y8AsgTpgAmY7PhCfgAA')));
    expect(await scan(engine(later.url))).toMatchObject(failsWith('MMS_ERR_ICAP_NO_ENGINE'));
  });

  it('a service with neither RESPMOD nor REQMOD: MMS_ERR_ICAP_METHOD', async () => {
    const f = await fake(() => undefined, OPTIONS_OK('', 'OPTIONS'));
    expect(await scan(engine(f.url))).toMatchObject({ kind: 'error', code: 'MMS_ERR_ICAP_METHOD' });
  });
});

describe('broken and silent servers are errors, never hangs', () => {
  it('garbage, a broken chunk, 100 Continue after ieof, 206: MMS_ERR_ICAP_PROTOCOL', async () => {
    const replies = [
      'HTTP/1.1 200 OK\r\n\r\n',
      okReply('', http200(PART.length), null).toString().replace('null-body', 'res-body') + 'zz\r\n',
      'ICAP/1.0 100 Continue\r\n\r\n',
      'ICAP/1.0 206 Partial Content\r\n\r\n',
    ];
    for (const reply of replies) {
      const f = await fake((x) => x.write(reply));
      expect(await scan(engine(f.url)), reply.slice(0, 30)).toMatchObject(failsWith('MMS_ERR_ICAP_PROTOCOL'));
    }
  });

  it('a server that never answers: MMS_ERR_ICAP_TIMEOUT at the caller’s deadline or the engine’s own', async () => {
    const f = await fake(() => undefined);
    let t = Date.now();
    expect(await scan(engine(f.url), PART, 300)).toMatchObject({ kind: 'error', code: 'MMS_ERR_ICAP_TIMEOUT' });
    expect(Date.now() - t).toBeLessThan(2000);
    t = Date.now();
    const own = engine(f.url, { timeoutMs: 300 });
    const never = new AbortController().signal;
    expect(await own.scan({ path: 'p', data: PART }, never)).toMatchObject(failsWith('MMS_ERR_ICAP_TIMEOUT'));
    expect(Date.now() - t).toBeLessThan(2000);
    const silent = await fake(() => undefined, null);
    expect(await scan(engine(silent.url), PART, 300)).toMatchObject({ code: 'MMS_ERR_ICAP_TIMEOUT' });
  });

  it('a server that stops in the middle of a body: MMS_ERR_ICAP_TIMEOUT, not a hang', async () => {
    const f = await fake((x) => x.write(okReply('', http200(PART.length), [PART]).subarray(0, 120)));
    expect(await scan(engine(f.url), PART, 300)).toMatchObject({ kind: 'error', code: 'MMS_ERR_ICAP_TIMEOUT' });
  });

  it('a connection reset after the request, and a close in the middle of a reply: MMS_ERR_ICAP_PROTOCOL', async () => {
    const reset = await fake((x) => {
      x.sock.resetAndDestroy();
    });
    expect(await scan(engine(reset.url))).toMatchObject({ kind: 'error', code: 'MMS_ERR_ICAP_PROTOCOL' });
    const cut = await fake((x) => {
      x.write('ICAP/1.0 200 OK\r\nEncaps');
      x.sock.end();
    });
    expect(await scan(engine(cut.url))).toMatchObject(failsWith('MMS_ERR_ICAP_PROTOCOL', /middle of a reply/));
  });

  it('nothing listening anywhere: MMS_ERR_ICAP_CONNECT, for scans and readiness', async () => {
    const e = engine('icap://127.0.0.1:1/a,icap://127.0.0.1:2/b');
    expect(await scan(e)).toMatchObject({ kind: 'error', code: 'MMS_ERR_ICAP_CONNECT' });
    await expect(e.ready()).rejects.toMatchObject({ code: 'MMS_ERR_ICAP_CONNECT' });
  });
});

describe('failover and persistent connections', () => {
  it('fails over to the next ICAP_URL entry when one is down or answers 500, and stays there', async () => {
    const broken = await fake((x) => x.write('ICAP/1.0 500 Server Error\r\n\r\n'));
    const good = await fake((x) => x.write(NO_CONTENT()));
    const e = engine(`icap://127.0.0.1:1/down,${broken.url},${good.url}`);
    expect(await scan(e)).toEqual({ kind: 'clean' });
    expect(await scan(e)).toEqual({ kind: 'clean' });
    expect(broken.requests.filter((r) => r.method === 'RESPMOD')).toHaveLength(1);
    expect(good.requests.filter((r) => r.method === 'RESPMOD')).toHaveLength(2);
  });

  it('keeps one connection for many scans and asks OPTIONS once', async () => {
    const f = await fake((x) => x.write(NO_CONTENT()));
    const e = engine(f.url);
    for (let i = 0; i < 5; i++) expect(await scan(e)).toEqual({ kind: 'clean' });
    expect(f.stats.connections).toBe(1);
    expect(f.requests.filter((r) => r.method === 'OPTIONS')).toHaveLength(1);
    expect(e.connections()).toEqual([{ url: f.url, active: 0, idle: 1 }]);
  });

  it('does not reuse a connection the server asked to close', async () => {
    const f = await fake((x) => {
      x.write('ICAP/1.0 204 No Content\r\nConnection: close\r\n\r\n');
    });
    const e = engine(f.url);
    expect(await scan(e)).toEqual({ kind: 'clean' });
    expect(await scan(e)).toEqual({ kind: 'clean' });
    // OPTIONS and the first scan share one; the second scan needs a new one (reused, it would be 1).
    expect(f.stats.connections).toBe(2);
  });

  it('retries once on a new connection when a pooled one turns out dead (closed before a byte of reply)', async () => {
    // The server drops a kept connection when the next request arrives on it (a restart, its KeepAliveTimeout).
    const served = new WeakMap<Socket, number>();
    const f = await fake((x) => {
      const n = (served.get(x.sock) ?? 0) + 1;
      served.set(x.sock, n);
      if (n > 1 && x.req.method === 'RESPMOD') x.sock.destroy();
      else x.write(NO_CONTENT());
    });
    const e = engine(f.url);
    expect(await scan(e)).toEqual({ kind: 'clean' });
    expect(await scan(e)).toEqual({ kind: 'clean' });
    expect(f.stats.connections).toBe(2);
  });

  it('drops an idle connection the server closes, and does not count it as a failure', async () => {
    const f = await fake((x) => {
      x.write(NO_CONTENT());
      setTimeout(() => x.sock.end(), 20);
    });
    const e = engine(f.url);
    expect(await scan(e)).toEqual({ kind: 'clean' });
    await new Promise((r) => setTimeout(r, 100));
    expect(e.connections()).toEqual([{ url: f.url, active: 0, idle: 0 }]);
    expect(await scan(e)).toEqual({ kind: 'clean' });
  });

  it('never has more connections open than the server’s Max-Connections', async () => {
    const f = await fake(async (x) => {
      await new Promise((r) => setTimeout(r, 20));
      x.write(NO_CONTENT());
    }, OPTIONS_OK('Preview: 1024\r\nMax-Connections: 2\r\n'));
    const e = engine(f.url);
    const all = await Promise.all(Array.from({ length: 8 }, () => scan(e)));
    expect(all.every((o) => o.kind === 'clean')).toBe(true);
    expect(f.stats.maxOpen).toBeLessThanOrEqual(2);
  });

  it('reports the server’s ISTag as its version and follows a new one seen in a reply', async () => {
    const f = await fake((x) => x.write(NO_CONTENT('FAKE-2')));
    const e = engine(f.url);
    expect(await e.version()).toBe('FAKE-1');
    const service = { url: f.url, methods: ['RESPMOD', 'REQMOD'], preview: 1024, istag: 'FAKE-1' };
    expect(await e.service()).toMatchObject(service);
    expect(await scan(e)).toEqual({ kind: 'clean' });
    expect(e.istags()).toEqual([{ url: f.url, istag: 'FAKE-2' }]);
  });
});

describe('process lifetime', () => {
  it('an idle kept connection does not keep the process alive (a caller without close() still exits)', async () => {
    const f = await fake((x) => x.write(NO_CONTENT()));
    const script = `import { IcapEngine } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const e = IcapEngine.fromUrlList(${JSON.stringify(f.url)});
      const o = await e.scan({ path: 'p', data: new Uint8Array(10) }, AbortSignal.timeout(3000));
      console.log(o.kind, JSON.stringify(e.connections()[0]));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await Promise.race([
      new Promise((r) => child.once('exit', r)),
      new Promise((r) => setTimeout(() => r('still running'), 5000)),
    ]);
    child.kill();
    expect(out).toMatch(/^clean .*"idle":1/);
    expect(code).toBe(0);
  });
});
