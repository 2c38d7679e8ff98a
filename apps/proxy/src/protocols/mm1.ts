/**
 * MM1: handsets POST PDUs (m-send-req and friends) and GET messages (the
 * MMSC answers m-retrieve-conf). This adapter turns PDUs into the pipeline's
 * Inspection (through the codec) and renders verdicts as m-send-conf /
 * m-retrieve-conf (CONTRACT §3); the checks, the records and how bytes move
 * are the pipeline's. Every request ends in a reply or a cut connection,
 * and one verdict record.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  FIELD, MessageType, ResponseStatus, buildRetrieveConfError, buildSendConf, decode, encodedStrings, isMmsError,
  messageTypeName, mmsVersion, partInfo, reencodeWithParts, textHeader, textPart, transactionId, wellKnown,
  type MmsPart, type MmsPdu,
} from 'wap-mms-decoder';
import { normalizeAddress } from '@mmsguard/policy';
import type { BodyResult } from '../body.js';
import type { ProxyContext, ProxyRuntime } from '../context.js';
import { RETRY_AFTER_S, replyRow } from '../errors.js';
import { Exchange } from '../exchange.js';
import { checksumOf } from '../pipeline/bulk.js';
import { contentKey } from '../pipeline/inspect.js';
import { verdictOf, type Envelope, type Inspection, type Replacement, type Verdict } from '../pipeline/inspection.js';
import { relay, runPipeline, type Adapter } from '../pipeline/run.js';
import type { Leaf } from '../pipeline/scan.js';
import { Download, Upload } from '../pipeline/transfer.js';
import { classify, responseHeaders } from '../upstream.js';
import { upstreamHeaders } from './identity.js';

export const MMS = 'application/vnd.wap.mms-message';

function tryDecode(b: Uint8Array): MmsPdu | { code: string } {
  try {
    return decode(b);
  } catch (e) {
    if (isMmsError(e)) return { code: e.code };
    throw e;
  }
}

function leavesOf(parts: readonly MmsPart[], prefix: number[], out: Leaf[]): void {
  parts.forEach((p, i) => {
    const path = [...prefix, i];
    if (p.children !== null) {
      leavesOf(p.children, path, out);
      return;
    }
    // Every reading of the part's headers (ours, Android's, MediaTek's, mmsd's): each encoding is decoded,
    // each name is held against the file filter (issue 14 class 1).
    const info = partInfo(p);
    const first = [info.name, info.filename, info.contentLocation].filter((n) => n !== null);
    out.push({
      id: path.map((x) => x + 1).join('.'), path, data: p.data, decoded: null, contentType: p.contentType.mediaType,
      names: [...new Set([...first, ...info.names, ...info.filenames, ...info.contentLocations])],
      encodings: info.transferEncodings, unscannable: null,
    });
  });
}

/** Every leaf part (nested multiparts walked), a non-multipart body as one target, and octets no part owns. */
export function pduLeaves(pdu: MmsPdu): Leaf[] {
  const list: Leaf[] = [];
  if (pdu.parts !== null) leavesOf(pdu.parts, [], list);
  else if (pdu.body !== null && pdu.body.length > 0) {
    const contentType = pdu.contentType?.mediaType ?? '';
    list.push({
      id: '1', path: null, data: pdu.body, decoded: null, names: [], contentType, encodings: [], unscannable: null,
    });
  }
  for (const u of pdu.unparsed) {
    if (pdu.body === null && u.offset < pdu.bodyOffset) continue;
    const from = u.offset - pdu.bodyOffset;
    list.push({
      id: `unparsed@${u.offset}`, path: null, data: (pdu.body ?? new Uint8Array(0)).subarray(from, from + u.length),
      decoded: null, names: [], contentType: 'application/octet-stream', encodings: [], unscannable: null,
    });
  }
  return list;
}

/** Duplicate fingerprint of an MM1 message: the part bytes and the subject (not the headers). */
export function contentChecksum(pdu: MmsPdu): string {
  const parts = pdu.parts !== null ? pdu.parts.map((p) => p.data) : pdu.body !== null ? [pdu.body] : [];
  return checksumOf([...parts, encodedStrings(pdu, FIELD.SUBJECT)[0]?.text ?? '']);
}

/**
 * The envelope of a PDU. On a send the sender is the MSISDN a trusted gateway vouched for, else the
 * PDU's From; on a retrieve it is the message's From (the MSISDN header names who downloads). A send's
 * Message-ID is the MMSC's to give (m-send-conf): one the handset wrote into its m-send-req is not taken.
 */
function envelopeOf(ex: Exchange, pdu: MmsPdu): Envelope {
  const from = wellKnown(pdu, FIELD.FROM);
  const claimed = from?.kind === 'from' && from.address !== null ? from.address.text : null;
  const vouched = ex.session.direction === 'outgoing' && ex.msisdn !== null;
  const to = encodedStrings(pdu, FIELD.TO).map((a) => a.text);
  const others = [...encodedStrings(pdu, FIELD.CC), ...encodedStrings(pdu, FIELD.BCC)].map((a) => a.text);
  return {
    msgtype: messageTypeName(pdu.messageType), transactionId: transactionId(pdu),
    messageId: pdu.messageType === MessageType.SEND_REQ ? null : textHeader(pdu, FIELD.MESSAGE_ID),
    sender: vouched ? ex.msisdn : claimed, senderVouched: vouched, to, recipients: [...to, ...others],
    subject: encodedStrings(pdu, FIELD.SUBJECT)[0]?.text ?? null,
  };
}

function inspectionOf(ex: Exchange, pdu: MmsPdu, body: Uint8Array): Inspection {
  const { config } = ex.ctx;
  const envelope = envelopeOf(ex, pdu);
  const isSend = ex.session.direction === 'outgoing' && pdu.messageType === MessageType.SEND_REQ;
  const sender = envelope.sender;
  const floodKey = (): string | null => (sender === null ? null : normalizeAddress(sender, config.msisdnPrefixes));
  const targets = pduLeaves(pdu);
  return {
    envelope,
    // Whatever the message type (an unknown one, m-notifyresp-ind, m-mbox-view-conf …): a PDU that carries
    // a body is scanned, because the receiver's parser may well read it (issue 14 class 7).
    targets,
    listed: isSend,
    counts: isSend
      ? [
        { kind: 'flood', thresholds: config.bulk.flood, key: floodKey },
        { kind: 'dupe', thresholds: config.bulk.dupe, key: () => contentChecksum(pdu) },
      ]
      : [],
    // Uploads by content (the same bytes retried from anywhere), downloads by URL (the handset's retries).
    cacheKey: ex.session.direction === 'outgoing' ? `sha:${contentKey(body, targets)}` : `url:${ex.path ?? ''}`,
    rebuild: (reps) => rebuild(pdu, reps),
  };
}

/** The message with blocked parts replaced by text parts; null when one is a pseudo-part (no part to replace). */
function rebuild(pdu: MmsPdu, reps: readonly Replacement[]): Uint8Array | null {
  const byPath = new Map<string, Replacement>();
  for (const r of reps) {
    if (r.target.path === null) return null;
    byPath.set(r.target.path.join('.'), r);
  }
  return reencodeWithParts(pdu, (_part, path) => {
    const r = byPath.get(path.join('.'));
    return r === undefined ? undefined : textPart(r.text, `${r.target.names[0] ?? `part-${r.target.id}`}.removed.txt`);
  });
}

/** The Message-ID of the MMSC's answer to a send (m-send-conf); null when it is no PDU or names none. */
export function confMessageId(status: number, contentType: string, body: Buffer): string | null {
  if (status < 200 || status > 299 || contentType.split(';')[0]?.trim().toLowerCase() !== MMS) return null;
  const pdu = tryDecode(body);
  return 'code' in pdu ? null : textHeader(pdu, FIELD.MESSAGE_ID);
}

/** What MM1 adapters share: reading PDUs, echoing their transaction and version. */
abstract class Mm1Adapter {
  protected version: number | null = null;

  constructor(protected readonly ex: Exchange) {}

  read(body: Buffer): Inspection | { code: string } {
    const pdu = tryDecode(body);
    if ('code' in pdu) return pdu;
    this.version = mmsVersion(pdu);
    return inspectionOf(this.ex, pdu, body);
  }

  peek(head: Buffer): Envelope | null {
    const pdu = tryDecode(head);
    if ('code' in pdu) return null;
    this.version = mmsVersion(pdu);
    return envelopeOf(this.ex, pdu);
  }

  protected send(pdu: Uint8Array, status = 200): void {
    void this.ex.reply.code(status).type(MMS).send(Buffer.from(pdu.buffer, pdu.byteOffset, pdu.byteLength));
  }

  protected plain(status: number, text: string): void {
    const r = this.ex.reply.code(status).header('connection', 'close').type('text/plain');
    if (status === 503) r.header('retry-after', String(RETRY_AFTER_S));
    void r.send(`mmsguard: ${text}\n`);
  }

}

class Mm1Send extends Mm1Adapter implements Adapter {
  constructor(ex: Exchange, readonly transfer: Upload) {
    super(ex);
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
        // The records name the id the sender was given, so a complaint quoting it can be traced.
        const messageId = `mmsguard-${Date.now().toString(36)}`;
        ex.identify(messageId);
        ex.finish(v, { status: 200 });
        return this.conf(ResponseStatus.OK, null, messageId);
      }
      case 'refuse':
      case 'transient': {
        t.cut(o.reason);
        if (r.kind === 'oversize') t.drain(r.rest);
        const row = replyRow(o.reason).send;
        ex.finish(v, { status: 'http' in row ? row.http : 200 });
        if (v.notice) this.notice(v);
        if ('http' in row) {
          return this.plain(row.http, o.reason === 'busy' ? 'busy, retry later' : v.reason ?? 'bad request');
        }
        return this.conf(row.status, ex.ctx.text(row.text, { ...ex.vars(), ...v.vars }));
      }
    }
  }

  private conf(status: number, text: string | null, messageId: string | null = null): void {
    const tid = this.ex.session.transactionid;
    this.send(buildSendConf({ transactionId: tid, version: this.version, status, text, messageId }));
  }

  /** The MMSC's answer, or the transient m-send-conf when it cannot be reached (0xC0 timeout, else 0xC3). */
  private relay(v: Verdict, pending: ReturnType<Upload['commit']>): Promise<void> {
    return relay(this.ex, v, pending, (kind, why) => {
      this.ex.finish(v, { status: 200, error: why });
      const status = kind === 'timeout'
        ? ResponseStatus.ERROR_TRANSIENT_FAILURE
        : ResponseStatus.ERROR_TRANSIENT_NETWORK_PROBLEM;
      this.conf(status, this.ex.ctx.text('send.retry', this.ex.vars()));
    }, confMessageId);
  }

  /** Tells a blocked sender with an MMS of their own (SENDER_NOTICE_URL), from the notice templates. */
  private notice(v: Verdict): void {
    const { ctx, envelope: e } = this.ex;
    if (ctx.senderNotices === null || e === null) return;
    const recipients = e.recipients.map((a) => a.replace(/\/TYPE=.*$/i, '')).join(', ');
    const vars = { ...v.vars, sender: e.sender, recipient: recipients || null, subject: e.subject };
    const to = e.sender === null ? null : normalizeAddress(e.sender, ctx.config.msisdnPrefixes);
    ctx.senderNotices.send(to, ctx.text('notice.subject', vars), ctx.text('notice.text', vars));
  }
}

class Mm1Retrieve extends Mm1Adapter implements Adapter {
  /** An error answer (not 2xx) whose body is no PDU: its status is relayed, its bytes are not. */
  private withheld = false;

  constructor(ex: Exchange, readonly transfer: Download, private readonly status: number) {
    super(ex);
  }

  override read(body: Buffer): Inspection | { code: string } {
    const m = super.read(body);
    if (!('code' in m) || (this.status >= 200 && this.status < 300)) return m;
    // A handset's parser may be laxer than ours: bytes we cannot read are not relayed either.
    this.withheld = true;
    const envelope = {
      msgtype: null, transactionId: null, sender: null, senderVouched: false, to: [], recipients: [], subject: null,
    };
    return { envelope, targets: [], listed: false, counts: [], cacheKey: '', rebuild: () => null };
  }

  render(v: Verdict, r: BodyResult): void {
    const { ex, transfer: t } = this;
    const o = v.outcome;
    if (this.withheld && o.kind === 'forward') {
      t.cut('withheld');
      ex.finish({ ...v, reason: `upstream status ${this.status} (body withheld: not a PDU)` }, { status: this.status });
      return this.plain(this.status, `the MMSC answered ${this.status}`);
    }
    switch (o.kind) {
      case 'forward':
      case 'rewrite':
        ex.finish(v, { status: 200 });
        return t.commit(o.kind === 'rewrite' ? v.rewritten : null);
      case 'forward-unscanned':
        ex.finish(v, { status: 200 });
        return r.kind === 'oversize' ? t.pass(r.head, r.rest) : t.commit(null);
      case 'abort':
      case 'hide':
      case 'refuse':
      case 'transient': {
        if (r.kind === 'oversize') t.drain(r.rest);
        else if (r.kind === 'budget') t.drain();
        if (t.started) {
          // Bytes are out: the verdict can only cut (the pipeline already refused REMOVE_BLOCKED's rewrite).
          t.cut(o.kind);
          const reason = `${v.reason ?? o.kind} (comforting had started: connection cut)`;
          return ex.finish({ ...v, reason }, { status: 200 });
        }
        t.cut(o.kind);
        if (o.kind === 'abort') {
          ex.finish(v, { status: 502 });
          return this.plain(502, 'upstream response incomplete');
        }
        const row = replyRow(o.kind === 'hide' ? 'denied' : o.reason).retrieve;
        ex.finish(v, { status: 'http' in row ? row.http : 200 });
        if ('http' in row) {
          const undecodable = o.kind === 'refuse' && o.reason === 'malformed';
          return this.plain(row.http, undecodable ? 'the MMSC sent an undecodable message' : v.reason ?? 'error');
        }
        const text = ex.ctx.text(row.text, { ...ex.vars(), ...v.vars });
        return this.send(buildRetrieveConfError({
          transactionId: ex.session.transactionid, version: this.version, status: row.status, text,
          date: Date.now() / 1000,
        }));
      }
    }
  }
}

/**
 * The headers of a retrieval. A `Range` (or `If-Range`) would make the MMSC answer part of a message, which
 * cannot be scanned as a whole: the MMSC always sends all of it, and we answer the handset in full.
 */
function retrieveHeaders(ctx: ProxyContext, req: FastifyRequest): Record<string, string | string[]> {
  const headers = upstreamHeaders(ctx, req);
  delete headers['range'];
  delete headers['if-range'];
  return headers;
}

function contentLength(req: FastifyRequest): number | null | 'bad' {
  const v = req.headers['content-length'];
  if (v === undefined) return null;
  return /^\d+$/.test(v) ? Number(v) : 'bad';
}

async function handleSend(ctx: ProxyContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const ex = new Exchange(ctx, req, reply, 'MM1', 'outgoing', ctx.mm1Upstream);
  if (ex.refuseBadTarget()) return reply;
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const cl = contentLength(req);
  if (type !== MMS || cl === 'bad') {
    const status = cl === 'bad' ? 400 : 415;
    const reason = cl === 'bad' ? 'bad Content-Length' : `content type ${type ?? 'none'} is not ${MMS}`;
    ex.finish(verdictOf({ kind: 'refuse', reason: 'bad-request' }, 0, { reason }), { status });
    return reply.code(status).header('connection', 'close').type('text/plain').send(`mmsguard: expected ${MMS}\n`);
  }
  const t = new Upload(ex, ctx.config.mm1, cl, ctx.mm1Upstream, upstreamHeaders(ctx, req));
  await runPipeline(ex, new Mm1Send(ex, t));
  return reply;
}

async function handleRetrieve(ctx: ProxyContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const ex = new Exchange(ctx, req, reply, 'MM1', 'incoming', ctx.mm1Upstream);
  if (ex.refuseBadTarget() || ex.path === null) return reply;
  const cached = ctx.verdicts.get(`url:${ex.path}`);
  if (cached !== null) {
    // A retry of a download that was blocked (and maybe cut mid-comforting): answered at once.
    const reason = `cached verdict: ${cached.reason}`;
    const transactionId = cached.transactionId ?? null;
    const nobody = { sender: null, senderVouched: false, to: [], recipients: [], subject: null };
    ex.describe({ msgtype: 'm-retrieve-conf', transactionId, messageId: cached.messageId ?? null, ...nobody });
    const v = verdictOf({ kind: 'refuse', reason: 'content' }, 0, { subtype: cached.subtype, reason });
    ex.finish(v, { status: 200 });
    const text = ctx.text('retrieve.blocked', { ...ex.vars(), reason: cached.reason });
    const conf = buildRetrieveConfError({ transactionId, text, date: Date.now() / 1000 });
    return reply.code(200).type(MMS).send(Buffer.from(conf));
  }
  const started = performance.now();
  let res;
  try {
    res = await ctx.mm1Upstream.request({ method: 'GET', path: ex.path, headers: retrieveHeaders(ctx, req) });
  } catch (e) {
    const kind = classify(e);
    ctx.metrics.upstreamErrors.inc({ service: 'MM1', kind });
    const status = kind === 'timeout' ? 504 : 502;
    ex.finish(verdictOf({ kind: 'forward' }, 0), { status, error: `upstream ${kind}: ${(e as Error).message}` });
    const what = kind === 'timeout' ? 'timed out' : 'unreachable';
    return reply.code(status).type('text/plain').send(`mmsguard: MMSC ${what}\n`);
  }
  const headers = responseHeaders(res.headers);
  if (res.headers['content-length'] === '0' || [204, 304].includes(res.statusCode)) {
    res.body.resume();
    const v = verdictOf({ kind: 'forward' }, 0, { reason: `upstream status ${res.statusCode}, no body` });
    ex.finish(v, { status: res.statusCode });
    return reply.code(res.statusCode).headers(headers).send();
  }
  // Whatever the status (206, 203, 404 …): a body that could be a PDU goes through the pipeline.
  const t = new Download(ex, ctx.config.mm1, res, headers);
  await runPipeline(ex, new Mm1Retrieve(ex, t, res.statusCode));
  ctx.metrics.upstreamSeconds.observe({ service: 'MM1', method: 'GET' }, (performance.now() - started) / 1000);
  return reply;
}

/** The routes; each message is handled under the generation in force when it arrives (`rt.run` pins it). */
export function registerMm1(app: FastifyInstance, rt: Pick<ProxyRuntime, 'run'>): void {
  app.removeAllContentTypeParsers();
  // The body stays a stream: the transfer sizes, counts and bounds it.
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
  app.post('/*', (req, reply) => rt.run((ctx) => handleSend(ctx, req, reply)));
  app.get('/*', (req, reply) => rt.run((ctx) => handleRetrieve(ctx, req, reply)));
}
