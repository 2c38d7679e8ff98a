/**
 * MM1: handsets POST PDUs (m-send-req and friends) and GET messages (the MMSC
 * answers m-retrieve-conf). Every message is buffered, decoded, scanned and
 * then forwarded byte-identical, refused with the PDU of CONTRACT §3, or
 * rewritten without its blocked parts. Never silently dropped: every path ends
 * in a reply or a cut connection, and a verdict record.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  MessageType, ResponseStatus, RetrieveStatus, buildRetrieveConfError, buildSendConf, decode, isMmsError, mmsVersion, transactionId,
} from 'wap-mms-decoder';
import { readBody } from '../body.js';
import type { ProxyContext } from '../context.js';
import { utmRecord, type Session } from '../records.js';
import { classify, responseHeaders } from '../upstream.js';
import {
  CONTENT_PDUS, MMS, blockVars, contentLength, noticeToSender, sessionVars, describePdu, discard, handleBodyFailure, logVerdict, newSession, reasonText, rewrite,
  relaySend, scanAndDecide, sendPdu, tryDecode, upstreamHeaders, type Outcome,
} from './mm1-shared.js';
import { handleComfortedRetrieve, handleComfortedSend } from './mm1-comfort.js';
import { bulkCheck } from './bulk.js';

async function handleSend(ctx: ProxyContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const t0 = performance.now();
  const s = newSession(ctx, req, 'outgoing');
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const cl = contentLength(req);
  if (type !== MMS || cl === 'bad') {
    const status = cl === 'bad' ? 400 : 415;
    logVerdict(ctx, s, t0, { action: 'rejected', reason: cl === 'bad' ? 'bad Content-Length' : `content type ${type ?? 'none'} is not ${MMS}`, status });
    return reply.code(status).header('connection', 'close').type('text/plain').send(`mmsguard: expected ${MMS}\n`);
  }
  const { mm1 } = ctx.config;
  if (mm1.serverComfort && cl !== null && cl <= mm1.oversizeLimit) return handleComfortedSend(ctx, req, reply, s, t0, cl);
  const r = await readBody(req.raw, { declaredLength: cl, limit: mm1.oversizeLimit, budget: ctx.budget });
  ctx.metrics.inflight.set(ctx.budget.inUse);
  try {
    const failed = handleBodyFailure(ctx, s, t0, r, reply, 'send');
    if (failed !== null) return failed;
    if (r.kind === 'oversize') {
      const head = tryDecode(r.head);
      if (head !== null) describePdu(ctx, s, head, req);
      const size = cl ?? r.head.length;
      const note = `(${cl !== null ? `${cl} bytes` : `more than ${mm1.oversizeLimit} bytes`}, limit ${mm1.oversizeLimit})`;
      if (mm1.oversizeAction === 'block') {
        ctx.utm(utmRecord(s, 'oversize', 'blocked', { filename: null, filetype: null, filesize: size, sha256: null }, null, note));
        logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'oversize', reason: `message over ${mm1.oversizeLimit} bytes`, status: 200 });
        // Nothing more is buffered, but the rest of the upload is read and dropped: a client still
        // sending when the connection closes gets a reset instead of our answer.
        r.rest.on('error', () => undefined);
        r.rest.resume();
        return sendPdu(reply, buildSendConf({
          transactionId: head !== null ? transactionId(head) : null, version: head !== null ? mmsVersion(head) : null,
          status: ResponseStatus.ERROR_PERMANENT_CONTENT_NOT_ACCEPTED, text: ctx.text('send.oversize', { ...sessionVars(s), limit: mm1.oversizeLimit, size: cl }),
        }));
      }
      ctx.utm(utmRecord(s, 'oversize', 'passthrough', { filename: null, filetype: null, filesize: size, sha256: null }, null, note));
      const rest = r.rest;
      const stream = Readable.from((async function* () {
        if (r.head.length > 0) yield r.head;
        for await (const c of rest as AsyncIterable<Buffer>) yield c;
      })());
      return await forward(ctx, s, t0, req, reply, stream, cl, { action: 'passthrough', subtype: 'oversize', reason: 'forwarded unscanned' });
    }
    if (r.kind !== 'complete') return reply;
    const pdu = tryDecode(r.body);
    if (pdu === null) {
      let code = 'MMS_ERR';
      try {
        decode(r.body);
      } catch (e) {
        code = isMmsError(e) ? e.code : code;
      }
      ctx.utm(utmRecord(s, 'malformed', 'blocked', { filename: null, filetype: null, filesize: r.body.length, sha256: null }, null, `(${code})`));
      logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'malformed', reason: code, bytes: r.body.length, status: 200 });
      return sendPdu(reply, buildSendConf({ transactionId: null, status: ResponseStatus.ERROR_PERMANENT_MESSAGE_FORMAT_CORRUPT, text: ctx.text('send.corrupt', sessionVars(s)) }));
    }
    describePdu(ctx, s, pdu, req);
    if (!CONTENT_PDUS.has(pdu.messageType)) {
      return await forward(ctx, s, t0, req, reply, r.body, r.body.length, { action: 'forwarded', reason: 'no content to scan', bytes: r.body.length });
    }
    const bulkHit = pdu.messageType === MessageType.SEND_REQ ? await bulkCheck(ctx, s, pdu, req) : null;
    if (bulkHit?.reply === null) {
      return await forward(ctx, s, t0, req, reply, r.body, r.body.length, { action: 'forwarded', subtype: 'msisdn-filter', reason: bulkHit.reason, bytes: r.body.length });
    }
    if (bulkHit !== null) {
      if (bulkHit.notice) noticeToSender(ctx, req, pdu, { ...sessionVars(s), reason: bulkHit.subtype === 'msisdn-filter' ? 'service denied' : 'too many messages' });
      logVerdict(ctx, s, t0, { action: 'blocked', subtype: bulkHit.subtype, reason: bulkHit.reason, bytes: r.body.length, status: 200 });
      return sendPdu(reply, bulkHit.reply);
    }
    const { parts, decision } = await scanAndDecide(ctx, s, pdu);
    const base = { parts: parts.length, bytes: r.body.length };
    const conf = (status: number, text: string): Uint8Array => buildSendConf({ transactionId: transactionId(pdu), version: mmsVersion(pdu), status, text });
    const subtype = decision.events.find((e) => e.action !== 'monitored')?.subtype ?? null;
    switch (decision.action) {
      case 'forward':
        return await forward(ctx, s, t0, req, reply, r.body, r.body.length, { action: 'forwarded', ...base });
      case 'transient':
        logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'scan-error', reason: 'scan failed, fail-closed', ...base, status: 200 });
        return sendPdu(reply, conf(ResponseStatus.ERROR_TRANSIENT_FAILURE, ctx.text('send.scan-error', sessionVars(s))));
      case 'rewrite': {
        const rewritten = rewrite(ctx, s, pdu, parts, decision);
        if (rewritten !== null) {
          return await forward(ctx, s, t0, req, reply, rewritten, rewritten.length, { action: 'attachment-removed', subtype, reason: reasonText(parts, decision), ...base });
        }
        break;
      }
      case 'block':
        break;
    }
    logVerdict(ctx, s, t0, { action: 'blocked', subtype, reason: reasonText(parts, decision), ...base, status: 200 });
    noticeToSender(ctx, req, pdu, blockVars(s, parts, decision));
    return sendPdu(reply, conf(ResponseStatus.ERROR_PERMANENT_CONTENT_NOT_ACCEPTED, ctx.text('send.blocked', blockVars(s, parts, decision))));
  } finally {
    ctx.budget.give(r.reserved);
    ctx.metrics.inflight.set(ctx.budget.inUse);
  }
}

function forward(
  ctx: ProxyContext, s: Session, t0: number, req: FastifyRequest, reply: FastifyReply,
  body: Uint8Array | Readable, length: number | null, outcome: Outcome,
): Promise<FastifyReply> {
  const started = performance.now();
  const res = ctx.mm1Upstream.request({ method: 'POST', path: req.url, headers: upstreamHeaders(ctx, req), body, contentLength: length });
  return relaySend(ctx, s, t0, reply, res, outcome, undefined, started);
}

async function handleRetrieve(ctx: ProxyContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const t0 = performance.now();
  const s = newSession(ctx, req, 'incoming');
  const started = performance.now();
  const cached = ctx.verdicts.get(`url:${req.url}`);
  if (cached !== null) {
    // A retry of a download that was blocked (and maybe cut mid-comforting): answer at once.
    logVerdict(ctx, s, t0, { action: 'blocked', subtype: cached.subtype, reason: `cached verdict: ${cached.reason}`, status: 200 });
    return sendPdu(reply, buildRetrieveConfError({ text: ctx.text('retrieve.blocked', { ...sessionVars(s), reason: cached.reason }), date: Date.now() / 1000 }));
  }
  let res;
  try {
    res = await ctx.mm1Upstream.request({ method: 'GET', path: req.url, headers: upstreamHeaders(ctx, req) });
  } catch (e) {
    const kind = classify(e);
    ctx.metrics.upstreamErrors.inc({ service: 'MM1', kind });
    const status = kind === 'timeout' ? 504 : 502;
    logVerdict(ctx, s, t0, { action: 'error', reason: `upstream ${kind}: ${(e as Error).message}`, status });
    return reply.code(status).type('text/plain').send(`mmsguard: MMSC ${kind === 'timeout' ? 'timed out' : 'unreachable'}\n`);
  }
  const headers = responseHeaders(res.headers);
  if (res.statusCode !== 200) {
    logVerdict(ctx, s, t0, { action: 'forwarded', reason: `upstream status ${res.statusCode}`, status: res.statusCode });
    return reply.code(res.statusCode).headers(headers).send(res.body);
  }
  const { mm1 } = ctx.config;
  const cl = Number(res.headers['content-length']);
  if (mm1.clientComfort && !(Number.isFinite(cl) && cl > mm1.oversizeLimit)) return handleComfortedRetrieve(ctx, req, reply, s, t0, res);
  const r = await readBody(res.body, { declaredLength: Number.isFinite(cl) ? cl : null, limit: mm1.oversizeLimit, budget: ctx.budget });
  ctx.metrics.inflight.set(ctx.budget.inUse);
  ctx.metrics.upstreamSeconds.observe({ service: 'MM1', method: 'GET' }, (performance.now() - started) / 1000);
  try {
    const failed = handleBodyFailure(ctx, s, t0, r, reply, 'retrieve');
    if (failed !== null) {
      if (r.kind === 'budget') discard(res.body);
      return failed;
    }
    if (r.kind === 'oversize') {
      const head = tryDecode(r.head);
      if (head !== null) describePdu(ctx, s, head, req);
      const note = `(limit ${mm1.oversizeLimit} bytes)`;
      if (mm1.oversizeAction === 'block') {
        discard(r.rest);
        ctx.utm(utmRecord(s, 'oversize', 'blocked', { filename: null, filetype: null, filesize: Number.isFinite(cl) ? cl : null, sha256: null }, null, note));
        logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'oversize', reason: `message over ${mm1.oversizeLimit} bytes`, status: 200 });
        return sendPdu(reply, buildRetrieveConfError({
          transactionId: head !== null ? transactionId(head) : null, version: head !== null ? mmsVersion(head) : null,
          text: ctx.text('retrieve.oversize', { ...sessionVars(s), limit: mm1.oversizeLimit, size: Number.isFinite(cl) ? cl : null }), date: Date.now() / 1000,
        }));
      }
      ctx.utm(utmRecord(s, 'oversize', 'passthrough', { filename: null, filetype: null, filesize: Number.isFinite(cl) ? cl : null, sha256: null }, null, note));
      logVerdict(ctx, s, t0, { action: 'passthrough', subtype: 'oversize', reason: 'delivered unscanned', status: 200 });
      const rest = r.rest;
      return reply.code(200).headers(headers).send(Readable.from((async function* () {
        if (r.head.length > 0) yield r.head;
        for await (const c of rest as AsyncIterable<Buffer>) yield c;
      })()));
    }
    if (r.kind !== 'complete') return reply;
    const relay = (): FastifyReply => reply.code(200).headers(headers).send(r.body);
    const pdu = tryDecode(r.body);
    if (pdu === null) {
      // Not a PDU the handset could read either; still never relay unscanned bytes.
      logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'malformed', reason: 'upstream sent an undecodable PDU', bytes: r.body.length, status: 502 });
      return reply.code(502).type('text/plain').send('mmsguard: the MMSC sent an undecodable message\n');
    }
    describePdu(ctx, s, pdu, req);
    if (!CONTENT_PDUS.has(pdu.messageType)) {
      logVerdict(ctx, s, t0, { action: 'forwarded', reason: 'no content to scan', bytes: r.body.length, status: 200 });
      return relay();
    }
    const { parts, decision } = await scanAndDecide(ctx, s, pdu);
    const base = { parts: parts.length, bytes: r.body.length };
    const subtype = decision.events.find((e) => e.action !== 'monitored')?.subtype ?? null;
    const errorConf = (status: number, text: string): Uint8Array => buildRetrieveConfError({ transactionId: transactionId(pdu), version: mmsVersion(pdu), status, text, date: Date.now() / 1000 });
    switch (decision.action) {
      case 'forward':
        logVerdict(ctx, s, t0, { action: 'forwarded', ...base, status: 200 });
        return relay();
      case 'transient':
        logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'scan-error', reason: 'scan failed, fail-closed', ...base, status: 200 });
        return sendPdu(reply, errorConf(RetrieveStatus.ERROR_TRANSIENT_FAILURE, ctx.text('retrieve.scan-error', sessionVars(s))));
      case 'rewrite': {
        const rewritten = rewrite(ctx, s, pdu, parts, decision);
        if (rewritten !== null) {
          logVerdict(ctx, s, t0, { action: 'attachment-removed', subtype, reason: reasonText(parts, decision), ...base, status: 200 });
          return sendPdu(reply, rewritten);
        }
        break;
      }
      case 'block':
        break;
    }
    ctx.verdicts.set(`url:${req.url}`, { subtype, reason: reasonText(parts, decision) });
    logVerdict(ctx, s, t0, { action: 'blocked', subtype, reason: reasonText(parts, decision), ...base, status: 200 });
    return sendPdu(reply, errorConf(RetrieveStatus.ERROR_PERMANENT_CONTENT_UNSUPPORTED, ctx.text('retrieve.blocked', blockVars(s, parts, decision))));
  } finally {
    ctx.budget.give(r.reserved);
    ctx.metrics.inflight.set(ctx.budget.inUse);
  }
}

export function registerMm1(app: FastifyInstance, ctx: ProxyContext): void {
  app.removeAllContentTypeParsers();
  // The body stays a stream: we size, count and bound it ourselves (body.ts).
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
  app.post('/*', (req, reply) => handleSend(ctx, req, reply));
  app.get('/*', (req, reply) => handleRetrieve(ctx, req, reply));
}
