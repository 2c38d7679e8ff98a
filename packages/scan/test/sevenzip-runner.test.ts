/**
 * 7-Zip runs in a worker thread, bounded in time: a slow-to-decode archive neither stalls the event loop nor
 * passes as clean.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { BuiltinEngine, DEFAULT_ARCHIVE_LIMITS, inspectTarget } from '../src/index.js';
import { MAX_QUEUED_JOBS, runSevenZip } from '../src/sevenzip-runner.js';
import { EICAR, sevenZipArchive } from './helpers.js';

const engines = [new BuiltinEngine()];
let slow: Uint8Array; // bzip2 of 12 MiB of hex text: most of a second of decoding in WASM, within every byte limit

beforeAll(async () => {
  slow = await sevenZipArchive({ 'hex.txt': Buffer.from(randomBytes(6 * 1024 * 1024).toString('hex')) }, 'bzip2');
}, 60_000);

describe('7-Zip off the event loop', () => {
  it('kills a run past maxDecodeMs and reports the content unscannable, then serves the next archive', async () => {
    const limits = { ...DEFAULT_ARCHIVE_LIMITS, maxDecodeMs: 50 };
    const r = await inspectTarget({ path: 'w.bz2', data: slow }, { engines, timeoutMs: 10_000, archiveLimits: limits });
    expect(r.verdict).toBe('unscannable');
    expect(r.findings[0]).toMatchObject({ path: 'w.bz2', reason: expect.stringMatching(/longer than 50 ms/) as string });
    const next = await sevenZipArchive({ 'e.com': EICAR }, '7z');
    const again = await inspectTarget({ path: 'n.7z', data: next }, { engines, timeoutMs: 10_000 });
    expect(again.verdict).toBe('infected');
  });

  it('leaves the caller\'s bytes alone (regression: the ArrayBuffer under the input was transferred)', async () => {
    const a = await sevenZipArchive({ 'e.com': EICAR }, '7z');
    // Parts are zero-copy views into the whole message (wap-mms-decoder): the bytes around must survive too.
    const message = Buffer.alloc(a.length + 100, 0x41);
    message.set(a, 50);
    const part = message.subarray(50, 50 + a.length);
    const r = await inspectTarget({ path: 'p.7z', data: part }, { engines, timeoutMs: 10_000 });
    expect(r.verdict).toBe('infected');
    expect(message.length).toBe(a.length + 100);
    expect(Buffer.from(part).equals(Buffer.from(a))).toBe(true);
    expect(message[0]).toBe(0x41);
  });

  it(`refuses at once the jobs beyond ${MAX_QUEUED_JOBS} waiting, and runs the others`, async () => {
    const a = await sevenZipArchive({ 'e.com': EICAR }, '7z');
    const bounds = { timeoutMs: 10_000, maxOutBytes: 1024 * 1024 };
    const runs = Array.from({ length: MAX_QUEUED_JOBS + 4 }, () =>
      runSevenZip(a, ['x', '-so', '-t7z', '-pnone', '--', '/in'], bounds, () => true));
    const results = await Promise.all(runs);
    const refused = results.filter((r) => r.messages.some((m) => /already waiting/.test(m)));
    expect(refused.length).toBe(3); // one running, MAX_QUEUED_JOBS waiting, the rest refused
    expect(refused.every((r) => r.code === null)).toBe(true);
    expect(results.filter((r) => r.code === 0).length).toBe(MAX_QUEUED_JOBS + 1);
  });

  it('keeps the event loop free while it decodes', async () => {
    let worst = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 5);
    const t0 = performance.now();
    const r = await inspectTarget({ path: 'w.bz2', data: slow }, { engines, timeoutMs: 10_000 });
    const took = performance.now() - t0;
    clearInterval(tick);
    expect(r.findings.filter((f) => f.kind === 'unscannable')).toEqual([]);
    expect(took).toBeGreaterThan(300); // the decode did take a while...
    expect(worst).toBeLessThan(took / 2); // ...and the loop kept turning meanwhile (on the main thread: worst ≈ took)
  }, 30_000);
});
