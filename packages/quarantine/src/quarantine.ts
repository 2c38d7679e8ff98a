/**
 * A content-addressed quarantine of blocked or removed parts in one directory:
 * `<dir>/<aa>/<sha256>` holds the bytes, `<dir>/<aa>/<sha256>.json` the sidecar.
 *
 * `put` is for the request path: it copies the part into a bounded queue and returns at once; one
 * worker writes off the request path (temp file + fsync + rename, 0600 files in 0700 directories). A
 * full queue, a full or failing disk, a bad hash: the part is dropped and counted in `stats()`, never
 * thrown at the caller. Same content again → one file, the sidecar gains the transaction id.
 * Bounded by bytes and entries; the entries seen longest ago are evicted first.
 *
 * It does not scan, decide, log or serve HTTP, and it assumes one process per directory: the index
 * lives in memory and is rebuilt from the directory by `open`.
 */
import { chmod, lstat, mkdir, readdir, readFile, unlink, open as openFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { DIR_MODE, TEMP_PREFIX, syncDir, writeAtomic } from './atomic.js';
import { QuarantineError, QuarantineErrorCode } from './errors.js';
import { resolveLimits, type QuarantineLimits } from './limits.js';
import { assertSha256, isSha256, sha256Of } from './sha256.js';
import { mergeSidecar, parseSidecar, recoveredSidecar, type QuarantineFinding, type Sidecar } from './sidecar.js';
import { WriteQueue } from './write-queue.js';

export interface QuarantineOptions extends Partial<QuarantineLimits> {
  readonly dir: string;
}

export interface PutInput {
  /** The part's SHA-256 when the caller has it already; it is checked against the bytes anyway. */
  readonly sha256?: string;
  readonly data: Uint8Array;
  readonly transactionId: string | null;
  /** `MM1`, `MM7`. */
  readonly service: string;
  readonly findings: readonly QuarantineFinding[];
  /** ms since the epoch; default now. */
  readonly time?: number;
}

export interface QuarantineStats {
  readonly entries: number;
  /** Bytes on disk: parts and sidecars. */
  readonly bytes: number;
  readonly maxBytes: number;
  readonly queuedEntries: number;
  readonly queuedBytes: number;
  /** New files written, sidecars updated (same content again), entries evicted by the bounds, deleted. */
  readonly written: number;
  readonly updated: number;
  readonly evicted: number;
  readonly deleted: number;
  /** Parts that did not reach the disk, for any reason in `errors`. */
  readonly dropped: number;
  /** Failures by code (drops and failed evictions alike). */
  readonly errors: Readonly<Record<string, number>>;
  readonly lastError: { readonly code: string; readonly errno: string | null; readonly time: string } | null;
  /** What `open` cleaned: temp files of an interrupted write, bytes without a sidecar, sidecars alone. */
  readonly recovered: { readonly tempFiles: number; readonly rebuilt: number; readonly removed: number };
}

type Job =
  | { readonly kind: 'put'; readonly input: PutInput; readonly data: Buffer; readonly time: number }
  | { readonly kind: 'delete'; readonly sha256: string; readonly done: (removed: boolean) => void };

interface IndexEntry {
  readonly size: number;
  readonly lastSeen: number;
  /** Part plus sidecar bytes, as counted against maxBytes. */
  readonly disk: number;
}

const errnoOf = (e: unknown): string | null => {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : null;
};

/** Runs `fn` over `items`, `n` at a time (startup reads: parallel enough, without a file per entry open). */
async function eachLimit<T>(items: readonly T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  const lanes = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await fn(items[i++] as T);
  });
  await Promise.all(lanes);
}

/**
 * `mkdir -p`, one level at a time. Node 20's own `recursive: true` never settles when the parent
 * exists but refuses the child with ENOENT (any path under /proc): a mistyped QUARANTINE_DIR would
 * hang the start instead of refusing it.
 */
async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    const exists = await lstat(d).then(() => true, (e: unknown) => {
      if (errnoOf(e) === 'ENOENT') return false;
      throw e;
    });
    if (exists) break;
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    await mkdir(d, { mode: DIR_MODE }).catch((e: unknown) => {
      // Made meanwhile by someone else (another process opening the same directory): fine.
      if (errnoOf(e) !== 'EEXIST') throw e;
    });
  }
}

export class Quarantine {
  // Insertion order is last-seen order: an update moves its entry to the end, eviction takes the front.
  private readonly index = new Map<string, IndexEntry>();
  private readonly queue: WriteQueue<Job>;
  private total = 0;
  private closed = false;
  private readonly counts = { written: 0, updated: 0, evicted: 0, deleted: 0, dropped: 0 };
  private readonly errors: Record<string, number> = {};
  private lastError: QuarantineStats['lastError'] = null;
  private readonly recovered = { tempFiles: 0, rebuilt: 0, removed: 0 };

  private constructor(readonly dir: string, readonly limits: QuarantineLimits) {
    this.queue = new WriteQueue((job) => this.run(job), limits.maxQueueBytes, limits.maxQueueEntries);
  }

  /**
   * Creates the directory (0700) if needed and rebuilds the index from it: temp files of interrupted
   * writes are removed, bytes without a valid sidecar are kept (with a rebuilt one) only when they
   * hash to their name, lone sidecars are removed, and the bounds are applied. Throws
   * MMS_ERR_QUARANTINE_CONFIG or MMS_ERR_QUARANTINE_OPEN; a directory that can be read but not
   * written opens, and its failures are counted on each put.
   */
  static async open(opts: QuarantineOptions): Promise<Quarantine> {
    const { dir, ...rest } = opts;
    if (typeof dir !== 'string' || dir === '' || dir.includes('\u0000')) {
      throw new QuarantineError(QuarantineErrorCode.CONFIG, 'quarantine dir must be a non-empty path');
    }
    const q = new Quarantine(resolve(dir), resolveLimits(rest));
    await q.load();
    return q;
  }

  /**
   * Queues one part for the quarantine and returns at once. True: queued (a later disk failure is
   * still only counted); false: dropped now (queue full, too large, bad hash, closed). Never throws.
   */
  put(input: PutInput): boolean {
    try {
      if (this.closed) return this.drop(QuarantineErrorCode.CLOSED, null);
      if (input.sha256 !== undefined && !isSha256(input.sha256)) return this.drop(QuarantineErrorCode.BAD_HASH, null);
      const size = input.data.byteLength;
      if (size > this.limits.maxBytes) return this.drop(QuarantineErrorCode.TOO_LARGE, null);
      if (!this.queue.hasRoom(size)) return this.drop(QuarantineErrorCode.QUEUE_FULL, null);
      // A copy: the caller's bytes are a view into a request buffer that may be reused after the reply.
      const data = Buffer.from(input.data);
      const time = typeof input.time === 'number' && Number.isFinite(input.time) ? input.time : Date.now();
      if (this.queue.offer({ kind: 'put', input, data, time }, size)) return true;
      return this.drop(QuarantineErrorCode.QUEUE_FULL, null);
    } catch (e) {
      return this.drop(QuarantineErrorCode.IO, errnoOf(e));
    }
  }

  /** Resolves once every put and delete queued so far has reached the disk (or was counted as failed). */
  flush(): Promise<void> {
    return this.queue.drained();
  }

  /** Stops taking parts and waits for the queue. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue.drained();
  }

  stats(): QuarantineStats {
    return {
      entries: this.index.size, bytes: this.total, maxBytes: this.limits.maxBytes,
      queuedEntries: this.queue.queuedJobs, queuedBytes: this.queue.queuedBytes,
      ...this.counts, errors: { ...this.errors }, lastError: this.lastError, recovered: { ...this.recovered },
    };
  }

  /** Sidecars, most recently seen first, at most `limit` (default 1000). */
  async list(opts: { readonly limit?: number } = {}): Promise<Sidecar[]> {
    const limit = opts.limit ?? 1000;
    const out: Sidecar[] = [];
    const keys = [...this.index.keys()].reverse();
    for (const sha of keys) {
      if (out.length >= limit) break;
      const meta = await this.readSidecar(sha).catch(() => null);
      if (meta !== null) out.push(meta);
    }
    return out;
  }

  /** The sidecar and bytes of `sha256`, or null. Throws MMS_ERR_QUARANTINE_BAD_HASH, MMS_ERR_QUARANTINE_IO. */
  async get(sha256: string): Promise<{ meta: Sidecar; data: Buffer } | null> {
    const sha = assertSha256(sha256);
    if (!this.index.has(sha)) return null;
    try {
      const meta = await this.readSidecar(sha);
      if (meta === null) return null;
      return { meta, data: await readFile(this.dataPath(sha)) };
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return null;
      throw new QuarantineError(QuarantineErrorCode.IO, 'cannot read a quarantined part', errnoOf(e));
    }
  }

  /** Like `get`, as a stream (for large parts); the caller must consume or destroy it. */
  async stream(sha256: string): Promise<{ meta: Sidecar; size: number; stream: Readable } | null> {
    const sha = assertSha256(sha256);
    if (!this.index.has(sha)) return null;
    try {
      const meta = await this.readSidecar(sha);
      if (meta === null) return null;
      const fh = await openFile(this.dataPath(sha), 'r');
      try {
        const st = await fh.stat();
        return { meta, size: st.size, stream: fh.createReadStream() };
      } catch (e) {
        await fh.close();
        throw e;
      }
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return null;
      throw new QuarantineError(QuarantineErrorCode.IO, 'cannot read a quarantined part', errnoOf(e));
    }
  }

  /** Removes `sha256` (after the writes queued before it); true when it was there. */
  async delete(sha256: string): Promise<boolean> {
    const sha = assertSha256(sha256);
    if (this.closed) throw new QuarantineError(QuarantineErrorCode.CLOSED, 'quarantine closed');
    return new Promise((done) => this.queue.force({ kind: 'delete', sha256: sha, done }));
  }

  /**
   * Every entry's sidecar and bytes, oldest first, one at a time (memory: one part). Entries removed
   * meanwhile are skipped. For the retro-hunt.
   */
  async *entries(opts: { readonly signal?: AbortSignal } = {}): AsyncGenerator<{ meta: Sidecar; data: Buffer }> {
    for (const sha of [...this.index.keys()]) {
      if (opts.signal?.aborted === true) return;
      const got = this.index.has(sha) ? await this.get(sha).catch(() => null) : null;
      if (got !== null) yield got;
    }
  }

  /** Calls `fn` with every entry (as `entries`); `fn`'s errors propagate. */
  async rescan(
    fn: (meta: Sidecar, data: Buffer) => Promise<void> | void, opts: { readonly signal?: AbortSignal } = {},
  ): Promise<{ scanned: number }> {
    let scanned = 0;
    for await (const { meta, data } of this.entries(opts)) {
      await fn(meta, data);
      scanned++;
    }
    return { scanned };
  }

  private shardOf(sha: string): string {
    return join(this.dir, sha.slice(0, 2));
  }

  private dataPath(sha: string): string {
    return join(this.shardOf(sha), sha);
  }

  private async readSidecar(sha: string): Promise<Sidecar | null> {
    return parseSidecar(await readFile(`${this.dataPath(sha)}.json`, 'utf8'), sha);
  }

  private drop(code: QuarantineErrorCode, errno: string | null): false {
    this.counts.dropped++;
    this.fail(code, errno);
    return false;
  }

  private fail(code: QuarantineErrorCode, errno: string | null): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
    this.lastError = { code, errno, time: new Date().toISOString() };
  }

  private async run(job: Job): Promise<void> {
    if (job.kind === 'delete') {
      job.done(await this.remove(job.sha256, 'deleted'));
      return;
    }
    try {
      await this.write(job);
    } catch (e) {
      this.drop(QuarantineErrorCode.IO, errnoOf(e));
    }
  }

  private async write(job: Extract<Job, { kind: 'put' }>): Promise<void> {
    const sha = sha256Of(job.data);
    if (job.input.sha256 !== undefined && job.input.sha256 !== sha) {
      this.drop(QuarantineErrorCode.HASH_MISMATCH, null);
      return;
    }
    const shard = this.shardOf(sha);
    const size = job.data.byteLength;
    const { transactionId, service, findings } = job.input;
    const sighting = { transactionId, service, findings, time: job.time };
    const known = this.index.get(sha);
    const old = known === undefined ? null : await this.readSidecar(sha).catch(() => null);
    const text = `${JSON.stringify(mergeSidecar(old, sha, size, sighting, this.limits))}\n`;
    const disk = size + Buffer.byteLength(text);
    if (known === undefined) {
      if (disk > this.limits.maxBytes) {
        this.drop(QuarantineErrorCode.TOO_LARGE, null);
        return;
      }
      await this.makeRoom(disk, sha);
      await mkdir(shard, { mode: DIR_MODE }).catch((e: unknown) => {
        if (errnoOf(e) !== 'EEXIST') throw e;
      });
      await writeAtomic(shard, sha, job.data);
      try {
        await writeAtomic(shard, `${sha}.json`, text);
      } catch (e) {
        // Bytes without a sidecar would be recovered at the next open; uncounted until then, so not kept.
        await unlink(this.dataPath(sha)).catch(() => undefined);
        throw e;
      }
      this.counts.written++;
    } else {
      await writeAtomic(shard, `${sha}.json`, text);
      this.counts.updated++;
    }
    await syncDir(shard);
    this.index.delete(sha);
    this.index.set(sha, { size, lastSeen: job.time, disk });
    this.total += disk - (known?.disk ?? 0);
    // A grown sidecar can tip the total over: evict others, never the entry just written.
    await this.makeRoom(0, sha);
  }

  /** Evicts the entries seen longest ago until `extra` more bytes (and one more entry) fit. */
  private async makeRoom(extra: number, keep: string): Promise<void> {
    const newEntry = extra > 0 && !this.index.has(keep) ? 1 : 0;
    while (this.index.size + newEntry > this.limits.maxEntries || this.total + extra > this.limits.maxBytes) {
      let oldest: string | undefined;
      for (const k of this.index.keys()) {
        if (k === keep) continue;
        oldest = k;
        break;
      }
      if (oldest === undefined) return;
      await this.remove(oldest, 'evicted');
    }
  }

  /** Unlinks bytes then sidecar (a crash between leaves a lone sidecar, which open removes). */
  private async remove(sha: string, why: 'evicted' | 'deleted'): Promise<boolean> {
    const entry = this.index.get(sha);
    let removed = false;
    for (const p of [this.dataPath(sha), `${this.dataPath(sha)}.json`]) {
      try {
        await unlink(p);
        removed = true;
      } catch (e) {
        if (errnoOf(e) !== 'ENOENT') this.fail(QuarantineErrorCode.IO, errnoOf(e));
      }
    }
    if (entry !== undefined) {
      this.index.delete(sha);
      this.total -= entry.disk;
      removed = true;
    }
    if (removed) this.counts[why]++;
    return removed;
  }

  private async load(): Promise<void> {
    let top: string[];
    try {
      await makeDirs(this.dir);
      // Readable only by the proxy's user, whoever created the directory.
      await chmod(this.dir, DIR_MODE);
      top = await readdir(this.dir);
    } catch (e) {
      const why = `cannot open the quarantine directory ${this.dir}`;
      throw new QuarantineError(QuarantineErrorCode.OPEN, why, errnoOf(e));
    }
    const found: { sha: string; meta: Sidecar; disk: number }[] = [];
    const candidates: string[] = [];
    for (const shard of top) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      let names: string[];
      try {
        names = await readdir(join(this.dir, shard));
      } catch (e) {
        // Not a directory, or unreadable: nothing of ours can be in it.
        if (errnoOf(e) !== 'ENOTDIR') this.fail(QuarantineErrorCode.IO, errnoOf(e));
        continue;
      }
      const present = new Set(names);
      for (const n of names) {
        if (n.startsWith(TEMP_PREFIX)) {
          await unlink(join(this.dir, shard, n)).then(() => this.recovered.tempFiles++, () => undefined);
        } else if (isSha256(n) && n.startsWith(shard)) {
          candidates.push(n);
        } else if (n.endsWith('.json') && isSha256(n.slice(0, -5)) && !present.has(n.slice(0, -5))) {
          await unlink(join(this.dir, shard, n)).then(() => this.recovered.removed++, () => undefined);
        }
      }
    }
    await eachLimit(candidates, 16, async (sha) => {
      const r = await this.loadEntry(sha).catch((e: unknown) => {
        this.fail(QuarantineErrorCode.IO, errnoOf(e));
        return null;
      });
      if (r !== null) found.push(r);
    });
    found.sort((a, b) => Date.parse(a.meta.last_seen) - Date.parse(b.meta.last_seen));
    for (const f of found) {
      this.index.set(f.sha, { size: f.meta.size, lastSeen: Date.parse(f.meta.last_seen), disk: f.disk });
      this.total += f.disk;
    }
    // The bounds may have been lowered since the last run.
    await this.makeRoom(0, '');
  }

  private async loadEntry(sha: string): Promise<{ sha: string; meta: Sidecar; disk: number } | null> {
    const path = this.dataPath(sha);
    const st = await lstat(path);
    // Only regular files are ours: a symlink planted here would make `get` serve another file.
    if (!st.isFile()) return null;
    const text = await readFile(`${path}.json`, 'utf8').catch(() => null);
    const meta = text === null ? null : parseSidecar(text, sha);
    if (meta !== null && text !== null && meta.size === st.size) {
      return { sha, meta, disk: st.size + Buffer.byteLength(text) };
    }
    // Bytes whose sidecar is missing or damaged: kept only if they are what their name says.
    if (sha256Of(await readFile(path)) !== sha) {
      for (const p of [path, `${path}.json`]) await unlink(p).catch(() => undefined);
      this.recovered.removed++;
      return null;
    }
    const rebuilt = recoveredSidecar(sha, st.size, st.mtimeMs);
    const out = `${JSON.stringify(rebuilt)}\n`;
    await writeAtomic(this.shardOf(sha), `${sha}.json`, out);
    this.recovered.rebuilt++;
    return { sha, meta: rebuilt, disk: st.size + Buffer.byteLength(out) };
  }
}
