/**
 * The engine against a real, private c-icap (Debian's c-icap + libc-icap-mod-virus-scan) whose
 * virus_scan service uses a private clamd with the repository's test signatures. Skips with a
 * notice when c-icap, its module or clamd is not installed; stops every server it starts.
 */
import { createRequire } from 'node:module';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuiltinEngine, eicarBytes, inspectTarget } from '@mmsguard/scan';
import { findClamd, startLocalClamd, type LocalClamd } from '@mmsguard/scan-clamd/testing';
import { IcapEngine, cIcapMissing, startLocalIcap, type LocalIcap } from '../src/index.js';

const missing = cIcapMissing() ?? (findClamd() === null ? 'clamd is missing (apt-get install clamav-daemon)' : null);
if (missing !== null) console.warn(`NOTICE: ${missing}; the real c-icap tests are skipped.`);

/** The test signatures shipped with @mmsguard/scan-clamd (found through the package, not a relative path). */
const SIGNATURES = join(dirname(createRequire(import.meta.url).resolve('@mmsguard/scan-clamd')), '..', 'signatures');
const EICAR = eicarBytes();
const MARKER = new TextEncoder().encode('prefix MMSGUARD-CLAMD-ONLY-TEST-MARKER suffix');
const infected = (name: RegExp) => ({ kind: 'infected', name: expect.stringMatching(name) as string });
const scan = (e: IcapEngine, data: Uint8Array, ms = 10_000) => e.scan({ path: 'p', data }, AbortSignal.timeout(ms));

/** A relay in front of c-icap that rewrites its OPTIONS to offer REQMOD only (a REQMOD-only service). */
async function reqmodOnly(port: number): Promise<{ url: string; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const srv: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.push(client, upstream);
    client.pipe(upstream);
    upstream.on('data', (d: Buffer) => client.write(d.toString('latin1').includes('Methods: ')
      ? Buffer.from(d.toString('latin1').replace('Methods: RESPMOD, REQMOD', 'Methods: REQMOD'), 'latin1')
      : d));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const a = srv.address();
  return {
    url: `icap://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/virus_scan`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

describe.skipIf(missing !== null)('the ICAP engine against a real c-icap with clamd', () => {
  let clamd: LocalClamd | null = null;
  let icap: LocalIcap | null = null;
  let engine: IcapEngine;

  beforeAll(async () => {
    clamd = await startLocalClamd({ databaseDir: SIGNATURES });
    icap = await startLocalIcap({ clamdSocket: clamd.socket });
    engine = IcapEngine.fromUrlList(icap.url);
  }, 120_000);
  afterAll(async () => {
    await engine.close();
    await icap?.stop();
    await clamd?.stop();
  });

  it('is ready, offers RESPMOD with a preview, and gives its ISTag as version', async () => {
    await engine.ready();
    const s = await engine.service();
    expect(s.methods).toContain('RESPMOD');
    expect(s.preview).toBe(1024);
    expect(await engine.version()).toMatch(/^CI0001-[A-Za-z0-9+/]{20,}/);
  });

  it('finds EICAR, whole in the preview (ieof)', async () => {
    expect(await scan(engine, EICAR)).toEqual(infected(/^Eicar-Test-Signature/));
  });

  it('finds a signature only clamd knows — through ICAP — also past the preview (100 Continue)', async () => {
    expect(await scan(engine, MARKER)).toEqual(infected(/^Mmsguard\.Test\.ClamdOnly/));
    expect(new BuiltinEngine().scanSync(MARKER)).toEqual({ kind: 'clean' });
    const late = new Uint8Array(64 * 1024 + MARKER.length).fill(0x20);
    late.set(MARKER, 64 * 1024);
    expect(await scan(engine, late)).toMatchObject({ kind: 'infected' });
  });

  it('finds EICAR in a zip (clamd opens it)', async () => {
    expect(await scan(engine, zipSync({ 'docs/eicar.com': EICAR }))).toMatchObject({ kind: 'infected' });
  });

  it('passes clean parts: text, 300 KiB, binary, on one kept connection', async () => {
    const binary = Uint8Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 251);
    for (const data of [new TextEncoder().encode('hello'), new Uint8Array(300 * 1024).fill(0x41), binary]) {
      expect(await scan(engine, data)).toEqual({ kind: 'clean' });
    }
    expect(engine.connections()[0]).toMatchObject({ active: 0, idle: 1 });
  });

  it('scans with REQMOD when the service offers only that', async () => {
    const relay = await reqmodOnly(icap?.port ?? 0);
    const viaReqmod = IcapEngine.fromUrlList(relay.url);
    try {
      expect((await viaReqmod.service()).methods).toEqual(['REQMOD']);
      expect(await scan(viaReqmod, EICAR)).toEqual(infected(/^Eicar-Test-Signature/));
      expect(await scan(viaReqmod, new Uint8Array(5000).fill(0x41))).toEqual({ kind: 'clean' });
    } finally {
      await viaReqmod.close();
      await relay.close();
    }
  });

  it('runs next to the built-in engine in one inspection', async () => {
    const target = { path: 'x.zip', data: zipSync({ 'eicar.com': EICAR }) };
    const r = await inspectTarget(target, { engines: [new BuiltinEngine(), engine], timeoutMs: 10_000 });
    expect(r.verdict).toBe('infected');
    const engines = new Set(r.findings.map((f) => (f.kind === 'infected' ? f.engine : '')));
    expect(engines).toEqual(new Set(['builtin', 'icap']));
  });

  it('c-icap killed (SIGKILL): a scan error and not ready; started again on its port: scans again', async () => {
    const port = icap?.port ?? 0;
    await icap?.stop('SIGKILL');
    icap = null;
    expect(await scan(engine, EICAR, 3000)).toMatchObject({ kind: 'error', code: 'MMS_ERR_ICAP_CONNECT' });
    await expect(engine.ready()).rejects.toMatchObject({ code: 'MMS_ERR_ICAP_CONNECT' });
    icap = await startLocalIcap({ clamdSocket: clamd?.socket ?? '', port });
    expect(await scan(engine, EICAR)).toMatchObject({ kind: 'infected' });
    expect(await scan(engine, new Uint8Array(10).fill(0x41))).toEqual({ kind: 'clean' });
    await engine.ready();
  }, 60_000);

  it('a c-icap that started without reaching clamd: MMS_ERR_ICAP_NO_ENGINE, never "clean"', async () => {
    const blind = await startLocalIcap({ clamdSocket: '/nonexistent/clamd.sock' });
    const e = IcapEngine.fromUrlList(blind.url);
    try {
      expect(await scan(e, EICAR)).toMatchObject({ kind: 'error', code: 'MMS_ERR_ICAP_NO_ENGINE' });
      await expect(e.ready()).rejects.toMatchObject({ code: 'MMS_ERR_ICAP_NO_ENGINE' });
    } finally {
      await e.close();
      await blind.stop();
    }
  }, 60_000);
});
