/**
 * One timer for every comforted transfer of a process: the scheduler keeps
 * the transfers' next due times and arms a single setTimeout for the
 * earliest. A thousand slow downloads cost one timer, not a thousand.
 */

export interface Due {
  /** Milliseconds (scheduler clock) of the next release. */
  nextDue: number;
  /** Called when due; returns false to be dropped from the schedule. */
  tick(now: number): boolean;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A pending comfort tick must not keep a stopping process alive.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class ComfortScheduler {
  private readonly items = new Set<Due>();
  private timer: unknown = null;
  private armedFor = Infinity;

  constructor(readonly clock: Clock = systemClock) {}

  get size(): number {
    return this.items.size;
  }

  add(d: Due): void {
    this.items.add(d);
    this.arm();
  }

  remove(d: Due): void {
    this.items.delete(d);
    if (this.items.size === 0) this.disarm();
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }

  private arm(): void {
    let next = Infinity;
    for (const d of this.items) if (d.nextDue < next) next = d.nextDue;
    if (next === Infinity) {
      this.disarm();
      return;
    }
    if (this.timer !== null && next >= this.armedFor) return;
    this.disarm();
    this.armedFor = next;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, next - this.clock.now()));
  }

  private fire(): void {
    this.timer = null;
    this.armedFor = Infinity;
    const now = this.clock.now();
    for (const d of [...this.items]) {
      // Half a millisecond of slack: timers fire a little early or late; a tick is not skipped for that.
      if (d.nextDue <= now + 0.5 && !d.tick(now)) this.items.delete(d);
    }
    this.arm();
  }
}
