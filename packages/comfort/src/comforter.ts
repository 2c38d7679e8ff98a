/**
 * One comforted transfer. The bytes buffered so far come from `source()` (a
 * view that only grows); `output` is what the waiting peer receives: after
 * INTERVAL the next AMOUNT bytes, then AMOUNT more every INTERVAL (never more
 * than is buffered). `release()` (verdict clean) sends the rest at full speed
 * once the input is complete; `cut()` (blocked) destroys the output so the
 * peer sees an incomplete transfer, never a complete-looking one.
 */
import { Readable } from 'node:stream';
import type { ComfortScheduler, Due } from './scheduler.js';

export interface ComfortOptions {
  readonly intervalMs: number;
  readonly amount: number;
  /** Called once, just before the first comfort byte is pushed (e.g. to send a response head). */
  readonly onFirstByte?: () => void;
}

export class ComfortError extends Error {
  readonly code = 'MMS_ERR_COMFORT_CUT';
}

export class Comforter implements Due {
  readonly output: Readable;
  nextDue: number;
  private sentBytes = 0;
  private state: 'trickling' | 'released' | 'ended' | 'cut' = 'trickling';
  private inputDone = false;

  constructor(
    private readonly scheduler: ComfortScheduler,
    private readonly source: () => Uint8Array,
    private readonly opts: ComfortOptions,
  ) {
    if (!(opts.intervalMs > 0)) throw new RangeError('comfort interval must be > 0');
    if (!Number.isInteger(opts.amount) || opts.amount < 1) throw new RangeError('comfort amount must be a positive integer');
    this.output = new Readable({ read: () => undefined });
    this.nextDue = scheduler.clock.now() + opts.intervalMs;
    scheduler.add(this);
  }

  /** Bytes the peer has been given so far (comfort bytes, plus the rest once released). */
  get sent(): number {
    return this.sentBytes;
  }

  /** True once at least one byte went out: from then on the verdict can only cut. */
  get started(): boolean {
    return this.sentBytes > 0;
  }

  private push(b: Uint8Array): void {
    if (b.length === 0) return;
    if (this.sentBytes === 0) this.opts.onFirstByte?.();
    this.sentBytes += b.length;
    this.output.push(b);
  }

  tick(now: number): boolean {
    if (this.state !== 'trickling') return false;
    const avail = this.source();
    const chunk = avail.subarray(this.sentBytes, Math.min(avail.length, this.sentBytes + this.opts.amount));
    this.push(chunk);
    // Keep the cadence on the schedule, not on when the timer happened to fire.
    this.nextDue += this.opts.intervalMs;
    if (this.nextDue <= now) this.nextDue = now + this.opts.intervalMs;
    return true;
  }

  /** The input is complete (all bytes are in `source()`). */
  inputComplete(): void {
    this.inputDone = true;
    if (this.state === 'released') this.flush();
  }

  /** Verdict clean: stop trickling and send everything (now, or when the input completes). */
  release(): void {
    if (this.state !== 'trickling') return;
    this.state = 'released';
    this.scheduler.remove(this);
    if (this.inputDone) this.flush();
  }

  private flush(): void {
    if (this.state !== 'released') return;
    this.state = 'ended';
    const all = this.source();
    this.push(all.subarray(this.sentBytes));
    this.output.push(null);
  }

  /** Verdict blocked (or the transfer failed): the peer gets an incomplete transfer. */
  cut(reason = 'blocked'): void {
    if (this.state === 'cut' || this.state === 'ended') return;
    this.state = 'cut';
    this.scheduler.remove(this);
    this.output.destroy(new ComfortError(`comforted transfer cut: ${reason}`));
  }
}
