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
  FIELD, MessageType, ResponseStatus, RetrieveStatus, buildRetrieveConfError, buildSendConf, decode, encodedStrings,
  isMmsError, messageTypeName, mmsVersion, reencodeWithParts, textPart, transactionId, wellKnown, type MmsPdu,
} from 'wap-mms-decoder';
import { decideMessage, type MessageDecision } from '@mmsguard/policy';
import { readBody, type BodyResult } from '../body.js';
import type { ProxyContext } from '../context.js';
import { scanPdu, type ScannedPart } from '../inspect/mms.js';
import { utmRecord, verdictRecord, type Session } from '../records.js';
import { classify, forwardHeaders, responseHeaders } from '../upstream.js';

const MMS = 'application/vnd.wap.mms-message';
const MSISDN_HEADER = 'x-wap-network-client-msisdn';
const CONTENT_PDUS = new Set<number>([MessageType.SEND_REQ, MessageType.FORWARD_REQ, MessageType.MBOX_UPLOAD_REQ, MessageType.RETRIEVE_CONF]);

let sessions = 0;

/** Drops a response body we will not relay; undici reports the abort as an 'error' we expect. */
function discard(stream: Readable): void {
  stream.on('error', () => undefined);
  stream.destroy();
}

function newSession(ctx: ProxyContext, req: FastifyRequest, direction: Session['direction']): Session {
  return {
    service: 'MM1', direction, sessionid: ++sessions,
    srcip: req.socket.remoteAddress ?? '', srcport: req.socket.remotePort ?? 0,
    dstip: ctx.mm1Upstream.host, dstport: ctx.mm1Upstream.port,
    msgtype: null, transactionid: null, from: null, to: null,
  };
}

function describePdu(ctx: ProxyContext, s: Session, pdu: MmsPdu, req: FastifyRequest): void {
  s.msgtype = messageTypeName(pdu.messageType);
  s.transactionid = transactionId(pdu);
  const from = wellKnown(pdu, FIELD.FROM);
  const msisdn = req.headers[MSISDN_HEADER];
  const sender = from?.kind === 'from' && from.address !== null ? from.address.text : typeof msisdn === 'string' ? msisdn : null;
  s.from = ctx.redact(sender);
  const to = encodedStrings(pdu, FIELD.TO).map((a) => a.text);
  s.to = to.length > 0 ? to.map((t) => ctx.redact(t)).join(',') : null;
}

function contentLength(req: FastifyRequest): number | null | 'bad' {
  const v = req.headers['content-length'];
  if (v === undefined) return null;
  return /^\d+$/.test(v) ? Number(v) : 'bad';
}

/** Plain-language reason for the sender, naming what was found (never payload bytes). */
export function reasonText(parts: readonly ScannedPart[], d: MessageDecision): string {
  const out: string[] = [];
  for (const e of d.events) {
    const p = parts[e.part];
    const f = e.finding;
    if (e.action === 'monitored' || p === undefined) continue;
    if (f.kind === 'infected') out.push(`virus ${f.name} in ${f.path}`);
    else if (f.kind === 'file-type') out.push(`file type ${f.type} not allowed (${f.path})`);
    else if (f.kind === 'unscannable') out.push(`${p.filename} could not be scanned`);
    else out.push('content could not be scanned');
  }
  return [...new Set(out)].join('; ');
}

function replacementText(p: ScannedPart, why: string): string {
  return `The attachment "${p.filename}" was removed by the network's content filter: ${why}.`;
}

interface Outcome {
  readonly action: string;
  readonly subtype?: string | null;
  readonly reason?: string;
  readonly parts?: number;
  readonly bytes?: number;
  readonly status?: number;
}

function logVerdict(ctx: ProxyContext, s: Session, t0: number, o: Outcome): void {
  ctx.log.info(verdictRecord(s, { ...o, ms: performance.now() - t0 }));
  ctx.metrics.messages.inc({ service: s.service, direction: s.direction, action: o.action, subtype: o.subtype ?? '' });
}

function sendPdu(reply: FastifyReply, pdu: Uint8Array, close = false): FastifyReply {
  reply.code(200).type(MMS);
  if (close) reply.header('connection', 'close');
  return reply.send(Buffer.from(pdu.buffer, pdu.byteOffset, pdu.byteLength));
}

async function scanAndDecide(ctx: ProxyContext, s: Session, pdu: MmsPdu, signal?: AbortSignal): Promise<{ parts: ScannedPart[]; decision: MessageDecision }> {
  const { scan } = ctx.config;
  const parts = await scanPdu(pdu, { engines: ctx.engines, timeoutMs: scan.scanTimeoutMs, fileFilter: scan.fileFilter, ...(signal ? { signal } : {}) });
  ctx.metrics.parts.inc({ service: 'MM1' }, parts.length);
  for (const p of parts) for (const [engine, ms] of Object.entries(p.engineMs)) ctx.metrics.scanSeconds.observe({ engine }, ms / 1000);
  const decision = decideMessage(parts.map((p) => p.findings), {
    unscannableAction: ctx.config.unscannableAction, scanErrorAction: scan.scanErrorAction, removeBlocked: ctx.config.removeBlocked,
  });
  for (const e of decision.events) {
    const p = parts[e.part];
    if (p === undefined) continue;
    ctx.log.warn(utmRecord(s, e.subtype, e.action, { filename: p.filename, filetype: p.fileType ?? p.contentType, filesize: p.size, sha256: p.sha256() }, e.finding));
  }
  return { parts, decision };
}

/** The message with blocked parts replaced by text parts; null when a blocked part cannot be replaced (pseudo-part). */
function rewrite(pdu: MmsPdu, parts: readonly ScannedPart[], d: MessageDecision): Uint8Array | null {
  const byPath = new Map<string, ScannedPart>();
  for (const i of d.blockedParts) {
    const p = parts[i];
    if (p?.path === null || p === undefined) return null;
    byPath.set(p.path.join('.'), p);
  }
  return reencodeWithParts(pdu, (_part, path) => {
    const p = byPath.get(path.join('.'));
    if (p === undefined) return undefined;
    const why = reasonText([p], { ...d, events: d.events.filter((e) => parts[e.part] === p).map((e) => ({ ...e, part: 0 })) });
    return textPart(replacementText(p, why), `${p.filename}.removed.txt`);
  });
}

function handleBodyFailure(ctx: ProxyContext, s: Session, t0: number, r: BodyResult, reply: FastifyReply, service: 'send' | 'retrieve'): FastifyReply | null {
  if (r.kind === 'budget') {
    ctx.metrics.rejected.inc({ service: 'MM1', reason: 'inflight-budget' });
    logVerdict(ctx, s, t0, { action: 'rejected', reason: 'in-flight budget exhausted', status: 503 });
    return reply.code(503).header('retry-after', '5').header('connection', 'close').type('text/plain').send('mmsguard: busy, retry later\n');
  }
  if (r.kind === 'aborted') {
    logVerdict(ctx, s, t0, { action: 'aborted', reason: service === 'send' ? 'client aborted the upload' : 'upstream closed the response early' });
    if (service === 'retrieve') return reply.code(502).type('text/plain').send('mmsguard: upstream response incomplete\n');
    reply.hijack();
    reply.raw.destroy();
    return reply;
  }
  if (r.kind === 'length-mismatch') {
    logVerdict(ctx, s, t0, { action: 'rejected', reason: 'body length does not match Content-Length', status: service === 'send' ? 400 : 502 });
    return reply.code(service === 'send' ? 400 : 502).header('connection', 'close').type('text/plain').send('mmsguard: body length does not match Content-Length\n');
  }
  return null;
}

function tryDecode(b: Uint8Array): MmsPdu | null {
  try {
    return decode(b);
  } catch (e) {
    if (isMmsError(e)) return null;
    throw e;
  }
}

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
        ctx.log.warn(utmRecord(s, 'oversize', 'blocked', { filename: null, filetype: null, filesize: size, sha256: null }, null, note));
        logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'oversize', reason: `message over ${mm1.oversizeLimit} bytes`, status: 200 });
        // Nothing more is buffered, but the rest of the upload is read and dropped: a client still
        // sending when the connection closes gets a reset instead of our answer.
        r.rest.on('error', () => undefined);
        r.rest.resume();
        return sendPdu(reply, buildSendConf({
          transactionId: head !== null ? transactionId(head) : null, version: head !== null ? mmsVersion(head) : null,
          status: ResponseStatus.ERROR_PERMANENT_CONTENT_NOT_ACCEPTED, text: `Message too large: the limit is ${mm1.oversizeLimit} bytes`,
        }));
      }
      ctx.log.warn(utmRecord(s, 'oversize', 'passthrough', { filename: null, filetype: null, filesize: size, sha256: null }, null, note));
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
      ctx.log.warn(utmRecord(s, 'malformed', 'blocked', { filename: null, filetype: null, filesize: r.body.length, sha256: null }, null, `(${code})`));
      logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'malformed', reason: code, bytes: r.body.length, status: 200 });
      return sendPdu(reply, buildSendConf({ transactionId: null, status: ResponseStatus.ERROR_PERMANENT_MESSAGE_FORMAT_CORRUPT, text: 'Message format corrupt' }));
    }
    describePdu(ctx, s, pdu, req);
    if (!CONTENT_PDUS.has(pdu.messageType)) {
      return await forward(ctx, s, t0, req, reply, r.body, r.body.length, { action: 'forwarded', reason: 'no content to scan', bytes: r.body.length });
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
        return sendPdu(reply, conf(ResponseStatus.ERROR_TRANSIENT_FAILURE, 'Temporary failure: the message could not be scanned, please retry'));
      case 'rewrite': {
        const rewritten = rewrite(pdu, parts, decision);
        if (rewritten !== null) {
          return await forward(ctx, s, t0, req, reply, rewritten, rewritten.length, { action: 'attachment-removed', subtype, reason: reasonText(parts, decision), ...base });
        }
        break;
      }
      case 'block':
        break;
    }
    logVerdict(ctx, s, t0, { action: 'blocked', subtype, reason: reasonText(parts, decision), ...base, status: 200 });
    return sendPdu(reply, conf(ResponseStatus.ERROR_PERMANENT_CONTENT_NOT_ACCEPTED, `Content not accepted: ${reasonText(parts, decision)}`));
  } finally {
    ctx.budget.give(r.reserved);
    ctx.metrics.inflight.set(ctx.budget.inUse);
  }
}

async function forward(
  ctx: ProxyContext, s: Session, t0: number, req: FastifyRequest, reply: FastifyReply,
  body: Uint8Array | Readable, length: number | null, outcome: Outcome,
): Promise<FastifyReply> {
  const started = performance.now();
  try {
    const res = await ctx.mm1Upstream.request({ method: 'POST', path: req.url, headers: forwardHeaders(req.headers, req.socket.remoteAddress), body, contentLength: length });
    const data = Buffer.from(await res.body.arrayBuffer());
    ctx.metrics.upstreamSeconds.observe({ service: 'MM1', method: 'POST' }, (performance.now() - started) / 1000);
    logVerdict(ctx, s, t0, { ...outcome, status: res.statusCode });
    return reply.code(res.statusCode).headers(responseHeaders(res.headers)).send(data);
  } catch (e) {
    const kind = classify(e);
    ctx.metrics.upstreamErrors.inc({ service: 'MM1', kind });
    logVerdict(ctx, s, t0, { ...outcome, action: 'error', reason: `upstream ${kind}: ${(e as Error).message}`, status: 200 });
    // Never retried: the MMSC may have taken the message. The handset decides, as it would for any network problem.
    const status = kind === 'timeout' ? ResponseStatus.ERROR_TRANSIENT_FAILURE : ResponseStatus.ERROR_TRANSIENT_NETWORK_PROBLEM;
    return sendPdu(reply, buildSendConf({ transactionId: s.transactionid, status, text: 'Temporary network problem, please retry' }));
  }
}

async function handleRetrieve(ctx: ProxyContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const t0 = performance.now();
  const s = newSession(ctx, req, 'incoming');
  const started = performance.now();
  let res;
  try {
    res = await ctx.mm1Upstream.request({ method: 'GET', path: req.url, headers: forwardHeaders(req.headers, req.socket.remoteAddress) });
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
        ctx.log.warn(utmRecord(s, 'oversize', 'blocked', { filename: null, filetype: null, filesize: Number.isFinite(cl) ? cl : null, sha256: null }, null, note));
        logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'oversize', reason: `message over ${mm1.oversizeLimit} bytes`, status: 200 });
        return sendPdu(reply, buildRetrieveConfError({
          transactionId: head !== null ? transactionId(head) : null, version: head !== null ? mmsVersion(head) : null,
          text: `Message too large to be delivered (limit ${mm1.oversizeLimit} bytes)`, date: Date.now() / 1000,
        }));
      }
      ctx.log.warn(utmRecord(s, 'oversize', 'passthrough', { filename: null, filetype: null, filesize: Number.isFinite(cl) ? cl : null, sha256: null }, null, note));
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
        return sendPdu(reply, errorConf(RetrieveStatus.ERROR_TRANSIENT_FAILURE, 'Temporary failure: the message could not be scanned, please retry'));
      case 'rewrite': {
        const rewritten = rewrite(pdu, parts, decision);
        if (rewritten !== null) {
          logVerdict(ctx, s, t0, { action: 'attachment-removed', subtype, reason: reasonText(parts, decision), ...base, status: 200 });
          return sendPdu(reply, rewritten);
        }
        break;
      }
      case 'block':
        break;
    }
    logVerdict(ctx, s, t0, { action: 'blocked', subtype, reason: reasonText(parts, decision), ...base, status: 200 });
    return sendPdu(reply, errorConf(RetrieveStatus.ERROR_PERMANENT_CONTENT_UNSUPPORTED, `Content not delivered: ${reasonText(parts, decision)}`));
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
