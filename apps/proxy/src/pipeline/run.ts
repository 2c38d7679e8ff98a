/**
 * The message lifecycle, in one fixed order for every protocol (fastify's
 * handle-request): the transfer reads the body → body failures and oversize
 * become verdicts → the adapter reads the message (or it is malformed) → the
 * checks decide (inspect.ts) → the adapter renders the verdict → the
 * buffered bytes go back to the budget. The records are written once, by
 * the exchange, when the adapter has answered.
 */
import type { Dispatcher } from 'undici';
import type { BodyResult } from '../body.js';
import type { Exchange } from '../exchange.js';
import { spans } from '../spans.js';
import { classify, responseHeaders, type UpstreamFailure } from '../upstream.js';
import { inspect, malformed, oversize } from './inspect.js';
import { verdictOf, type Envelope, type Inspection, type Verdict } from './inspection.js';
import type { Download, Transfer, Upload } from './transfer.js';

export interface Adapter {
  /** Upload or Download; the VASP form reads its own (protocols/form-body.ts). */
  readonly transfer: Upload | Download | Transfer;
  /** The message from its complete bytes, or the decode error that makes it malformed. */
  read(body: Buffer): Inspection | { readonly code: string; readonly detail?: string };
  /** The envelope from the first bytes of an oversized message, when they show one. */
  peek(head: Buffer): Envelope | null;
  /** Answers the verdict (commit, pass or cut the transfer; the protocol's reply) and finishes the exchange. */
  render(v: Verdict, r: BodyResult): Promise<void> | void;
}

export async function runPipeline(ex: Exchange, a: Adapter): Promise<void> {
  const t = a.transfer;
  const r = await t.read();
  try {
    await a.render(await decide(ex, a, r), r);
  } finally {
    t.release();
  }
}

async function decide(ex: Exchange, a: Adapter, r: BodyResult): Promise<Verdict> {
  const t = a.transfer;
  switch (r.kind) {
    case 'budget':
      ex.ctx.metrics.rejected.inc({ service: ex.service, reason: 'inflight-budget' });
      return verdictOf({ kind: 'transient', reason: 'busy' }, 0, { reason: 'in-flight budget exhausted' });
    case 'aborted':
      return verdictOf({ kind: 'abort' }, 0, { reason: t.abortReason });
    case 'length-mismatch':
      return verdictOf({ kind: 'refuse', reason: 'bad-request' }, 0, {
        subtype: ex.service === 'MM7' ? 'malformed' : null, reason: 'body length does not match Content-Length',
      });
    case 'oversize': {
      const envelope = a.peek(r.head);
      if (envelope !== null) ex.describe(envelope);
      return oversize(ex, t.declaredLength, t.limit, t.oversizePass);
    }
    case 'complete': {
      const m = spans().run('decode', { 'mmsguard.bytes': r.body.length }, () => a.read(r.body));
      if ('code' in m) return malformed(ex, r.body, m.code, m.detail);
      ex.describe(m.envelope);
      return inspect(ex, m, r.body, () => t.canRewrite());
    }
  }
}

/** The message id an upstream answer names (m-send-conf Message-ID, SubmitRsp MessageID), or null. */
export type AnswerId = (status: number, contentType: string, body: Buffer) => string | null;

/**
 * Awaits the upstream's answer to a forwarded message and relays it (status, headers minus hop-by-hop,
 * body); `answerId` reads the id the upstream gave the message for the records. An upstream failure goes
 * to `failed`, which answers in the protocol's terms (a POST is never retried: the upstream may have taken
 * the message).
 */
export async function relay(
  ex: Exchange, v: Verdict, pending: Promise<Dispatcher.ResponseData>,
  failed: (kind: UpstreamFailure, why: string) => void, answerId?: AnswerId,
): Promise<void> {
  const { ctx } = ex;
  const started = performance.now();
  try {
    const res = await pending;
    const data = Buffer.from(await res.body.arrayBuffer());
    ctx.metrics.upstreamSeconds.observe({ service: ex.service, method: 'POST' }, (performance.now() - started) / 1000);
    const type = res.headers['content-type'];
    if (answerId !== undefined) ex.identify(answerId(res.statusCode, typeof type === 'string' ? type : '', data));
    ex.finish(v, { status: res.statusCode });
    void ex.reply.code(res.statusCode).headers(responseHeaders(res.headers)).send(data);
  } catch (e) {
    const kind = classify(e);
    ctx.metrics.upstreamErrors.inc({ service: ex.service, kind });
    failed(kind, `upstream ${kind}: ${(e as Error).message}`);
  }
}
