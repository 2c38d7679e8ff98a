/**
 * Administrator notifications (issue 6): a webhook that receives JSON for
 * virus, file-block, flood, duplicate and list-block events. The first event
 * of a kind and key goes out at once, then at most one notice per
 * NOTIFY_INTERVAL carrying how many more occurred; a global rate limit caps
 * notices per second; the queue is bounded (drops are counted, never block a
 * message); delivery is retried with exponential backoff. With a
 * NOTIFY_WINDOW, nothing goes out outside it: events are counted and the
 * counts go out at the first flush inside the window.
 */
import type { Logger } from 'pino';
import { request } from 'undici';
import { inWindow, type WindowRule } from './schedule.js';

export interface NotifierOptions {
  readonly url: string;
  readonly intervalMs: number;
  readonly perSecond: number;
  readonly maxQueue?: number;
  /** Distinct notice groups kept (default 10,000); past it new keys share a `*` group of their kind. */
  readonly maxGroups?: number;
  readonly retries?: number;
  /** Weekday/time-of-day window for sending; empty or absent: always. */
  readonly window?: readonly WindowRule[];
  /** The clock (tests). */
  readonly now?: () => Date;
  /** Told of every notice delivered or given up (queue full, receiver failing). */
  readonly onResult?: (result: 'sent' | 'dropped') => void;
}

interface Pending {
  first: Record<string, unknown>;
  count: number;
  lastSent: number;
  /** The first event went out (false while it waits for the window). */
  announced: boolean;
}

const MAX_GROUPS = 10_000;

export class Notifier {
  private readonly groups = new Map<string, Pending>();
  private readonly queue: Record<string, unknown>[] = [];
  private sending = false;
  private tokens: number;
  private lastRefill = Date.now();
  private timer: NodeJS.Timeout | null = null;
  dropped = 0;
  sent = 0;

  constructor(private readonly opts: NotifierOptions, private readonly log: Logger | null) {
    this.tokens = opts.perSecond;
    // Flushes the "N more" counts every interval; unref'd so it never keeps the process alive.
    this.timer = setInterval(() => this.flushCounts(), Math.max(100, opts.intervalMs));
    this.timer.unref();
  }

  /**
   * Called for UTM records: blocking events of the notified kinds, or any event when `alert` (a
   * flood/duplicate threshold with the `alert` action). Flood and duplicate records without `alert`
   * only add to the count of a notice already open for their key.
   */
  onUtm(rec: Record<string, unknown>, alert = false): void {
    const subtype = typeof rec['subtype'] === 'string' ? rec['subtype'] : '';
    const kinds: Record<string, string> = {
      virus: 'virus', 'file-filter': 'file-block', flood: 'flood', dupe: 'duplicate', 'msisdn-filter': 'list-block',
    };
    const kind = kinds[subtype];
    if (kind === undefined || (!alert && (rec['action'] === 'monitored' || rec['action'] === 'passthrough'))) return;
    // One notice stream per virus, per file type, per content checksum, per sender.
    const fields: Record<string, string> = { virus: 'virus', 'file-block': 'filetype', duplicate: 'analyticscksum' };
    const field = fields[kind] ?? 'from';
    const what = rec[field];
    let key = `${kind}:${typeof what === 'string' ? what : ''}`;
    // Bounded: past MAX_GROUPS distinct keys (a long closed window, a wave of random content) new
    // keys are counted in one `*` group of their kind.
    if (!this.groups.has(key) && this.groups.size >= (this.opts.maxGroups ?? MAX_GROUPS)) key = `${kind}:*`;
    const g = this.groups.get(key);
    if (g !== undefined) {
      g.count++;
      return;
    }
    if (!alert && (kind === 'flood' || kind === 'duplicate')) return;
    if (this.open()) {
      this.groups.set(key, { first: rec, count: 0, lastSent: Date.now(), announced: true });
      this.enqueue({ event: kind, first: true, count: 1, record: rec });
    } else this.groups.set(key, { first: rec, count: 1, lastSent: 0, announced: false });
  }

  /**
   * An administrator event outside the UTM kinds (a retro-hunt match: `event` names it, `key` tells
   * one occurrence from another). Each goes out as it comes, never folded into a count; outside
   * NOTIFY_WINDOW it waits for the window like the rest.
   */
  notify(event: string, key: string, record: Record<string, unknown>): void {
    if (this.open()) {
      this.enqueue({ event, first: true, count: 1, record });
      return;
    }
    const k = `${event}:${key}`;
    const g = this.groups.get(k);
    if (g !== undefined) g.count++;
    else this.groups.set(k, { first: record, count: 1, lastSent: 0, announced: false });
  }

  private open(): boolean {
    return inWindow(this.opts.window ?? [], this.opts.now?.() ?? new Date());
  }

  /** Sends the counts gathered since each group's last notice; outside the window, keeps them. */
  flushCounts(): void {
    if (!this.open()) return;
    const now = Date.now();
    for (const [key, g] of this.groups) {
      if (now - g.lastSent < this.opts.intervalMs) continue;
      if (g.count > 0) {
        this.enqueue({ event: key.split(':')[0], first: !g.announced, count: g.count, record: g.first });
        g.count = 0;
        g.lastSent = now;
        g.announced = true;
      } else this.groups.delete(key);
    }
  }

  private enqueue(n: Record<string, unknown>): void {
    if (this.queue.length >= (this.opts.maxQueue ?? 1000)) {
      this.dropped++;
      this.opts.onResult?.('dropped');
      return;
    }
    this.queue.push({ ...n, time: new Date().toISOString(), source: 'mmsguard' });
    void this.pump();
  }

  private takeToken(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.opts.perSecond, this.tokens + ((now - this.lastRefill) / 1000) * this.opts.perSecond);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        if (!this.takeToken()) {
          await new Promise((r) => setTimeout(r, 1000 / this.opts.perSecond).unref());
          continue;
        }
        const n = this.queue.shift() as Record<string, unknown>;
        await this.deliver(n);
      }
    } finally {
      this.sending = false;
    }
  }

  private async deliver(n: Record<string, unknown>): Promise<void> {
    const retries = this.opts.retries ?? 3;
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        const res = await request(this.opts.url, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(n),
          headersTimeout: 5000, bodyTimeout: 5000,
        });
        await res.body.dump();
        if (res.statusCode < 300) {
          this.sent++;
          this.opts.onResult?.('sent');
          return;
        }
      } catch {
        // retried below
      }
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt).unref());
    }
    this.dropped++;
    this.opts.onResult?.('dropped');
    this.log?.error({
      event: 'notify-failed',
      msg: `webhook ${this.opts.url} did not accept a notification after ${retries + 1} attempts`,
    });
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
