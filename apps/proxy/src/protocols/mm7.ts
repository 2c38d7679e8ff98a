/**
 * MM7: VASP ⇄ MMSC, SOAP 1.1 with MIME attachments (multipart/related). This
 * adapter turns a request into the pipeline's Inspection (through
 * @mmsguard/mm7: envelope, attachments, bytes outside parts) and renders
 * verdicts as the operation's Rsp or SOAP Fault — RSErrorRsp toward a VASP,
 * VASPErrorRsp toward the MMSC, over HTTP 500: 2004 content refused, 2007
 * format corrupt, 4006 service unavailable, 4007 service denied.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  Mm7Error, Mm7Status, buildFault, buildRsp, decodedBody, dispositionFilename, parseMm7Message, parseSubmitRsp,
  peekEnvelope, peekTransactionId, replaceParts, type ContentLeaf, type MimePart, type Mm7Message, type Mm7Reply,
  type ReplyFor, type SoapRequest,
} from '@mmsguard/mm7';
import type { BodyResult } from '../body.js';
import type { ProxyContext, ProxyRuntime } from '../context.js';
import { RETRY_AFTER_S, replyRow } from '../errors.js';
import { Exchange } from '../exchange.js';
import { checksumOf } from '../pipeline/bulk.js';
import { contentKey } from '../pipeline/inspect.js';
import { verdictOf, type Envelope, type Inspection, type Replacement, type Verdict } from '../pipeline/inspection.js';
import { relay, runPipeline, type Adapter } from '../pipeline/run.js';
import type { Leaf } from '../pipeline/scan.js';
import { Upload } from '../pipeline/transfer.js';
import { upstreamHeaders } from './identity.js';
import { FORM_PATH, handleForm } from './form.js';

const FROM_MMSC = new Set(['DeliverReq', 'DeliveryReportReq', 'ReadReplyReq']);
const NO_REQUEST: ReplyFor = { operation: null, transactionId: null, namespace: null, mm7Version: null };

function envelopeOf(ex: Exchange, soap: SoapRequest): Envelope {
  return {
    msgtype: soap.operation, transactionId: soap.transactionId, messageId: soap.messageId,
    direction: FROM_MMSC.has(soap.operation) ? 'incoming' : 'outgoing',
    // A VASP's SenderAddress is its own claim; only a connection from a trusted gateway vouches for it.
    sender: soap.sender ?? soap.vaspId, senderVouched: ex.fromTrustedGateway,
    to: soap.recipients, recipients: soap.recipients, subject: null,
  };
}

export function inspectionOf(ex: Exchange, m: Mm7Message, body: Buffer): Inspection {
  const { soap } = m;
  const { bulk } = ex.ctx.config;
  const envelope = envelopeOf(ex, soap);
  // Every target the package found (the SOAP root, decoded forms, uuencoded files, the leaves of message/*
  // attachments, bytes no part owns): each located by the MM7 body part that carries it, the one REMOVE_BLOCKED
  // would replace; null when no part does (issue 14 classes 5 and 6).
  const carriers = new Map<number, MimePart>();
  const targets: Leaf[] = m.targets.map((t) => {
    if (t.carrier !== null) carriers.set(t.carrier.start, t.carrier);
    const why = t.unscannable;
    return {
      id: t.id, path: t.carrier === null ? null : [t.carrier.start], data: t.raw, decoded: t.decoded,
      names: namesOf(t), contentType: t.contentType,
      encodings: t.kind === 'uuencoded' ? ['x-uuencode'] : t.part?.transferEncoding ? [t.part.transferEncoding] : [],
      unscannable: why === null ? null : `${why.code}: ${why.reason}`,
    };
  });
  const vasp = soap.vaspId ?? soap.sender;
  const parts = m.attachments.map((a) => a.part);
  const dupeKey = (): string | null => (parts.length === 0 ? null : `mm7:${checksumOf(parts.map(decodedBody))}`);
  return {
    envelope, targets, listed: true,
    // Per VASP (flood) and per attachment content (duplicates), SubmitReq only.
    counts: soap.operation === 'SubmitReq'
      ? [
        { kind: 'flood', thresholds: bulk.mm7Flood, key: () => (vasp === null ? null : `vasp:${vasp}`) },
        { kind: 'dupe', thresholds: bulk.mm7Dupe, key: dupeKey },
      ]
      : [],
    cacheKey: `sha:${contentKey(body, targets)}`,
    // MM7_VASP_LIMITS: a SubmitReq is taken from its VASP's quota (VASPID, else SenderAddress).
    ...(soap.operation === 'SubmitReq' ? { vasp } : {}),
    rebuild: (reps: readonly Replacement[]) => rebuild(body, m.root, carriers, reps),
  };
}

/**
 * Every name a mail reader may show for a leaf: the package's choice, then the Content-Type name, the
 * Content-Disposition filename and the Content-Location. A .bat named only in one of them is still a .bat.
 */
function namesOf(t: ContentLeaf): string[] {
  const p = t.kind === 'part' ? t.part : null;
  const disposition = p?.headers.find(([n]) => n === 'content-disposition')?.[1];
  const all = [t.name, p?.contentType.params['name'], dispositionFilename(disposition), p?.contentLocation];
  return [...new Set(all.filter((n) => typeof n === 'string'))];
}

/**
 * The body with each blocked target's carrier replaced, once however many of its targets are blocked (replaceParts
 * takes disjoint parts); null when a target has no carrier (bytes outside every part) or is carried by the SOAP
 * envelope: then no rewrite can remove it, and the message is refused.
 */
function rebuild(
  body: Buffer, root: MimePart | null, carriers: ReadonlyMap<number, MimePart>, reps: readonly Replacement[],
): Buffer | null {
  const texts = new Map<MimePart, string[]>();
  for (const r of reps) {
    const start = r.target.path?.[0];
    const part = start === undefined ? undefined : carriers.get(start);
    if (part === undefined || part === root) return null;
    const t = texts.get(part) ?? [];
    if (!t.includes(r.text)) t.push(r.text);
    texts.set(part, t);
  }
  // A carrier inside another (a whole-part range around a multipart) goes with the outer one.
  const end = (p: MimePart): number => p.bodyStart + p.raw.length;
  const all = [...texts.keys()];
  const outer = all.filter((p) => !all.some((q) => q !== p && q.start <= p.start && end(p) <= end(q)));
  if (root !== null && outer.some((p) => p.start <= root.start && end(root) <= end(p))) return null;
  return replaceParts(body, outer.map((part) => ({ part, text: (texts.get(part) ?? []).join('\n') })));
}

/** The MessageID of the upstream's Rsp (a SubmitRsp names the message it accepted); null when it names none. */
export function rspMessageId(status: number, contentType: string, body: Buffer): string | null {
  if (status < 200 || status > 299 || !/xml/i.test(contentType)) return null;
  try {
    return parseSubmitRsp(body.toString('utf8')).messageId;
  } catch (e) {
    if (e instanceof Mm7Error) return null;
    throw e;
  }
}

/** What the Fault's details say for each refusal (the StatusText comes from the reply templates). */
function details(v: Verdict, limit: number): string {
  const o = v.outcome;
  if (o.kind !== 'refuse' && o.kind !== 'transient') return '';
  switch (o.reason) {
    case 'content':
      return v.reason ?? 'content refused';
    case 'oversize':
      return `message too large (limit ${limit} bytes)`;
    case 'malformed':
      return String(v.vars.reason ?? v.reason ?? 'format corrupt');
    case 'denied':
      return 'service denied';
    case 'bad-request':
      return v.reason ?? 'bad request';
    case 'scan-error':
      return 'content could not be scanned, retry later';
    case 'store-down':
      return 'temporary failure, retry later';
    case 'busy':
      return 'busy, retry later';
    case 'quota':
      return 'VASP over its message quota, retry later';
  }
}

/** Retry-After of a transient refusal: the wait the check computed (a VASP's quota), else RETRY_AFTER_S when busy. */
export function retryAfter(v: Verdict): Record<string, string> {
  if (v.outcome.kind !== 'transient') return {};
  if (v.retryAfterS !== undefined) return { 'retry-after': String(v.retryAfterS) };
  return v.outcome.reason === 'busy' ? { 'retry-after': String(RETRY_AFTER_S) } : {};
}

class Mm7Request implements Adapter {
  private replyFor: ReplyFor = NO_REQUEST;

  constructor(private readonly ex: Exchange, readonly transfer: Upload, private readonly contentType: string) {}

  read(body: Buffer): Inspection | { code: string; detail: string } {
    let m: Mm7Message;
    try {
      m = parseMm7Message(body, this.contentType);
    } catch (e) {
      if (!(e instanceof Mm7Error)) throw e;
      // A refused body still names its transaction when it shows one: the VASP can match the 2007 to it.
      this.replyFor = { ...NO_REQUEST, transactionId: peekTransactionId(body) };
      return { code: e.code, detail: e.message };
    }
    this.replyFor = m.soap;
    return inspectionOf(this.ex, m, body);
  }

  peek(head: Buffer): Envelope | null {
    // The SOAP part, when the head holds it whole: the records name sender and recipients, the answer echoes it.
    const soap = peekEnvelope(head, this.contentType);
    if (soap !== null) {
      this.replyFor = soap;
      return envelopeOf(this.ex, soap);
    }
    const tid = peekTransactionId(head);
    if (tid === null) return null;
    this.replyFor = { ...NO_REQUEST, transactionId: tid };
    return {
      msgtype: null, transactionId: tid, sender: null, senderVouched: false, to: [], recipients: [], subject: null,
    };
  }

  async render(v: Verdict, r: BodyResult): Promise<void> {
    const { ex, transfer: t } = this;
    const o = v.outcome;
    switch (o.kind) {
      case 'forward':
      case 'rewrite':
      case 'forward-unscanned':
        return this.relay(v, t.forward(v, r));
      case 'abort':
        t.cut('aborted');
        return ex.abandon(v);
      case 'hide': {
        t.cut('hidden');
        // The records name the id the VASP was given, so a complaint quoting it can be traced.
        const messageId = `mmsguard-${Date.now().toString(36)}`;
        ex.identify(messageId);
        ex.finish(v, { status: 200 });
        return this.send(buildRsp(this.replyFor, Mm7Status.SUCCESS, undefined, undefined, messageId));
      }
      case 'refuse':
      case 'transient': {
        t.cut(o.reason);
        if (r.kind === 'oversize') t.drain(r.rest);
        const row = replyRow(o.reason).mm7;
        const reply = this.fault(row.code, details(v, t.limit), row.text, v);
        const status = row.http ?? reply.httpStatus;
        ex.finish(v, { status });
        const retry = retryAfter(v);
        return this.send({ ...reply, httpStatus: status }, retry);
      }
    }
  }

  private fault(code: number, detail: string, text: Parameters<ProxyContext['text']>[0], v: Verdict): Mm7Reply {
    const { ex } = this;
    return buildFault(this.replyFor, code, detail, ex.ctx.text(text, { ...ex.vars(), reason: detail, ...v.vars }));
  }

  private send(r: Mm7Reply, headers: Record<string, string> = {}): void {
    void this.ex.reply.code(r.httpStatus).type(r.contentType).headers(headers).send(r.body);
  }

  private relay(v: Verdict, pending: ReturnType<Upload['commit']>): Promise<void> {
    return relay(this.ex, v, pending, (_kind, why) => {
      this.ex.finish(v, { status: 500, error: why });
      this.send(this.fault(Mm7Status.SERVICE_UNAVAILABLE, 'upstream unreachable', 'mm7.unavailable', v));
    }, rspMessageId);
  }
}

async function handleMm7(ctx: ProxyContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const ex = new Exchange(ctx, req, reply, 'MM7', 'outgoing', ctx.mm7Upstream);
  if (ex.refuseBadTarget()) return reply;
  const ct = req.headers['content-type'] ?? '';
  const type = ct.split(';')[0]?.trim().toLowerCase() ?? '';
  const v = req.headers['content-length'];
  const cl = v === undefined ? null : /^\d+$/.test(v) ? Number(v) : NaN;
  if ((type !== 'multipart/related' && type !== 'text/xml') || Number.isNaN(cl)) {
    const reason = `content type ${type || 'none'} is not MM7`;
    ex.finish(verdictOf({ kind: 'refuse', reason: 'bad-request' }, 0, { subtype: 'malformed', reason }), {
      status: 500,
    });
    const detail = 'expected multipart/related or text/xml';
    const text = ctx.text('mm7.corrupt', { ...ex.vars(), reason: detail });
    const r = buildFault(NO_REQUEST, Mm7Status.FORMAT_CORRUPT, detail, text);
    return reply.code(r.httpStatus).type(r.contentType).send(r.body);
  }
  const transfer = new Upload(ex, ctx.config.mm7, cl, ctx.mm7Upstream, upstreamHeaders(ctx, req));
  await runPipeline(ex, new Mm7Request(ex, transfer, ct));
  return reply;
}

/** The route; each message is handled under the generation in force when it arrives (`rt.run` pins it). */
export function registerMm7(app: FastifyInstance, rt: Pick<ProxyRuntime, 'run'>): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
  // The VASP form (CONTRACT §9): multipart/form-data reaches it as a stream too (the parser above).
  app.post(FORM_PATH, (req, reply) => rt.run((ctx) => handleForm(ctx, req, reply)));
  app.post('/*', (req, reply) => rt.run((ctx) => handleMm7(ctx, req, reply)));
}
