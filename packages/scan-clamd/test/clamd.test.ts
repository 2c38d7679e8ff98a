/** The clamd engine against a real clamd (started by clamd-setup.ts) and small fake servers for the faults. */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync, gzipSync } from 'fflate';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BuiltinEngine, eicarBytes, inspectTarget } from '@mmsguard/scan';
import { ClamdEngine } from '../src/index.js';

const socket = inject('clamdSocket');
const tcp = inject('clamdTcp');
const EICAR = eicarBytes();
const MARKER = new TextEncoder().encode('prefix MMSGUARD-CLAMD-ONLY-TEST-MARKER suffix');
const scan = (e: ClamdEngine, data: Uint8Array, ms = 10_000) => e.scan({ path: 'p', data }, AbortSignal.timeout(ms));

describe.skipIf(socket === null)('clamd engine against a real clamd', () => {
  const unix = ClamdEngine.fromAddressList(`unix:${socket}`);

  it('answers PING and VERSION', async () => {
    await unix.ready();
    expect(await unix.version()).toMatch(/^ClamAV \d+\.\d+/);
  });

  it('finds EICAR over the unix socket and over TCP', async () => {
    expect(await scan(unix, EICAR))
      .toMatchObject({ kind: 'infected', name: expect.stringMatching(/^Eicar-Test-Signature/) as string });
    expect(await scan(ClamdEngine.fromAddressList(tcp ?? ''), EICAR)).toMatchObject({ kind: 'infected' });
  });

  it('finds a signature the built-in engine does not know, and a hash signature', async () => {
    expect(await scan(unix, MARKER))
      .toMatchObject({ kind: 'infected', name: expect.stringMatching(/^Mmsguard\.Test\.ClamdOnly/) as string });
    expect(new BuiltinEngine().scanSync(MARKER)).toEqual({ kind: 'clean' });
    expect(await scan(unix, new TextEncoder().encode('mmsguard clamd hash test blob\n')))
      .toMatchObject({ name: expect.stringMatching(/^Mmsguard\.Test\.Hash/) as string });
  });

  it('finds EICAR inside zip and gzip by itself', async () => {
    expect(await scan(unix, zipSync({ 'a/eicar.com': EICAR }))).toMatchObject({ kind: 'infected' });
    expect(await scan(unix, gzipSync(EICAR))).toMatchObject({ kind: 'infected' });
  });

  it('says clean for clean data, in chunks larger than one INSTREAM chunk', async () => {
    expect(await scan(unix, new Uint8Array(300 * 1024).fill(0x41))).toEqual({ kind: 'clean' });
  });

  it('maps "INSTREAM size limit exceeded" to MMS_ERR_CLAMD_SIZE_LIMIT (StreamMaxLength is 2M here)', async () => {
    expect(await scan(unix, new Uint8Array(3 * 1024 * 1024)))
      .toMatchObject({ kind: 'error', code: 'MMS_ERR_CLAMD_SIZE_LIMIT' });
  });

  it('fails over to the next address when the first is down', async () => {
    const e = ClamdEngine.fromAddressList(`unix:/nonexistent/clamd.sock,tcp://127.0.0.1:1,unix:${socket}`);
    expect(await scan(e, EICAR)).toMatchObject({ kind: 'infected' });
  });

  it('runs next to the built-in engine in one inspection', async () => {
    const r = await inspectTarget(
      { path: 'x.zip', data: zipSync({ 'eicar.com': EICAR }) },
      { engines: [new BuiltinEngine(), unix], timeoutMs: 10_000 },
    );
    expect(r.verdict).toBe('infected');
    expect(new Set(r.findings.map((f) => (f.kind === 'infected' ? f.engine : ''))))
      .toEqual(new Set(['builtin', 'clamd']));
  });
});

describe('clamd faults (small fake servers)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fake-clamd-'));
  const servers: Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });
  const fake = async (onConn: (s: Socket) => void): Promise<ClamdEngine> => {
    const path = join(dir, `s${servers.length}.sock`);
    const srv = createServer(onConn);
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(path, r));
    return ClamdEngine.fromAddressList(`unix:${path}`);
  };

  it('reports every address down as MMS_ERR_CLAMD_CONNECT', async () => {
    const e = ClamdEngine.fromAddressList(`unix:${join(dir, 'none.sock')},tcp://127.0.0.1:1`);
    expect(await scan(e, EICAR)).toMatchObject({ kind: 'error', code: 'MMS_ERR_CLAMD_CONNECT' });
    await expect(e.ready()).rejects.toMatchObject({ code: 'MMS_ERR_CLAMD_CONNECT' });
  });

  it('reports a hanging clamd as MMS_ERR_CLAMD_TIMEOUT at the deadline', async () => {
    const sockets: Socket[] = [];
    const e = await fake((s) => {
      sockets.push(s);
      s.resume();
    });
    expect(await scan(e, EICAR, 200)).toMatchObject({ kind: 'error', code: 'MMS_ERR_CLAMD_TIMEOUT' });
    sockets.forEach((s) => s.destroy());
  });

  it('reports garbage and a close without reply as MMS_ERR_CLAMD_PROTOCOL', async () => {
    const garbage = await fake((s) => {
      s.once('data', () => s.end('HTTP/1.0 400 Bad Request\r\n\r\n'));
    });
    expect(await scan(garbage, EICAR)).toMatchObject({ kind: 'error', code: 'MMS_ERR_CLAMD_PROTOCOL' });
    const closer = await fake((s) => s.once('data', () => s.destroy()));
    expect(await scan(closer, EICAR)).toMatchObject({ kind: 'error', code: 'MMS_ERR_CLAMD_PROTOCOL' });
  });

  it('reads the reply of a clamd that answers before the upload ends and closes', async () => {
    const early = await fake((s) => {
      s.once('data', () => s.end('INSTREAM size limit exceeded. ERROR\0'));
    });
    expect(await scan(early, new Uint8Array(4 * 1024 * 1024)))
      .toMatchObject({ kind: 'error', code: 'MMS_ERR_CLAMD_SIZE_LIMIT' });
  });
});
