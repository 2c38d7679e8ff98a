/**
 * Body buffers from a pool (issue 15, "No GC collapse"). Every message used to get fresh buffers (16 KiB
 * doubling up to its length: ~800 KiB of `Buffer.allocUnsafe` for a 300 KiB body). That is external memory,
 * and its churn drives V8's GC heuristics: once the memory reducer has shrunk the heap after an idle spell, a
 * full GC ran every few dozen messages and stayed so under load. Pooled buffers are allocated once and reused.
 *
 * Size classes: four per doubling from 16 KiB (16, 20, 24, 28, 32, 40 … KiB), so a body wastes at most a
 * quarter of its class; above the largest class a buffer is plain (never pooled). Retained (free) bytes stay
 * under `room()` (what the in-flight budget has left: in flight + free stay under its limit), and what was not
 * needed over an idle interval is let go.
 *
 * SAFETY: a pooled buffer is reused only when nothing can still read it. Parts are zero-copy views into the
 * body, and Node may write a large Buffer to a socket asynchronously without copying it. So a buffer is handed
 * out as a `Lease` with a reference count: whoever may still read it `hold()`s it and `drop()`s it when done
 * (the pipeline until it has released the transfer, the reply until the client socket has taken every byte,
 * the upstream request until its bytes are in the kernel). When no one can say for sure that a reader is done,
 * `forget()` takes the buffer out of the pool for good: the garbage collector frees it, nothing reuses it.
 * Anything kept after a message (verdict cache, quarantine, notifier, logs) holds hashes or copies, never views.
 */
import { channel } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

/** The smallest class: the body reader's first capacity. */
export const POOL_MIN_CLASS = 16 * 1024;
/** Sub-steps per doubling. */
const STEPS = 4;

export interface PoolStats {
  /** Buffers handed out, and how many of them came from the free lists. */
  acquired: number;
  reused: number;
  /** Buffers allocated because no free one of the class was there (or the size has no class). */
  allocated: number;
  /** Leases that ended with `forget()`: left to the garbage collector. */
  forgotten: number;
  /** Free buffers let go: over `room()`, or not needed during an idle interval. */
  trimmed: number;
  /** `drop()` on a lease already back (a bug if ever above 0; counted, not thrown, in production). */
  doubleDrops: number;
}

export interface PoolOptions {
  /** Largest bytes of free buffers kept, asked each time one comes back (the in-flight budget's room left). */
  readonly room: () => number;
  /** Largest class; bigger buffers are plain. Default 16 MiB. */
  readonly maxClass?: number;
  /** Free buffers not needed during this long are let go (0: never). Default 10 s. */
  readonly idleTrimMs?: number;
}

/** A buffer and who may still read it. `buffer` is the whole class; the body is a view of its start. */
export class Lease {
  private refs = 1;

  /** @internal */
  constructor(private pool: BufferPool | null, readonly buffer: Buffer, readonly cls: number) {}

  /** One more reader; each hold is ended by one drop. */
  hold(): this {
    if (this.refs <= 0) throw new Error('lease already returned to the pool');
    this.refs++;
    return this;
  }

  /** A reader is done; the last one returns the buffer to the pool. */
  drop(): void {
    if (this.refs <= 0) {
      if (this.pool !== null) this.pool.stats.doubleDrops++;
      return;
    }
    if (--this.refs === 0 && this.pool !== null) this.pool.put(this);
  }

  /** Some reader may go on reading at a time nobody knows: the buffer is never reused. */
  forget(): void {
    if (this.pool === null) return;
    this.pool.stats.forgotten++;
    this.pool = null;
  }

  /** Readers left (0: back in the pool or dropped). */
  get holders(): number {
    return this.refs;
  }

  /** True while the buffer may go back to a pool. */
  get pooled(): boolean {
    return this.pool !== null;
  }
}

export class BufferPool {
  readonly stats: PoolStats = { acquired: 0, reused: 0, allocated: 0, forgotten: 0, trimmed: 0, doubleDrops: 0 };
  private readonly sizes: number[] = [];
  private readonly free: Buffer[][] = [];
  /** The fewest free buffers each class had since the last trim: those were not needed. */
  private readonly low: number[] = [];
  private retainedBytes = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly room: () => number;
  private readonly idleTrimMs: number;

  constructor(opts: PoolOptions) {
    this.room = opts.room;
    this.idleTrimMs = opts.idleTrimMs ?? 10_000;
    const maxClass = opts.maxClass ?? 16 * 1024 * 1024;
    for (let base = POOL_MIN_CLASS; base <= maxClass; base *= 2) {
      for (let i = 0; i < STEPS; i++) {
        const size = base + (base / STEPS) * i;
        if (size > maxClass) break;
        this.sizes.push(size);
        this.free.push([]);
        this.low.push(0);
      }
    }
  }

  /** Bytes of free buffers held for reuse. */
  get retained(): number {
    return this.retainedBytes;
  }

  /** The capacity a request for `size` bytes gets: its class, or `size` itself above the largest class. */
  classSize(size: number): number {
    const c = this.classOf(size);
    return c < 0 ? size : (this.sizes[c] as number);
  }

  /** A buffer of at least `size` bytes (its class size), its contents arbitrary. */
  acquire(size: number): Lease {
    this.stats.acquired++;
    const c = this.classOf(size);
    if (c < 0) {
      this.stats.allocated++;
      return new Lease(null, Buffer.allocUnsafeSlow(size), -1);
    }
    const list = this.free[c] as Buffer[];
    const b = list.pop();
    if (b !== undefined) {
      this.stats.reused++;
      this.retainedBytes -= b.length;
      if (list.length < (this.low[c] as number)) this.low[c] = list.length;
      return new Lease(this, b, c);
    }
    this.stats.allocated++;
    this.low[c] = 0;
    // Its own ArrayBuffer (not a slice of Node's shared slab): nothing else lives in it.
    return new Lease(this, Buffer.allocUnsafeSlow(this.sizes[c] as number), c);
  }

  /** @internal Lease.drop() with no holder left. */
  put(l: Lease): void {
    const b = l.buffer;
    if (this.retainedBytes + b.length > this.room()) {
      this.stats.trimmed++;
      return;
    }
    (this.free[l.cls] as Buffer[]).push(b);
    this.retainedBytes += b.length;
    if (this.timer === null && this.idleTrimMs > 0) {
      this.timer = setInterval(() => this.trim(), this.idleTrimMs);
      this.timer.unref();
    }
  }

  /** Lets go of the free buffers no acquire needed since the last trim (all of them after an idle interval). */
  trim(): void {
    let left = 0;
    for (let c = 0; c < this.free.length; c++) {
      const list = this.free[c] as Buffer[];
      const spare = Math.min(this.low[c] as number, list.length);
      for (let i = 0; i < spare; i++) {
        this.retainedBytes -= (list.shift() as Buffer).length;
        this.stats.trimmed++;
      }
      this.low[c] = list.length;
      left += list.length;
    }
    if (left === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Lets go of every free buffer (and the trim timer). */
  clear(): void {
    for (let c = 0; c < this.free.length; c++) {
      this.stats.trimmed += (this.free[c] as Buffer[]).length;
      this.free[c] = [];
      this.low[c] = 0;
    }
    this.retainedBytes = 0;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private classOf(size: number): number {
    const s = this.sizes;
    if (size > (s[s.length - 1] ?? 0)) return -1;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((s[mid] as number) >= size) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

// --- the upstream request: when are its bytes in the kernel? -------------------------------------------------

/**
 * undici writes a Buffer body with `socket.write()` and forgets it; Node may still hold it until the kernel has
 * taken every byte. undici publishes the socket of each request on `undici:client:sendHeaders`, so a body
 * whose ArrayBuffer is watched here gets its socket recorded. When the exchange with the upstream is over, the
 * lease is dropped only if that socket has nothing left to write; otherwise (or with no socket known) it is
 * forgotten.
 */
const watched = new WeakMap<ArrayBufferLike, Socket | null>();
let subscribed = false;

function onSendHeaders(message: unknown): void {
  const m = message as { request?: { body?: unknown }; socket?: Socket };
  const body = m.request?.body;
  if (!ArrayBuffer.isView(body) || !watched.has(body.buffer)) return;
  if (m.socket !== undefined) watched.set(body.buffer, m.socket);
}

/**
 * Holds `lease` while `body` (a view of it) is sent upstream; call the returned function once the upstream's
 * answer has been read to its end (`ok`) or the request failed (`ok` false). After a failure, or if the socket
 * still had bytes to write, the buffer is forgotten, never reused.
 */
export function holdForUpstream(lease: Lease, body: Uint8Array): (ok: boolean) => void {
  if (!subscribed) {
    channel('undici:client:sendHeaders').subscribe(onSendHeaders);
    subscribed = true;
  }
  const ab = body.buffer;
  lease.hold();
  watched.set(ab, null);
  let done = false;
  return (ok: boolean) => {
    if (done) return;
    done = true;
    const socket = watched.get(ab) ?? null;
    watched.delete(ab);
    if (!ok || socket === null || socket.writableLength !== 0) lease.forget();
    lease.drop();
  };
}
