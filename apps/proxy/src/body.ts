/**
 * Reads an HTTP body into one buffer, counting its capacity against the in-flight budget as it grows,
 * and stops at the oversize limit without reading further. Optionally cuts an upload that stays
 * below a minimum data rate. It writes no reply and closes nothing: the caller maps each result.
 * With `onProgress` (comforting trickles from a contiguous view of the bytes so far) the buffer itself
 * grows; without, the chunks are kept as they came (each its own allocation of its length) and copied
 * once into the final buffer, so every byte is copied once instead of ~2.5 times (issue 15).
 *
 * The budget bounds memory actually held, never bytes promised: a declared Content-Length costs
 * nothing until bytes arrive (26 sockets declaring 10 MiB and sending 1 byte each used to reserve
 * 260 MiB and lock every handset out). The capacity grows by doubling up to the declared length, so
 * what a body holds stays under twice what it sent (plus one MIN_CAPACITY) and the copies stay linear.
 */
import type { Readable } from 'node:stream';
import type { ByteBudget } from './budget.js';
import type { BufferPool, Lease } from './buffer-pool.js';

export type BodyResult =
  /**
   * `reserved` is what the caller gives back to the budget once it is done with `body`. With a lease, `body` is
   * a view of its buffer and the caller owns the lease's one hold: it `drop()`s it when done (and holds it again
   * for every reader that may outlive that, see buffer-pool.ts). Without (no pool, or a body that came in one
   * chunk, kept as it came) `body` is a plain buffer.
   */
  | { readonly kind: 'complete'; readonly body: Buffer; readonly reserved: number; readonly lease?: Lease | null }
  /** The limit was crossed: `head` holds what was read; `rest` yields the remainder (not buffered). */
  | { readonly kind: 'oversize'; readonly head: Buffer; readonly rest: Readable; readonly reserved: number }
  /** The in-flight budget ran out (before the first byte or mid-upload): the transient, retry-later reply. */
  | { readonly kind: 'budget'; readonly reserved: 0 }
  | { readonly kind: 'aborted'; readonly reserved: 0 }
  | { readonly kind: 'length-mismatch'; readonly reserved: 0 };

/**
 * The upload stayed below `minRate` (only with that option). The stream is left paused and open: the
 * caller replies with `Connection: close` or destroys the socket, and logs it.
 */
export interface TooSlowResult {
  readonly kind: 'too-slow';
  readonly reserved: 0;
  /** Bytes read before the cut. */
  readonly received: number;
  /** Bytes that arrived in the last window (below bytesPerSecond × graceMs / 1000). */
  readonly windowBytes: number;
  readonly elapsedMs: number;
}

export type UploadResult = BodyResult | TooSlowResult;

export interface MinRate {
  /** The lowest average rate over any window of graceMs; 0 turns the check off. */
  readonly bytesPerSecond: number;
  /** Time an upload gets before it is first judged, and the length of the sliding window it is judged over. */
  readonly graceMs: number;
}

export interface ReadOptions {
  readonly declaredLength: number | null;
  readonly limit: number;
  readonly budget: ByteBudget;
  /** Called after every chunk with a view of everything read so far (comforting trickles from it). */
  readonly onProgress?: (soFar: Uint8Array) => void;
  /**
   * Buffers from this pool (default: the budget's). null: plain buffers, for a reader that hands views of the
   * bytes read so far to others while it reads (comforting), whose last reader nobody tracks.
   */
  readonly pool?: BufferPool | null;
}

export interface UploadReadOptions extends ReadOptions {
  /**
   * Stops slow-loris uploads (a few bytes a minute hold a socket, a buffer and budget for as long as the
   * server allows): an upload bringing fewer than bytesPerSecond × graceMs / 1000 bytes in any window of
   * graceMs, the first ending graceMs after the read started, ends as `too-slow`.
   */
  readonly minRate: MinRate;
}

/**
 * Smallest buffer a body gets: a 1-byte sender holds (and is charged) 16 KiB, not its declared length;
 * small enough that a socket's first chunk usually fits without a copy.
 */
export const MIN_CAPACITY = 16 * 1024;

/** The rate window is sampled this many times per graceMs: a stall is caught within a tenth of the window. */
const RATE_STEPS = 10;

export function readBody(stream: Readable, opts: UploadReadOptions): Promise<UploadResult>;
export function readBody(stream: Readable, opts: ReadOptions): Promise<BodyResult>;
export function readBody(stream: Readable, opts: ReadOptions | UploadReadOptions): Promise<UploadResult> {
  const { declaredLength, limit, budget } = opts;
  const minRate = 'minRate' in opts ? opts.minRate : null;
  if (minRate !== null) checkMinRate(minRate);
  if (declaredLength !== null && declaredLength > limit) {
    stream.pause();
    return Promise.resolve({ kind: 'oversize', head: Buffer.alloc(0), rest: stream, reserved: 0 });
  }
  if (declaredLength !== null && declaredLength > budget.limit) {
    // Could never be held whole: refuse before reading instead of failing at the budget's size.
    stream.resume();
    return Promise.resolve({ kind: 'budget', reserved: 0 });
  }
  // Never above what the body may legitimately reach.
  const bound = declaredLength ?? limit;
  const pool = opts.pool === undefined ? budget.pool : opts.pool;
  let buf: Buffer = Buffer.alloc(0);
  let lease: Lease | null = null;
  const contiguous = opts.onProgress !== undefined;
  const chunks: Buffer[] = [];
  let len = 0;
  let reserved = 0;
  const t0 = Date.now();

  /** Grows `buf` to hold `needed` bytes; false when the budget cannot pay for it. */
  const grow = (needed: number): boolean => {
    let cap = Math.min(bound, Math.max(needed, reserved * 2, MIN_CAPACITY));
    if (!budget.tryTake(cap - reserved)) {
      // Near the budget's end: take only what this chunk needs (plus a little) rather than fail a body that fits.
      cap = Math.min(bound, needed + MIN_CAPACITY);
      if (!budget.tryTake(cap - reserved)) return false;
    }
    reserved = cap;
    if (!contiguous) return true;
    // The budget is charged the capacity asked for; a pooled buffer may be up to a quarter larger (its class).
    const nextLease = pool !== null ? pool.acquire(cap) : null;
    const next = nextLease !== null ? nextLease.buffer : Buffer.allocUnsafe(cap);
    buf.copy(next, 0, 0, len);
    // The smaller buffer's only reader was this function (onProgress views are replaced after this chunk).
    lease?.drop();
    lease = nextLease;
    buf = next;
    return true;
  };

  /** The bytes read, in one buffer (the chunks kept so far copied into a pooled one; a single chunk as it is). */
  const whole = (): Buffer => {
    if (contiguous) return buf.subarray(0, len);
    if (chunks.length === 1) return chunks[0] as Buffer;
    lease = pool !== null && len > 0 ? pool.acquire(len) : null;
    const out = lease !== null ? lease.buffer : Buffer.allocUnsafe(len);
    let at = 0;
    for (const c of chunks) at += c.copy(out, at);
    return out.subarray(0, len);
  };

  return new Promise<UploadResult>((resolve) => {
    let settled = false;
    let timer: ReturnType<typeof setInterval> | null = null;
    const finish = (r: UploadResult, after: 'drain' | 'pause' | 'leave'): void => {
      if (settled) return;
      settled = true;
      if (timer !== null) clearInterval(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onFail);
      stream.off('close', onClose);
      if (r.kind !== 'complete' && r.kind !== 'oversize') budget.give(reserved);
      // Only a complete body is still read from its buffer (an oversize head is a copy).
      if (r.kind !== 'complete') lease?.drop();
      chunks.length = 0;
      // Events are detached, not the stream: an oversize 'pass' streams the rest on.
      if (after === 'drain') stream.resume();
      else if (after === 'pause') stream.pause();
      resolve(r);
    };
    const onData = (c: Buffer): void => {
      const needed = len + c.length;
      if (needed > limit) {
        stream.pause();
        const read = contiguous ? [buf.subarray(0, len)] : chunks;
        finish({ kind: 'oversize', head: Buffer.concat([...read, c]), rest: stream, reserved }, 'leave');
        return;
      }
      if (declaredLength !== null && needed > declaredLength) {
        finish({ kind: 'length-mismatch', reserved: 0 }, 'drain');
        return;
      }
      // `reserved`, not buf.length: a pooled buffer's tail beyond what the budget paid for stays unused.
      if (needed > reserved && !grow(needed)) {
        finish({ kind: 'budget', reserved: 0 }, 'drain');
        return;
      }
      if (contiguous) {
        c.copy(buf, len);
        len = needed;
        opts.onProgress?.(buf.subarray(0, len));
      } else {
        chunks.push(c);
        len = needed;
      }
    };
    const onEnd = (): void => {
      if (declaredLength !== null && len !== declaredLength) finish({ kind: 'length-mismatch', reserved: 0 }, 'leave');
      else {
        const body = whole();
        finish({ kind: 'complete', body, reserved, lease }, 'leave');
      }
    };
    const onFail = (): void => finish({ kind: 'aborted', reserved: 0 }, 'leave');
    const onClose = (): void => finish({ kind: 'aborted', reserved: 0 }, 'leave');
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onFail);
    stream.on('close', onClose);

    if (minRate !== null && minRate.bytesPerSecond > 0) {
      const need = (minRate.bytesPerSecond * minRate.graceMs) / 1000;
      // Bytes read at each of the last RATE_STEPS + 1 samples: the window is exactly graceMs long.
      const marks = [0];
      timer = setInterval(() => {
        marks.push(len);
        if (marks.length > RATE_STEPS + 1) marks.shift();
        const windowBytes = len - (marks[0] ?? 0);
        if (marks.length === RATE_STEPS + 1 && windowBytes < need) {
          const elapsedMs = Date.now() - t0;
          finish({ kind: 'too-slow', reserved: 0, received: len, windowBytes, elapsedMs }, 'pause');
        }
      }, minRate.graceMs / RATE_STEPS);
      // The stream keeps the process alive while it matters; a rate check alone must not.
      timer.unref();
    }
  });
}

function checkMinRate(r: MinRate): void {
  if (!(Number.isFinite(r.bytesPerSecond) && r.bytesPerSecond >= 0)) {
    throw new RangeError('minRate.bytesPerSecond must be a finite number >= 0');
  }
  if (r.bytesPerSecond > 0 && !(Number.isFinite(r.graceMs) && r.graceMs >= RATE_STEPS)) {
    throw new RangeError(`minRate.graceMs must be at least ${RATE_STEPS} ms when the rate check is on`);
  }
}
