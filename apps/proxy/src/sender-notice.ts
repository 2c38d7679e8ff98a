/**
 * MMS notices to blocked senders (SENDER_NOTICE_URL): an m-send-req built by
 * our encoder, one text part from the `notice.subject`/`notice.text`
 * templates, posted to the MMSC like any handset's send. At most one notice
 * per sender per SENDER_NOTICE_INTERVAL (per instance: a notice is a courtesy,
 * not a limit that must hold exactly), never retried — a sender must not be
 * spammed by the system that stopped their spam — and never delaying the
 * reply to the message that was blocked.
 */
import type { Logger } from 'pino';
import { request } from 'undici';
import { buildTextSendReq } from 'wap-mms-decoder';
import type { Metrics } from './metrics.js';

export interface SenderNoticeOptions {
  readonly url: string;
  readonly from: string | null;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export class SenderNotices {
  private readonly last = new Map<string, number>();
  private seq = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly opts: SenderNoticeOptions, private readonly metrics: Metrics, private readonly log: Logger | null) {}

  /** Sends the notice unless this sender had one within the interval. `sender` is a normalised number or an email address. */
  send(sender: string | null, subject: string, text: string, now = Date.now()): void {
    if (sender === null || sender === '') return;
    const prev = this.last.get(sender);
    if (prev !== undefined && now - prev < this.opts.intervalMs) {
      this.metrics.senderNotices.inc({ result: 'rate-limited' });
      return;
    }
    this.last.set(sender, now);
    if (this.last.size > 100_000) this.sweep(now);
    const to = sender.includes('@') ? sender : `${sender}/TYPE=PLMN`;
    const pdu = buildTextSendReq({ transactionId: `mmsguard-notice-${now.toString(36)}-${++this.seq}`, from: this.opts.from, to, subject, text, date: now / 1000 });
    const p = this.post(pdu).finally(() => this.pending.delete(p));
    this.pending.add(p);
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
      this.log?.warn({ event: 'sender-notice-failed', msg: `notice to a blocked sender not accepted by ${this.opts.url}: ${(e as Error).message}` });
    }
  }

  private sweep(now: number): void {
    for (const [k, t] of this.last) if (now - t >= this.opts.intervalMs) this.last.delete(k);
  }

  /** Waits for notices in flight (shutdown, tests). */
  async drain(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
