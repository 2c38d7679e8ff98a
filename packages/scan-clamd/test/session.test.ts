/**
 * IDSESSION pooling against a scripted clamd: sessions are reused, a session clamd dropped while
 * idle is retried once on a new one, replies are matched by number, error replies end a session.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClamdEngine } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'fake-clamd-session-'));
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

interface Script {
  /** The reply to command number `id` on connection `conn` (0-based), or null to close instead. */
  reply(id: number, conn: number, data: Buffer): string | null;
}

/** Speaks enough of clamd's session protocol: zIDSESSION, zINSTREAM with chunks, zEND. */
async function sessionClamd(script: Script): Promise<{ engine: ClamdEngine; connections: () => number }> {
  const path = join(dir, `s${servers.length}.sock`);
  let conns = 0;
  const srv = createServer((s: Socket) => {
    const conn = conns++;
    let buf = Buffer.alloc(0);
    let id = 0;
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      for (;;) {
        if (buf.subarray(0, 11).toString() === 'zIDSESSION\0') buf = buf.subarray(11);
        else if (buf.subarray(0, 5).toString() === 'zEND\0') return void s.end();
        else if (buf.subarray(0, 10).toString() === 'zINSTREAM\0') {
          let off = 10;
          const parts: Buffer[] = [];
          for (;;) {
            if (buf.length < off + 4) return;
            const n = buf.readUInt32BE(off);
            if (buf.length < off + 4 + n) return;
            if (n === 0) break;
            parts.push(buf.subarray(off + 4, off + 4 + n));
            off += 4 + n;
          }
          buf = buf.subarray(off + 4);
          const r = script.reply(++id, conn, Buffer.concat(parts));
          if (r === null) return void s.destroy();
          s.write(`${r}\0`);
        } else return;
      }
    });
    s.on('error', () => undefined);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(path, r));
  return { engine: ClamdEngine.fromAddressList(`unix:${path}`), connections: () => conns };
}

const scan = (e: ClamdEngine, data: Uint8Array) => e.scan({ path: 'p', data }, AbortSignal.timeout(5000));
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('clamd IDSESSION pool', () => {
  it('runs many scans on one connection and reads each reply by its number', async () => {
    const { engine, connections } = await sessionClamd({
      reply: (id, _c, d) => (d.toString() === 'bad' ? `${id}: stream: Test.Sig FOUND` : `${id}: stream: OK`),
    });
    for (let i = 0; i < 20; i++) expect(await scan(engine, bytes(i % 5 === 0 ? 'bad' : `clean ${i}`))).toMatchObject({
      kind: i % 5 === 0 ? 'infected' : 'clean',
    });
    expect(connections()).toBe(1);
    await engine.close();
  });

  it('retries once on a new session when clamd dropped an idle one', async () => {
    const { engine, connections } = await sessionClamd({
      // The first connection answers once, then "times out" on the next command.
      reply: (id, conn) => (conn === 0 && id > 1 ? null : `${id}: stream: OK`),
    });
    expect(await scan(engine, bytes('a'))).toEqual({ kind: 'clean' });
    expect(await scan(engine, bytes('b'))).toEqual({ kind: 'clean' });
    expect(connections()).toBe(2);
    await engine.close();
  });

  it('does not retry a fresh session that closes without a reply', async () => {
    const { engine, connections } = await sessionClamd({ reply: () => null });
    expect(await scan(engine, bytes('a'))).toMatchObject({ kind: 'error', code: 'MMS_ERR_CLAMD_PROTOCOL' });
    expect(connections()).toBe(1);
  });

  it('refuses a reply numbered for another command', async () => {
    const { engine } = await sessionClamd({ reply: (id) => `${id + 7}: stream: OK` });
    expect(await scan(engine, bytes('a'))).toMatchObject({ kind: 'error', code: 'MMS_ERR_CLAMD_PROTOCOL' });
  });

  it('never reuses a session after an error reply', async () => {
    const { engine, connections } = await sessionClamd({
      reply: (id, _c, d) => (d.toString() === 'big'
        ? `${id}: INSTREAM size limit exceeded. ERROR`
        : `${id}: stream: OK`),
    });
    expect(await scan(engine, bytes('big'))).toMatchObject({ kind: 'error', code: 'MMS_ERR_CLAMD_SIZE_LIMIT' });
    expect(await scan(engine, bytes('ok'))).toEqual({ kind: 'clean' });
    expect(connections()).toBe(2);
    await engine.close();
  });

  it('keeps concurrent scans on separate sessions, at most maxIdleSessions kept afterwards', async () => {
    const { engine, connections } = await sessionClamd({ reply: (id) => `${id}: stream: OK` });
    const r = await Promise.all(Array.from({ length: 12 }, (_, i) => scan(engine, bytes(`x${i}`))));
    expect(r.every((x) => x.kind === 'clean')).toBe(true);
    expect(connections()).toBe(12);
    await Promise.all(Array.from({ length: 12 }, (_, i) => scan(engine, bytes(`y${i}`))));
    // 8 idle sessions were kept (the default), so the second burst opened only 4 more.
    expect(connections()).toBe(16);
    await engine.close();
  });
});
