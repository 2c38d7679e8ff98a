/**
 * Comforted MM1 transfers (CONTRACT §3 "Comforting").
 *
 * Server comforting (send): the request to the MMSC starts at once with the
 * original Content-Length and a Comforter as its body, so the MMSC gets
 * AMOUNT bytes every INTERVAL while the handset is still uploading and while
 * the message is scanned. Clean: the rest follows. Blocked: the upstream
 * request is cut (the MMSC never sees a complete body) and the handset gets
 * the block reply.
 *
 * Client comforting (retrieve): the response head goes to the handset with the
 * first comfort byte, after INTERVAL (so a verdict reached before that still
 * gets the normal error PDU), then AMOUNT bytes every INTERVAL while the
 * MMSC's response is buffered and scanned. Clean: the rest follows. Blocked
 * after the first byte: the connection is destroyed (an incomplete transfer),
 * and the URL is remembered so the retry is refused at once.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { Comforter } from '@mmsguard/comfort';
import {
  ResponseStatus, RetrieveStatus, buildRetrieveConfError, buildSendConf, mmsVersion, transactionId, type MmsPdu,
} from 'wap-mms-decoder';
import { readBody } from '../body.js';
import { bulkCheck } from './bulk.js';
import type { ProxyContext } from '../context.js';
import type { Session } from '../records.js';
import { responseHeaders } from '../upstream.js';
import {
  CONTENT_PDUS, blockVars, describePdu, noticeToSender, sessionVars, handleBodyFailure, logVerdict, reasonText, relaySend, rewrite, scanAndDecide, sendPdu, tryDecode, upstreamHeaders, type Outcome,
} from './mm1-shared.js';

function comfortFields(c: Comforter): Pick<Outcome, 'comfort_started' | 'comfort_bytes'> {
  return { comfort_started: c.started, comfort_bytes: c.sent };
}

export async function handleComfortedSend(
  ctx: ProxyContext, req: FastifyRequest, reply: FastifyReply, s: Session, t0: number, cl: number,
): Promise<FastifyReply> {
  const { mm1 } = ctx.config;
  let soFar: Uint8Array = new Uint8Array(0);
  const comforter = new Comforter(ctx.comfort, () => soFar, { intervalMs: mm1.comfortIntervalMs, amount: mm1.comfortAmount });
  comforter.output.on('error', () => undefined);
  const upstream: Promise<Dispatcher.ResponseData> = ctx.mm1Upstream.request({
    method: 'POST', path: req.url, headers: upstreamHeaders(ctx, req), body: comforter.output, contentLength: cl,
  });
  // Settled later; a cut makes it reject, which is expected.
  upstream.catch(() => undefined);
  const r = await readBody(req.raw, { declaredLength: cl, limit: mm1.oversizeLimit, budget: ctx.budget, onProgress: (v) => (soFar = v) });
  ctx.metrics.inflight.set(ctx.budget.inUse);
  const cut = (why: string): void => comforter.cut(why);
  try {
    const failed = handleBodyFailure(ctx, s, t0, r, reply, 'send');
    if (failed !== null || r.kind !== 'complete') {
      cut('upload failed');
      return failed ?? reply;
    }
    comforter.inputComplete();
    const pdu = tryDecode(r.body);
    const bodyKey = `sha:${hashOf(r.body)}`;
    const hit = ctx.verdicts.get(bodyKey);
    if (pdu === null || hit !== null) {
      cut(pdu === null ? 'malformed' : 'known content');
      const o = { action: 'blocked', subtype: pdu === null ? 'malformed' : hit?.subtype ?? null, reason: pdu === null ? 'undecodable PDU' : `cached verdict: ${hit?.reason ?? ''}`, bytes: r.body.length, status: 200, ...comfortFields(comforter) };
      if (pdu !== null) describePdu(ctx, s, pdu, req);
      logVerdict(ctx, s, t0, o);
      const status = pdu === null ? ResponseStatus.ERROR_PERMANENT_MESSAGE_FORMAT_CORRUPT : ResponseStatus.ERROR_PERMANENT_CONTENT_NOT_ACCEPTED;
      return sendPdu(reply, buildSendConf({ transactionId: pdu !== null ? transactionId(pdu) : null, version: pdu !== null ? mmsVersion(pdu) : null, status, text: pdu === null ? ctx.text('send.corrupt', sessionVars(s)) : ctx.text('send.blocked', { ...sessionVars(s), reason: hit?.reason ?? null }) }));
    }
    describePdu(ctx, s, pdu, req);
    const bulkHit = pdu.messageType === 0x80 ? await bulkCheck(ctx, s, pdu, req) : null;
    if (bulkHit?.reply === null) {
      comforter.release();
      return await relayUpstream(ctx, s, t0, reply, upstream, { action: 'forwarded', subtype: 'msisdn-filter', reason: bulkHit.reason, bytes: r.body.length }, comforter);
    }
    if (bulkHit !== null) {
      cut(bulkHit.subtype);
      if (bulkHit.notice) noticeToSender(ctx, req, pdu, { ...sessionVars(s), reason: bulkHit.subtype === 'msisdn-filter' ? 'service denied' : 'too many messages' });
      logVerdict(ctx, s, t0, { action: 'blocked', subtype: bulkHit.subtype, reason: bulkHit.reason, bytes: r.body.length, status: 200, ...comfortFields(comforter) });
      return sendPdu(reply, bulkHit.reply);
    }
    const scanned = CONTENT_PDUS.has(pdu.messageType) ? await scanAndDecide(ctx, s, pdu, () => !comforter.started) : null;
    const base = { parts: scanned?.parts.length ?? 0, bytes: r.body.length };
    if (scanned === null || scanned.decision.action === 'forward') {
      comforter.release();
      return await relayUpstream(ctx, s, t0, reply, upstream, { action: 'forwarded', ...base }, comforter);
    }
    const { parts, decision } = scanned;
    const reason = reasonText(parts, decision);
    const subtype = decision.events.find((e) => e.action !== 'monitored')?.subtype ?? null;
    const conf = (status: number, text: string): Uint8Array => buildSendConf({ transactionId: transactionId(pdu), version: mmsVersion(pdu), status, text });
    cut(decision.action);
    if (decision.action === 'transient') {
      logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'scan-error', reason: 'scan failed, fail-closed', ...base, status: 200, ...comfortFields(comforter) });
      return sendPdu(reply, conf(ResponseStatus.ERROR_TRANSIENT_FAILURE, ctx.text('send.scan-error', sessionVars(s))));
    }
    if (decision.action === 'rewrite') {
      // No byte has reached the MMSC yet: the rewritten message goes as a fresh request.
      const rewritten = rewrite(ctx, s, pdu, parts, decision);
      if (rewritten !== null) {
        const res = ctx.mm1Upstream.request({ method: 'POST', path: req.url, headers: upstreamHeaders(ctx, req), body: rewritten, contentLength: rewritten.length });
        return await relayUpstream(ctx, s, t0, reply, res, { action: 'attachment-removed', subtype, reason, ...base }, comforter);
      }
    }
    ctx.verdicts.set(bodyKey, { subtype, reason });
    logVerdict(ctx, s, t0, { action: 'blocked', subtype, reason, ...base, status: 200, ...comfortFields(comforter) });
    noticeToSender(ctx, req, pdu, blockVars(s, parts, decision));
    return sendPdu(reply, conf(ResponseStatus.ERROR_PERMANENT_CONTENT_NOT_ACCEPTED, ctx.text('send.blocked', blockVars(s, parts, decision))));
  } finally {
    ctx.budget.give(r.reserved);
    ctx.metrics.inflight.set(ctx.budget.inUse);
  }
}

function hashOf(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function relayUpstream(
  ctx: ProxyContext, s: Session, t0: number, reply: FastifyReply, upstream: Promise<Dispatcher.ResponseData>, outcome: Outcome, c: Comforter,
): Promise<FastifyReply> {
  return relaySend(ctx, s, t0, reply, upstream, outcome, () => comfortFields(c));
}

export async function handleComfortedRetrieve(
  ctx: ProxyContext, req: FastifyRequest, reply: FastifyReply, s: Session, t0: number, res: Dispatcher.ResponseData,
): Promise<FastifyReply> {
  const { mm1 } = ctx.config;
  const headers = responseHeaders(res.headers);
  const cl = Number(res.headers['content-length']);
  const declared = Number.isFinite(cl) ? cl : null;
  let soFar: Uint8Array = new Uint8Array(0);
  const raw = reply.raw;
  const comforter = new Comforter(ctx.comfort, () => soFar, {
    intervalMs: mm1.comfortIntervalMs,
    amount: mm1.comfortAmount,
    onFirstByte: () => {
      // The head goes with the first comfort byte: the original Content-Length, or chunked if the MMSC was chunked.
      reply.hijack();
      raw.writeHead(200, headers);
      comforter.output.pipe(raw);
    },
  });
  comforter.output.on('error', () => undefined);
  const r = await readBody(res.body, { declaredLength: declared, limit: mm1.oversizeLimit, budget: ctx.budget, onProgress: (v) => (soFar = v) });
  ctx.metrics.inflight.set(ctx.budget.inUse);
  const breakOff = (why: string, o: Outcome): FastifyReply => {
    comforter.cut(why);
    raw.destroy();
    logVerdict(ctx, s, t0, { ...o, ...comfortFields(comforter) });
    return reply;
  };
  try {
    if (r.kind !== 'complete') {
      if (comforter.started) {
        if (r.kind === 'oversize') r.rest.destroy();
        return breakOff('transfer failed', { action: r.kind === 'oversize' ? 'blocked' : 'aborted', subtype: r.kind === 'oversize' ? 'oversize' : null, reason: `comforted download ended: ${r.kind}` });
      }
      comforter.cut('transfer failed');
      if (r.kind === 'oversize') r.rest.destroy();
      const failed = handleBodyFailure(ctx, s, t0, r, reply, 'retrieve');
      if (failed !== null) return failed;
      logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'oversize', reason: `message over ${mm1.oversizeLimit} bytes`, status: 200 });
      return sendPdu(reply, buildRetrieveConfError({ text: ctx.text('retrieve.oversize', { ...sessionVars(s), limit: mm1.oversizeLimit }), date: Date.now() / 1000 }));
    }
    comforter.inputComplete();
    const pdu: MmsPdu | null = tryDecode(r.body);
    if (pdu !== null) describePdu(ctx, s, pdu, req);
    const scanned = pdu !== null && CONTENT_PDUS.has(pdu.messageType) ? await scanAndDecide(ctx, s, pdu, () => !comforter.started) : null;
    const base = { parts: scanned?.parts.length ?? 0, bytes: r.body.length };
    if (pdu !== null && (scanned === null || scanned.decision.action === 'forward')) {
      logVerdict(ctx, s, t0, { action: 'forwarded', ...base, status: 200, ...comfortFields(comforter) });
      if (comforter.started) {
        comforter.release();
        return reply;
      }
      comforter.cut('not needed');
      return reply.code(200).headers(headers).send(r.body);
    }
    const reason = pdu === null ? 'upstream sent an undecodable PDU' : reasonText(scanned?.parts ?? [], scanned!.decision);
    const subtype = pdu === null ? 'malformed' : scanned?.decision.events.find((e) => e.action !== 'monitored')?.subtype ?? null;
    if (scanned?.decision.action !== 'transient') ctx.verdicts.set(`url:${req.url}`, { subtype, reason });
    if (comforter.started) {
      // Bytes are out: the verdict can only cut (scanAndDecide already refused REMOVE_BLOCKED's rewrite).
      return breakOff('blocked', { action: 'blocked', subtype, reason: `${reason} (comforting had started: connection cut)`, ...base, status: 200 });
    }
    comforter.cut('blocked before the first byte');
    if (pdu === null) {
      logVerdict(ctx, s, t0, { action: 'blocked', subtype, reason, ...base, status: 502 });
      return reply.code(502).type('text/plain').send('mmsguard: the MMSC sent an undecodable message\n');
    }
    const { parts, decision } = scanned!;
    const errorConf = (status: number, text: string): Uint8Array => buildRetrieveConfError({ transactionId: transactionId(pdu), version: mmsVersion(pdu), status, text, date: Date.now() / 1000 });
    if (decision.action === 'transient') {
      logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'scan-error', reason: 'scan failed, fail-closed', ...base, status: 200, ...comfortFields(comforter) });
      return sendPdu(reply, errorConf(RetrieveStatus.ERROR_TRANSIENT_FAILURE, ctx.text('retrieve.scan-error', sessionVars(s))));
    }
    if (decision.action === 'rewrite') {
      const rewritten = rewrite(ctx, s, pdu, parts, decision);
      if (rewritten !== null) {
        logVerdict(ctx, s, t0, { action: 'attachment-removed', subtype, reason, ...base, status: 200, ...comfortFields(comforter) });
        return sendPdu(reply, rewritten);
      }
    }
    logVerdict(ctx, s, t0, { action: 'blocked', subtype, reason, ...base, status: 200, ...comfortFields(comforter) });
    return sendPdu(reply, errorConf(RetrieveStatus.ERROR_PERMANENT_CONTENT_UNSUPPORTED, ctx.text('retrieve.blocked', blockVars(s, parts, decision))));
  } finally {
    ctx.budget.give(r.reserved);
    ctx.metrics.inflight.set(ctx.budget.inUse);
  }
}
