/**
 * MMS notices to blocked senders (SENDER_NOTICE_URL): an m-send-req built by
 * our encoder, one text part from the `notice.subject`/`notice.text`
 * templates, posted to the MMSC like any handset's send. At most one notice
 * per sender per SENDER_NOTICE_INTERVAL, counted in the flood/duplicate store
 * when there is one (so the limit holds across instances sharing Redis), else
 * in this process; never retried — a sender must not be spammed by the system
 * that stopped their spam — and never delaying the reply to the message that
 * was blocked.
 */
import type { Logger } from 'pino';
import { request } from 'undici';
import { buildTextSendReq } from 'wap-mms-decoder';
import { MemoryStore, type CounterStore } from '@mmsguard/policy';
import type { Metrics } from './metrics.js';

export interface SenderNoticeOptions {
  readonly url: string;
  readonly from: string | null;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

const MAX_IN_FLIGHT = 256;

export class SenderNotices {
  private readonly local = new MemoryStore();
  private seq = 0;
  private readonly pending = new Set<Promise<void>>();

  /** `shared`: the flood/duplicate store, if any, so the per-sender limit holds across instances. */
  constructor(
    private readonly opts: SenderNoticeOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger | null,
    private readonly shared: CounterStore | null = null,
  ) {}

  /** Sends the notice unless this sender had one within the interval; `sender` is a normalised number or an e-mail. */
  send(sender: string | null, subject: string, text: string, now = Date.now()): void {
    if (sender === null || sender === '') return;
    // A slow MMSC must not pile up notices in memory during a block wave.
    if (this.pending.size >= MAX_IN_FLIGHT) {
      this.metrics.senderNotices.inc({ result: 'dropped' });
      return;
    }
    const p = this.sendIfDue(sender, subject, text, now).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async sendIfDue(sender: string, subject: string, text: string, now: number): Promise<void> {
    // One notice per sender per interval slot: the first hit in the slot sends. (A sliding window would
    // let a sender who keeps trying never get a second notice.) Atomic in Redis across instances.
    const key = `notice:${sender}:${Math.floor(now / this.opts.intervalMs)}`;
    let seen: number;
    try {
      seen = await (this.shared ?? this.local).hit(key, this.opts.intervalMs, now, 2);
    } catch {
      // The shared store is down: this instance's own count still keeps a sender from being flooded.
      seen = await this.local.hit(key, this.opts.intervalMs, now, 2);
    }
    if (seen > 1) {
      this.metrics.senderNotices.inc({ result: 'rate-limited' });
      return;
    }
    const to = sender.includes('@') ? sender : `${sender}/TYPE=PLMN`;
    const transactionId = `mmsguard-notice-${now.toString(36)}-${++this.seq}`;
    const pdu = buildTextSendReq({ transactionId, from: this.opts.from, to, subject, text, date: now / 1000 });
    await this.post(pdu);
  }

  private async post(pdu: Uint8Array): Promise<void> {
    try {
      const res = await request(this.opts.url, {
        method: 'POST', headers: { 'content-type': 'application/vnd.wap.mms-message' }, body: pdu,
        headersTimeout: this.opts.timeoutMs, bodyTimeout: this.opts.timeoutMs,
      });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) {
        this.metrics.senderNotices.inc({ result: 'sent' });
        return;
      }
      throw new Error(`HTTP ${res.statusCode}`);
    } catch (e) {
      this.metrics.senderNotices.inc({ result: 'failed' });
      this.log?.warn({
        event: 'sender-notice-failed',
        msg: `notice to a blocked sender not accepted by ${this.opts.url}: ${(e as Error).message}`,
      });
    }
  }

  /** Waits for notices in flight (shutdown, tests). */
  async drain(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
