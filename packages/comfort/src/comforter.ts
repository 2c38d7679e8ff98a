/**
 * One comforted transfer. The bytes buffered so far come from `source()` (a
 * view that only grows); `output` is what the waiting peer receives: after
 * INTERVAL the next AMOUNT bytes, then AMOUNT more every INTERVAL (never more
 * than is buffered). `release()` (verdict clean) sends the rest at full speed
 * once the input is complete; `cut()` (blocked) destroys the output so the
 * peer sees an incomplete transfer, never a complete-looking one.
 *
 * The tail is held back: before the verdict at most (length − holdBack) bytes
 * go out, where length is the announced total (Content-Length) or, when the
 * length is unknown, what has arrived so far. So whatever AMOUNT and however
 * long the scan, a receiver counting against Content-Length is always short,
 * and a chunked receiver never gets the last bytes nor the terminating chunk
 * (the output ends only in `release()`). `framing` names the header that
 * tells the receiver how the body is delimited; this module writes no HTTP.
 */
import { Readable } from 'node:stream';
import type { ComfortScheduler, Due } from './scheduler.js';

/** The one framing header for the receiver: the original Content-Length, or chunked when it is unknown. */
export type FramingHeaders = { readonly 'content-length': string } | { readonly 'transfer-encoding': 'chunked' };

export interface ComfortOptions {
  readonly intervalMs: number;
  readonly amount: number;
  /**
   * The body's total length as the receiver is told it (the original Content-Length); null or absent when
   * unknown (the receiver gets it chunked). With a length, an input that ends at another length is cut.
   */
  readonly length?: number | null;
  /**
   * Bytes at the end of the body never sent before the verdict (default 1). Stops a large AMOUNT (or a long
   * scan) from handing the receiver every byte of a message that is then blocked: one byte short of the
   * framing is an incomplete transfer to any HTTP receiver.
   */
  readonly holdBack?: number;
  /**
   * Called once, just before the first comfort byte is pushed (e.g. to send a response head), with the
   * framing header that head must carry.
   */
  readonly onFirstByte?: (framing: FramingHeaders) => void;
}

export class ComfortError extends Error {
  readonly code = 'MMS_ERR_COMFORT_CUT';
}

export class Comforter implements Due {
  readonly output: Readable;
  nextDue: number;
  /** The announced total length, or null when unknown. */
  readonly length: number | null;
  private readonly holdBack: number;
  private sentBytes = 0;
  private state: 'trickling' | 'released' | 'ended' | 'cut' = 'trickling';
  private inputDone = false;

  constructor(
    private readonly scheduler: ComfortScheduler,
    private readonly source: () => Uint8Array,
    private readonly opts: ComfortOptions,
  ) {
    if (!(opts.intervalMs > 0)) throw new RangeError('comfort interval must be > 0');
    if (!Number.isInteger(opts.amount) || opts.amount < 1) {
      throw new RangeError('comfort amount must be a positive integer');
    }
    const length = opts.length ?? null;
    if (length !== null && !(Number.isSafeInteger(length) && length >= 0)) {
      throw new RangeError('comfort length must be a non-negative integer or null');
    }
    const holdBack = opts.holdBack ?? 1;
    if (!Number.isInteger(holdBack) || holdBack < 1) throw new RangeError('comfort holdBack must be an integer >= 1');
    this.length = length;
    this.holdBack = holdBack;
    this.output = new Readable({ read: () => undefined });
    this.nextDue = scheduler.clock.now() + opts.intervalMs;
    scheduler.add(this);
  }

  /** The header the receiver's head must carry: the original Content-Length, or chunked when unknown. */
  get framing(): FramingHeaders {
    return this.length !== null ? { 'content-length': String(this.length) } : { 'transfer-encoding': 'chunked' };
  }

  /** Bytes the peer has been given so far (comfort bytes, plus the rest once released). */
  get sent(): number {
    return this.sentBytes;
  }

  /** True once at least one byte went out: from then on the verdict can only cut. */
  get started(): boolean {
    return this.sentBytes > 0;
  }

  /** The most bytes that may be out before the verdict, given `avail` buffered. */
  private comfortCap(avail: number): number {
    // Unknown length: what has arrived may be all there is, so its tail is held back too.
    const end = this.length ?? avail;
    return Math.max(0, Math.min(avail, end - this.holdBack));
  }

  private push(b: Uint8Array): void {
    if (b.length === 0) return;
    if (this.sentBytes === 0) this.opts.onFirstByte?.(this.framing);
    this.sentBytes += b.length;
    this.output.push(b);
  }

  tick(now: number): boolean {
    if (this.state !== 'trickling') return false;
    const avail = this.source();
    const upTo = Math.min(this.comfortCap(avail.length), this.sentBytes + this.opts.amount);
    if (upTo > this.sentBytes) this.push(avail.subarray(this.sentBytes, upTo));
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
    const all = this.source();
    if (this.length !== null && all.length !== this.length) {
      // Ending now would break the framing the receiver was promised; an incomplete transfer is honest.
      this.cut(`input is ${all.length} bytes, ${this.length} were announced`);
      return;
    }
    this.state = 'ended';
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
