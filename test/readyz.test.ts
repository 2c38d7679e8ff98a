/**
 * GET /readyz names what each engine scans with (CONTRACT §6): the built-in engine's signature files
 * with their SHA-256, clamd's VERSION; an engine that cannot say is not ready. (ICAP's ISTag: icap.test.ts.)
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import '../packages/scan-clamd/test/clamd-setup.js';
import { ClamdEngine } from '../packages/scan-clamd/src/index.js';
import { startStack, type Stack } from './harness.js';

const socket = inject('clamdSocket');
const tmp = mkdtempSync(join(tmpdir(), 'readyz-'));
let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Readyz {
  status: string;
  engines: Record<string, unknown>[];
}
async function readyz(s: Stack): Promise<{ status: number; body: Readyz }> {
  const r = await fetch(`${s.admin}/readyz`);
  return { status: r.status, body: (await r.json()) as Readyz };
}
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('/readyz', () => {
  it('lists the built-in engine\'s signature files with SHA-256, counts and kinds, and EICAR', async () => {
    const hdb = join(tmp, 'ops.hdb');
    const ndb = join(tmp, 'ops.ndb');
    writeFileSync(hdb, `${createHash('md5').update('x').digest('hex')}:1:Ops.X\n`);
    writeFileSync(ndb, 'Ops.A:0:*:41414141\nOps.B:0:*:42424242\n');
    stack = await startStack({ SIGNATURE_FILES: `${hdb},${ndb}` });
    const { status, body } = await readyz(stack);
    expect(status).toBe(200);
    expect(body).toEqual({
      status: 'ready',
      engines: [{
        engine: 'builtin', name: 'builtin', ready: true, signatures: 3, eicar: true,
        files: [
          { path: hdb, sha256: sha256(hdb), signatures: 1, kinds: ['md5'] },
          { path: ndb, sha256: sha256(ndb), signatures: 2, kinds: ['body'] },
        ],
      }],
    });
  });

  it.skipIf(socket === null)('shows clamd\'s VERSION next to the built-in engine', async () => {
    stack = await startStack({ SCAN_ENGINES: 'builtin,clamd', CLAMD_ADDRESS: `unix:${socket ?? ''}` });
    const probe = ClamdEngine.fromAddressList(`unix:${socket ?? ''}`);
    const raw = await probe.version();
    await probe.close();
    const { status, body } = await readyz(stack);
    expect(status).toBe(200);
    const clamd = body.engines.find((e) => e['name'] === 'clamd');
    const version = expect.stringMatching(/^\d+\.\d+/) as string;
    expect(clamd).toMatchObject({ engine: 'clamd', ready: true, version });
    expect(raw).toBe(`ClamAV ${String(clamd?.['version'])}`);
    expect(body.engines.find((e) => e['name'] === 'builtin')).toMatchObject({ ready: true, files: [], eicar: true });
  });

  it('says not ready, with the error, when an engine answers PING but not VERSION', async () => {
    // A clamd impostor: PONG to PING, and a closed connection for anything else.
    const srv: Server = createServer((s) => s.once('data', (d: Buffer) => {
      if (d.toString('latin1').startsWith('zPING')) s.end('PONG\0');
      else s.end();
    }));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const a = srv.address();
    try {
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      stack = await startStack({ SCAN_ENGINES: 'clamd', CLAMD_ADDRESS: `tcp://127.0.0.1:${port}` });
      const { status, body } = await readyz(stack);
      expect(status).toBe(503);
      expect(body).toMatchObject({
        status: 'not-ready',
        engines: [{ engine: 'clamd', name: 'clamd', ready: false, code: 'MMS_ERR_CLAMD_PROTOCOL' }],
      });
      expect(body.engines[0]?.['error']).toEqual(expect.any(String));
      expect(body.engines[0]).not.toHaveProperty('version');
    } finally {
      await stack?.close();
      stack = null;
      await new Promise((r) => srv.close(r));
    }
  });
});
