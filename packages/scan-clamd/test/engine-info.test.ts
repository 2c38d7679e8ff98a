/** clamd's VERSION as the engine describes itself (readiness shows it), parsed and from a real clamd. */
import { createServer, type Server } from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { ClamdEngine } from '../src/index.js';
import { parseClamdVersion } from '../src/engine.js';

const socket = inject('clamdSocket');

describe('parseClamdVersion', () => {
  it('reads the engine version, the database version and its date', () => {
    expect(parseClamdVersion('ClamAV 1.0.7/27500/Tue Jan 14 09:37:01 2025\0')).toEqual({
      version: '1.0.7', database: 27500, date: 'Tue Jan 14 09:37:01 2025',
    });
  });

  it('reads the version alone when clamd has no official database (only .hdb/.ndb files)', () => {
    expect(parseClamdVersion('ClamAV 1.4.6\n')).toEqual({ version: '1.4.6' });
  });

  it('keeps a reply in another form whole, and refuses an empty one', () => {
    expect(parseClamdVersion('SomeFork 2.0 (db 5)')).toEqual({ version: 'SomeFork 2.0 (db 5)' });
    expect(() => parseClamdVersion('\0')).toThrow(expect.objectContaining({ code: 'MMS_ERR_CLAMD_PROTOCOL' }));
  });
});

describe.skipIf(socket === null)('ClamdEngine.describe against a real clamd', () => {
  it('gives what VERSION says', async () => {
    const engine = ClamdEngine.fromAddressList(`unix:${socket}`);
    const raw = await engine.version();
    const info = await engine.describe();
    await engine.close();
    expect(info.version).toMatch(/^\d+\.\d+/);
    expect(raw).toContain(`ClamAV ${info.version ?? ''}`);
  });
});

describe('ClamdEngine.describe against a server that is no clamd', () => {
  it('rejects with MMS_ERR_CLAMD_PROTOCOL when VERSION gets no answer', async () => {
    const srv: Server = createServer((s) => s.once('data', () => s.end()));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const a = srv.address();
    const engine = ClamdEngine.fromAddressList(`tcp://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`);
    try {
      const described = engine.describe(AbortSignal.timeout(5000));
      await expect(described).rejects.toMatchObject({ code: 'MMS_ERR_CLAMD_PROTOCOL' });
    } finally {
      await engine.close();
      await new Promise((r) => srv.close(r));
    }
  });
});
