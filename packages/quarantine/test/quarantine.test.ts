import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Quarantine, QuarantineError, QuarantineErrorCode } from '../src/index.js';
import { EICAR, dataPath, sha, sidecarOf, tempDir, virus } from './helpers.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const part = (tid: string, data: string | Uint8Array, time = T0) => ({
  data: typeof data === 'string' ? Buffer.from(data) : data,
  transactionId: tid, service: 'MM1', findings: [virus], time,
});

describe('Quarantine: keeping a part', () => {
  it('keeps the bytes under <aa>/<sha256> with a sidecar naming transaction, service, findings and times', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    expect(q.put({ ...part('tid-1', EICAR), sha256: sha(EICAR) })).toBe(true);
    await q.flush();
    const h = sha(EICAR);
    expect(await readFile(dataPath(dir, h), 'utf8')).toBe(EICAR);
    expect(await sidecarOf(dir, h)).toEqual({
      sha256: h, size: EICAR.length, first_seen: '2025-01-01T00:00:00.000Z', last_seen: '2025-01-01T00:00:00.000Z',
      count: 1, transaction_ids: ['tid-1'], services: ['MM1'], findings: [virus],
    });
    const sidecarBytes = (await stat(`${dataPath(dir, h)}.json`)).size;
    expect(q.stats()).toMatchObject({ entries: 1, written: 1, dropped: 0, bytes: EICAR.length + sidecarBytes });
  });

  it('keeps the same content once: one file, and the sidecar gains the second transaction id', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    q.put(part('tid-1', EICAR, T0));
    const exe = { kind: 'file-type', engine: null, name: 'exe' };
    q.put({ ...part('tid-2', EICAR, T0 + 60_000), service: 'MM7', findings: [virus, exe] });
    await q.flush();
    const h = sha(EICAR);
    expect(await readdir(join(dir, h.slice(0, 2)))).toEqual([h, `${h}.json`]);
    expect(await sidecarOf(dir, h)).toMatchObject({
      count: 2, transaction_ids: ['tid-1', 'tid-2'], services: ['MM1', 'MM7'],
      first_seen: '2025-01-01T00:00:00.000Z', last_seen: '2025-01-01T00:01:00.000Z',
      findings: [virus, exe],
    });
    expect(q.stats()).toMatchObject({ entries: 1, written: 1, updated: 1 });
  });

  it('writes files 0600 and directories 0700, tightening a directory it was given', async () => {
    const dir = join(await tempDir(), 'q');
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    const q = await Quarantine.open({ dir });
    q.put(part('t', EICAR));
    await q.flush();
    const h = sha(EICAR);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, h.slice(0, 2)))).mode & 0o777).toBe(0o700);
    expect((await stat(dataPath(dir, h))).mode & 0o777).toBe(0o600);
    expect((await stat(`${dataPath(dir, h)}.json`)).mode & 0o777).toBe(0o600);
  });

  it('returns before anything is on disk: the write happens off the request path', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    const big = Buffer.alloc(8 * 1024 * 1024, 1);
    expect(q.put(part('t', big))).toBe(true);
    // Not even started: the worker runs on a later turn of the event loop, after the caller's reply.
    expect(existsSync(join(dir, sha(big).slice(0, 2)))).toBe(false);
    expect(q.stats()).toMatchObject({ queuedBytes: big.length, queuedEntries: 1 });
    await new Promise((r) => process.nextTick(r));
    expect(existsSync(join(dir, sha(big).slice(0, 2)))).toBe(false);
    await q.flush();
    expect(existsSync(dataPath(dir, sha(big)))).toBe(true);
    expect(q.stats().queuedBytes).toBe(0);
  });

  it('keeps a copy: the caller may reuse its buffer as soon as put returns', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    const buf = Buffer.from(EICAR);
    q.put(part('t', buf));
    buf.fill(0);
    await q.flush();
    expect(await readFile(dataPath(dir, sha(EICAR)), 'utf8')).toBe(EICAR);
  });

  it('keeps the first transaction id and the newest ones, and counts them all', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir, maxTransactionIds: 4 });
    for (let i = 0; i < 10; i++) q.put(part(`tid-${i}`, EICAR, T0 + i));
    await q.flush();
    const ids = ['tid-0', 'tid-7', 'tid-8', 'tid-9'];
    expect(await sidecarOf(dir, sha(EICAR))).toMatchObject({ count: 10, transaction_ids: ids });
  });

  it('lists a retried transaction once (the same id again counts, but is not repeated)', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    q.put(part('tid-1', EICAR, T0));
    q.put(part('tid-1', EICAR, T0 + 1));
    await q.flush();
    expect(await sidecarOf(dir, sha(EICAR))).toMatchObject({ count: 2, transaction_ids: ['tid-1'] });
  });

  it('cuts wire strings to maxStringLength (a hostile Transaction-ID cannot bloat the sidecar)', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir, maxStringLength: 16 });
    q.put(part('x'.repeat(10_000), EICAR));
    await q.flush();
    expect(await sidecarOf(dir, sha(EICAR))).toMatchObject({ transaction_ids: ['x'.repeat(16)] });
  });
});

describe('Quarantine: bounds', () => {
  it('evicts the entry seen longest ago (by last seen, not first) when maxBytes is reached', async () => {
    const dir = await tempDir();
    const a = Buffer.alloc(1000, 1);
    const b = Buffer.alloc(1000, 2);
    const c = Buffer.alloc(1000, 3);
    // Room for two parts and their sidecars, not three.
    const q = await Quarantine.open({ dir, maxBytes: 2 * 1000 + 2 * 400 });
    q.put(part('a', a, T0));
    q.put(part('b', b, T0 + 1));
    q.put(part('a2', a, T0 + 2)); // a seen again: now b is the oldest
    q.put(part('c', c, T0 + 3));
    await q.flush();
    expect(existsSync(dataPath(dir, sha(a)))).toBe(true);
    expect(existsSync(dataPath(dir, sha(b)))).toBe(false);
    expect(existsSync(`${dataPath(dir, sha(b))}.json`)).toBe(false);
    expect(existsSync(dataPath(dir, sha(c)))).toBe(true);
    expect(q.stats()).toMatchObject({ entries: 2, evicted: 1 });
    expect(q.stats().bytes).toBeLessThanOrEqual(2800);
  });

  it('evicts by entry count too (a flood of tiny distinct parts)', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir, maxEntries: 3 });
    for (let i = 0; i < 10; i++) q.put(part(`t${i}`, `tiny ${i}`, T0 + i));
    await q.flush();
    expect((await q.list()).map((m) => m.transaction_ids[0])).toEqual(['t9', 't8', 't7']);
    expect(q.stats()).toMatchObject({ entries: 3, evicted: 7 });
  });

  it('drops a part larger than the whole bound, counted as MMS_ERR_QUARANTINE_TOO_LARGE', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir, maxBytes: 100 });
    expect(q.put(part('t', Buffer.alloc(101)))).toBe(false);
    expect(q.stats()).toMatchObject({ dropped: 1, errors: { [QuarantineErrorCode.TOO_LARGE]: 1 } });
  });

  it('bounds the queue in bytes: parts offered while the disk is behind are dropped and counted', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir, maxQueueBytes: 4 * 1024 * 1024 });
    // All offered within one turn of the event loop: nothing has been written yet, as with a stalled disk.
    const offered = Array.from({ length: 20 }, (_, i) => q.put(part(`t${i}`, Buffer.alloc(1024 * 1024, i))));
    const accepted = offered.filter(Boolean);
    expect(accepted).toHaveLength(4);
    expect(q.stats()).toMatchObject({
      queuedBytes: 4 * 1024 * 1024, dropped: 16, errors: { [QuarantineErrorCode.QUEUE_FULL]: 16 },
    });
    await q.flush();
    expect(q.stats()).toMatchObject({ entries: 4, queuedBytes: 0, queuedEntries: 0 });
    // Room again once the disk caught up.
    expect(q.put(part('later', 'later'))).toBe(true);
  });

  it('bounds the queue in entries as well', async () => {
    const q = await Quarantine.open({ dir: await tempDir(), maxQueueEntries: 5 });
    const accepted = Array.from({ length: 9 }, (_, i) => q.put(part(`t${i}`, `p${i}`))).filter(Boolean);
    expect(accepted).toHaveLength(5);
    await q.flush();
  });

  it('applies lowered bounds at open', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    for (let i = 0; i < 5; i++) q.put(part(`t${i}`, `part ${i}`, T0 + i));
    await q.flush();
    const r = await Quarantine.open({ dir, maxEntries: 2 });
    expect((await r.list()).map((m) => m.transaction_ids[0])).toEqual(['t4', 't3']);
    expect(existsSync(dataPath(dir, sha('part 0')))).toBe(false);
  });
});

describe('Quarantine: failures never reach the caller', () => {
  it('an unwritable place: put returns, the part is dropped and counted with the error, nothing thrown', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    // The shard directory is taken by a file: every write under it fails, even for root.
    await writeFile(join(dir, sha(EICAR).slice(0, 2)), 'in the way');
    expect(() => q.put(part('t', EICAR))).not.toThrow();
    await q.flush();
    expect(q.stats()).toMatchObject({ entries: 0, dropped: 1, errors: { [QuarantineErrorCode.IO]: 1 } });
    expect(q.stats().lastError).toMatchObject({ code: QuarantineErrorCode.IO, errno: 'ENOTDIR' });
    // Other parts still go in.
    q.put(part('t2', 'other'));
    await q.flush();
    expect(q.stats()).toMatchObject({ entries: 1, written: 1 });
  });

  it('a directory that went away after open: every put is dropped and counted, none throws', async () => {
    const base = await tempDir();
    const dir = join(base, 'q');
    const q = await Quarantine.open({ dir });
    await rm(dir, { recursive: true });
    await writeFile(dir, 'not a directory any more');
    for (let i = 0; i < 3; i++) expect(q.put(part(`t${i}`, `p${i}`))).toBe(true);
    await q.flush();
    expect(q.stats()).toMatchObject({ entries: 0, dropped: 3, errors: { [QuarantineErrorCode.IO]: 3 } });
  });

  it.skipIf(process.getuid?.() === 0)('a read-only directory (permissions): dropped and counted', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    await chmod(dir, 0o500);
    try {
      expect(q.put(part('t', EICAR))).toBe(true);
      await q.flush();
      expect(q.stats()).toMatchObject({ dropped: 1, lastError: { errno: 'EACCES' } });
    } finally {
      await chmod(dir, 0o700);
    }
  });

  it('drops a part whose given sha256 is not its digest (MMS_ERR_QUARANTINE_HASH_MISMATCH)', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    q.put({ ...part('t', EICAR), sha256: sha('something else') });
    await q.flush();
    expect(q.stats()).toMatchObject({ entries: 0, errors: { [QuarantineErrorCode.HASH_MISMATCH]: 1 } });
    expect(existsSync(dataPath(dir, sha('something else')))).toBe(false);
  });

  it('drops parts after close (MMS_ERR_QUARANTINE_CLOSED) and waits for queued ones', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    q.put(part('t', EICAR));
    await q.close();
    expect(existsSync(dataPath(dir, sha(EICAR)))).toBe(true);
    expect(q.put(part('t2', 'late'))).toBe(false);
    expect(q.stats().errors).toEqual({ [QuarantineErrorCode.CLOSED]: 1 });
  });
});

describe('Quarantine: open rebuilds from the directory', () => {
  it('rebuilds the index (entries, bytes, order) from what is on disk', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    for (let i = 0; i < 4; i++) q.put(part(`t${i}`, `part ${i}`, T0 + i));
    q.put(part('t0-again', 'part 0', T0 + 10));
    await q.flush();
    const r = await Quarantine.open({ dir });
    expect(r.stats()).toMatchObject({
      entries: 4, bytes: q.stats().bytes, recovered: { tempFiles: 0, rebuilt: 0, removed: 0 },
    });
    expect((await r.list()).map((m) => m.transaction_ids.at(-1))).toEqual(['t0-again', 't3', 't2', 't1']);
  });

  it('after a crash: drops temp files, lone sidecars and bytes that lie; rebuilds a lost sidecar', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    q.put(part('kept', EICAR));
    await q.flush();
    const h = sha(EICAR);
    const shard = join(dir, h.slice(0, 2));
    // A write cut short before its rename, in a shard of its own and beside a kept part.
    await writeFile(join(shard, '.tmp-0123456789abcdef'), EICAR.slice(0, 10));
    await mkdir(join(dir, 'ff'), { mode: 0o700 });
    await writeFile(join(dir, 'ff', '.tmp-feedfacefeedface'), 'half');
    // Bytes renamed, sidecar not yet (crash between the two renames).
    const orphan = 'orphan bytes';
    await mkdir(join(dir, sha(orphan).slice(0, 2)), { recursive: true });
    await writeFile(dataPath(dir, sha(orphan)), orphan);
    // A sidecar whose bytes were already evicted.
    const gone = sha('gone');
    await mkdir(join(dir, gone.slice(0, 2)), { recursive: true });
    await writeFile(`${dataPath(dir, gone)}.json`, '{}');
    // Bytes that do not hash to their name, with a damaged sidecar.
    const liar = sha('liar');
    await mkdir(join(dir, liar.slice(0, 2)), { recursive: true });
    await writeFile(dataPath(dir, liar), 'not what the name says');
    await writeFile(`${dataPath(dir, liar)}.json`, '{"sha256":');

    const r = await Quarantine.open({ dir });
    expect(r.stats()).toMatchObject({ entries: 2, recovered: { tempFiles: 2, rebuilt: 1, removed: 2 } });
    expect(await readdir(shard)).toEqual([h, `${h}.json`]);
    expect(await readdir(join(dir, 'ff'))).toEqual([]);
    expect(existsSync(`${dataPath(dir, gone)}.json`)).toBe(false);
    expect(existsSync(dataPath(dir, liar))).toBe(false);
    expect((await r.get(sha(orphan)))?.meta).toMatchObject({
      sha256: sha(orphan), size: orphan.length, transaction_ids: [],
    });
    expect((await r.get(h))?.meta.transaction_ids).toEqual(['kept']);
  });

  it('ignores what is not its own (other names, symlinks), and refuses options out of range', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'README'), 'operator notes');
    const q = await Quarantine.open({ dir });
    expect(q.stats().entries).toBe(0);
    expect(existsSync(join(dir, 'README'))).toBe(true);
    await expect(Quarantine.open({ dir, maxBytes: 0 })).rejects.toMatchObject({ code: QuarantineErrorCode.CONFIG });
    await expect(Quarantine.open({ dir, maxEntries: 1.5 })).rejects.toMatchObject({ code: QuarantineErrorCode.CONFIG });
    await expect(Quarantine.open({ dir: '' })).rejects.toMatchObject({ code: QuarantineErrorCode.CONFIG });
  });

  it('fails to open, with MMS_ERR_QUARANTINE_OPEN, where no directory can be made', async () => {
    const base = await tempDir();
    await writeFile(join(base, 'file'), '');
    await expect(Quarantine.open({ dir: join(base, 'file', 'q') })).rejects.toMatchObject({
      code: QuarantineErrorCode.OPEN, errno: 'ENOTDIR',
    });
  });

  // Node's recursive mkdir loops there.
  it('refuses, not hangs, where the parent exists but will not make the directory', async () => {
    if (!existsSync('/proc/self')) return; // Linux only: /proc refuses new entries with ENOENT
    await expect(Quarantine.open({ dir: '/proc/mmsguard-quarantine/q' })).rejects.toMatchObject({
      code: QuarantineErrorCode.OPEN, errno: 'ENOENT',
    });
    const nested = join(await tempDir(), 'a', 'b', 'c');
    const q = await Quarantine.open({ dir: nested });
    expect(existsSync(nested)).toBe(true);
    await q.close();
  }, 10_000);
});

describe('Quarantine: admin API', () => {
  it('lists newest first, serves bytes as a buffer or a stream, and deletes', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    q.put(part('a', 'first', T0));
    q.put(part('b', EICAR, T0 + 1));
    await q.flush();
    expect((await q.list()).map((m) => m.sha256)).toEqual([sha(EICAR), sha('first')]);
    expect((await q.list({ limit: 1 })).map((m) => m.sha256)).toEqual([sha(EICAR)]);
    expect((await q.get(sha(EICAR)))?.data.toString()).toBe(EICAR);
    const s = await q.stream(sha(EICAR));
    expect(s?.size).toBe(EICAR.length);
    const chunks: Buffer[] = [];
    for await (const c of s!.stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe(EICAR);
    expect(await q.delete(sha(EICAR))).toBe(true);
    expect(await q.delete(sha(EICAR))).toBe(false);
    expect(await q.get(sha(EICAR))).toBeNull();
    expect(await q.stream(sha(EICAR))).toBeNull();
    expect(existsSync(dataPath(dir, sha(EICAR)))).toBe(false);
    expect(q.stats()).toMatchObject({ entries: 1, deleted: 1 });
    expect(await q.get(sha('never seen'))).toBeNull();
  });

  it('refuses anything but 64 lowercase hex digits on every API (no path is built from it)', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    const bad = [
      '../../etc/passwd', `${'a'.repeat(62)}/..`, 'A'.repeat(64), `${'a'.repeat(64)}\u0000`, `${'a'.repeat(63)}`, '',
    ];
    for (const b of bad) {
      await expect(q.get(b)).rejects.toMatchObject({ code: QuarantineErrorCode.BAD_HASH });
      await expect(q.stream(b)).rejects.toMatchObject({ code: QuarantineErrorCode.BAD_HASH });
      await expect(q.delete(b)).rejects.toBeInstanceOf(QuarantineError);
      expect(q.put({ ...part('t', 'x'), sha256: b })).toBe(false);
    }
    expect(q.stats().errors).toEqual({ [QuarantineErrorCode.BAD_HASH]: bad.length });
    await fc.assert(fc.asyncProperty(fc.string(), async (s) => {
      fc.pre(!/^[0-9a-f]{64}$/.test(s));
      await expect(q.get(s)).rejects.toMatchObject({ code: QuarantineErrorCode.BAD_HASH });
    }));
  });

  it('deletes after the writes queued before it (no resurrected file)', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    q.put(part('t', EICAR));
    const removed = q.delete(sha(EICAR));
    expect(await removed).toBe(true);
    await q.flush();
    expect(existsSync(dataPath(dir, sha(EICAR)))).toBe(false);
    expect(q.stats().entries).toBe(0);
  });

  it('rescans every entry oldest first, one at a time, skipping what was deleted meanwhile', async () => {
    const dir = await tempDir();
    const q = await Quarantine.open({ dir });
    for (let i = 0; i < 3; i++) q.put(part(`t${i}`, `part ${i}`, T0 + i));
    await q.flush();
    const seen: string[] = [];
    const r = await q.rescan(async (meta, data) => {
      seen.push(data.toString());
      expect(meta.sha256).toBe(sha(data));
      if (seen.length === 1) await q.delete(sha('part 1'));
    });
    expect(seen).toEqual(['part 0', 'part 2']);
    expect(r).toEqual({ scanned: 2 });
  });
});
