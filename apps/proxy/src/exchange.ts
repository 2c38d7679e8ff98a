/**
 * The request-scoped object (Haraka's `connection.transaction`): one per
 * message, made when the request arrives and carried through the pipeline.
 * It holds who sent the message (the trusted MSISDN header is read once
 * here, so logs and policy name the same sender), what the message is once
 * an adapter has described it, what the checks found, and it writes the
 * records once, from the final outcome (`finish`). It does not decide and
 * does not render replies.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { eventAction, verdictAction } from '@mmsguard/policy';
import type { ProxyContext } from './context.js';
import { verdictOf, type Envelope, type Verdict } from './pipeline/inspection.js';
import { utmRecord, verdictRecord, type Session, type UtmEvent, type VerdictFields } from './records.js';
import { traceMessage } from './spans.js';
import type { TemplateVars } from './templates.js';
import type { Upstream } from './upstream.js';
import { isTrustedGateway, trustedMsisdn, upstreamPath } from './protocols/identity.js';

/** How the exchange ended on the wire: the HTTP status sent, or why the delivery failed. */
export interface Delivery {
  readonly status: number | null;
  /** The upstream failed after the outcome was decided (verdict action `error`). */
  readonly error?: string;
  /** The transfer broke after the outcome was decided (verdict action `aborted`). */
  readonly aborted?: string;
}

export class Exchange {
  readonly t0 = performance.now();
  readonly session: Session;
  /** The MSISDN a trusted gateway vouched for (MSISDN header), or null; read once per message. */
  readonly msisdn: string | null;
  /** The request comes from a TRUSTED_GATEWAYS address. */
  readonly fromTrustedGateway: boolean;
  /** What to request from the upstream (below its base path); null: the target would escape it. */
  readonly path: string | null;
  envelope: Envelope | null = null;
  private readonly events: UtmEvent[] = [];
  private finished = false;
  private readonly replying: (() => void)[] = [];
  /** Comfort fields for the verdict record, read when it is written (byte counts are final then). */
  comfort: () => Pick<VerdictFields, 'comfort_started' | 'comfort_bytes' | 'client_comfort_interim'> = () => ({});

  constructor(
    readonly ctx: ProxyContext,
    readonly req: FastifyRequest,
    readonly reply: FastifyReply,
    readonly service: 'MM1' | 'MM7',
    direction: Session['direction'],
    readonly upstream: Upstream,
  ) {
    this.session = {
      service, direction, sessionid: ctx.nextSessionId(),
      srcip: req.socket.remoteAddress ?? '', srcport: req.socket.remotePort ?? 0,
      dstip: upstream.host, dstport: upstream.port,
      msgtype: null, transactionid: null, messageid: null, from: null, to: null,
    };
    this.msisdn = trustedMsisdn(ctx, req);
    this.fromTrustedGateway = isTrustedGateway(ctx, req);
    this.path = upstreamPath(req.url);
  }

  /** What the adapter read from the message; the logs name the sender as policy counts it. */
  describe(e: Envelope): void {
    this.envelope = e;
    const s = this.session;
    s.msgtype = e.msgtype;
    s.transactionid = e.transactionId;
    s.messageid = e.messageId ?? s.messageid;
    if (e.direction !== undefined) s.direction = e.direction;
    s.from = this.ctx.redact(e.sender);
    s.to = e.to.length > 0 ? e.to.map((t) => this.ctx.redact(t)).join(',') : null;
  }

  /** The id the upstream's answer (or our own, for a hidden message) gave the message; before `finish` only. */
  identify(messageId: string | null): void {
    if (messageId !== null && !this.finished) this.session.messageid = messageId;
  }

  /** Runs `f` when the exchange is finished, right before the adapter writes its reply. */
  beforeReply(f: () => void): void {
    this.replying.push(f);
  }

  /** A finding of a check; written as a UTM record once the outcome is known. */
  note(e: UtmEvent): void {
    this.events.push(e);
  }

  /**
   * Refuses a request whose target would climb out of the upstream's base path (HTTP 400), before
   * anything is read or sent upstream. True when refused.
   */
  refuseBadTarget(): boolean {
    if (this.path !== null) return false;
    this.finish(verdictOf({ kind: 'refuse', reason: 'bad-request' }, 0, {
      reason: 'request target escapes the upstream base path (dot-segment or absolute-form)',
    }), { status: 400 });
    void this.reply.code(400).header('connection', 'close').type('text/plain').send('mmsguard: bad request target\n');
    return true;
  }

  /** Template variables every reply can use: who and which transaction. */
  vars(): TemplateVars {
    const s = this.session;
    return { sender: s.from, recipient: s.to, transaction_id: s.transactionid };
  }

  /** Nobody to answer (the peer went away, or the transfer broke): the records, then the connection is dropped. */
  abandon(v: Verdict): void {
    this.finish(v, { status: null });
    this.reply.hijack();
    this.reply.raw.destroy();
  }

  /**
   * The records of this message, once: a UTM record per event with its action read from the
   * outcome, then the verdict record. Later calls are ignored (one verdict per message).
   */
  finish(v: Verdict, d: Delivery): void {
    if (this.finished) return;
    this.finished = true;
    for (const f of this.replying.splice(0)) f();
    const { ctx, session: s } = this;
    for (const e of this.events) {
      const action = eventAction(e.role, v.outcome);
      ctx.utm(utmRecord(s, e.subtype, action, e.part, e.finding, e.note), e.alert);
    }
    const action = d.error !== undefined ? 'error' : d.aborted !== undefined ? 'aborted' : verdictAction(v.outcome);
    traceMessage(this, action);
    const reason = d.error ?? d.aborted ?? v.reason ?? undefined;
    ctx.log.info(verdictRecord(s, {
      action, subtype: v.subtype, parts: v.parts, bytes: v.bytes, ms: performance.now() - this.t0,
      ...(reason !== undefined ? { reason } : {}), ...(d.status !== null ? { status: d.status } : {}),
      ...this.comfort(),
    }));
    ctx.metrics.messages.inc({ service: s.service, direction: s.direction, action, subtype: v.subtype ?? '' });
    // Quarantine and verdict lookup, from the same outcome and action; queued, never awaited here.
    ctx.forensics.record({
      service: s.service, transactionId: s.transactionid, messageId: s.messageid, from: s.from,
      to: (this.envelope?.to ?? []).map((t) => ctx.redact(t) ?? t), action, verdict: v,
    });
  }
}
