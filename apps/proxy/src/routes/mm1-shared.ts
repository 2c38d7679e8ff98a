/**
 * What the MM1 handlers share: session and log records, reply PDUs, scanning
 * and deciding, rewriting. No request flow here (mm1.ts, mm1-comfort.ts).
 */
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  FIELD, MessageType, ResponseStatus, buildSendConf, decode, encodedStrings, isMmsError, messageTypeName, reencodeWithParts, textPart, transactionId, wellKnown, type MmsPdu,
} from 'wap-mms-decoder';
import { decideMessage, normalizeAddress, type MessageDecision } from '@mmsguard/policy';
import type { BodyResult } from '../body.js';
import type { ProxyContext } from '../context.js';
import { scanPdu, type ScannedPart } from '../inspect/mms.js';
import { utmRecord, verdictRecord, type Session } from '../records.js';
import { classify, forwardHeaders, responseHeaders } from '../upstream.js';
import type { Dispatcher } from 'undici';
import type { TemplateVars } from '../templates.js';

export const MMS = 'application/vnd.wap.mms-message';
export const CONTENT_PDUS = new Set<number>([MessageType.SEND_REQ, MessageType.FORWARD_REQ, MessageType.MBOX_UPLOAD_REQ, MessageType.RETRIEVE_CONF]);

let sessions = 0;

/** Drops a response body we will not relay; undici reports the abort as an 'error' we expect. */
export function discard(stream: Readable): void {
  stream.on('error', () => undefined);
  stream.destroy();
}

/** The MSISDN header, believed only from a configured WAP gateway (anyone could set it). */
export function trustedMsisdn(ctx: ProxyContext, req: FastifyRequest): string | null {
  const v = req.headers[ctx.config.msisdnHeader];
  if (typeof v !== 'string') return null;
  if (!ctx.config.trustedGateways.has((req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''))) return null;
  if (ctx.config.msisdnEncoding === 'plain') return v;
  const decoded = decodeHexMsisdn(v);
  if (decoded === null) ctx.log.warn({ event: 'bad-msisdn-header', header: ctx.config.msisdnHeader, msg: 'MSISDN header is not hex-encoded printable ASCII: treated as absent' });
  return decoded;
}

/** `2b3437...` → `+47...`; null unless whole bytes of printable ASCII (some gateways hex-encode the MSISDN). */
export function decodeHexMsisdn(v: string): string | null {
  const t = v.trim();
  if (!/^(?:[0-9a-f]{2})+$/i.test(t)) return null;
  const s = Buffer.from(t, 'hex').toString('latin1');
  return /^[\x21-\x7e]+$/.test(s) ? s : null;
}

/** Upstream request headers; an MSISDN header from an untrusted address is dropped and logged. */
export function upstreamHeaders(ctx: ProxyContext, req: FastifyRequest): Record<string, string | string[]> {
  const name = ctx.config.msisdnHeader;
  const untrusted = req.headers[name] !== undefined && trustedMsisdn(ctx, req) === null;
  if (untrusted) ctx.log.warn({ event: 'untrusted-msisdn', header: name, srcip: req.socket.remoteAddress ?? '', msg: 'MSISDN header from an address that is no trusted gateway: ignored and not forwarded' });
  return forwardHeaders(req.headers, req.socket.remoteAddress, untrusted ? name : undefined);
}

export function newSession(ctx: ProxyContext, req: FastifyRequest, direction: Session['direction']): Session {
  return {
    service: 'MM1', direction, sessionid: ++sessions,
    srcip: req.socket.remoteAddress ?? '', srcport: req.socket.remotePort ?? 0,
    dstip: ctx.mm1Upstream.host, dstport: ctx.mm1Upstream.port,
    msgtype: null, transactionid: null, from: null, to: null,
  };
}

/** The sender for policy: the MSISDN a trusted gateway vouches for, else the PDU's From. */
export function senderAddress(ctx: ProxyContext, req: FastifyRequest, pdu: MmsPdu): string | null {
  const from = wellKnown(pdu, FIELD.FROM);
  return trustedMsisdn(ctx, req) ?? (from?.kind === 'from' && from.address !== null ? from.address.text : null);
}

/** Tells a blocked sender with an MMS of their own (SENDER_NOTICE_URL), from the notice templates. */
export function noticeToSender(ctx: ProxyContext, req: FastifyRequest, pdu: MmsPdu, vars: TemplateVars): void {
  if (ctx.senderNotices === null) return;
  const raw = senderAddress(ctx, req, pdu);
  const recipients = [...encodedStrings(pdu, FIELD.TO), ...encodedStrings(pdu, FIELD.CC)].map((a) => a.text.replace(/\/TYPE=.*$/i, '')).join(', ');
  const v: TemplateVars = { ...vars, sender: raw, recipient: recipients || null, subject: encodedStrings(pdu, FIELD.SUBJECT)[0]?.text ?? null };
  ctx.senderNotices.send(raw === null ? null : normalizeAddress(raw, ctx.config.msisdnPrefixes), ctx.text('notice.subject', v), ctx.text('notice.text', v));
}

export function describePdu(ctx: ProxyContext, s: Session, pdu: MmsPdu, req: FastifyRequest): void {
  s.msgtype = messageTypeName(pdu.messageType);
  s.transactionid = transactionId(pdu);
  const from = wellKnown(pdu, FIELD.FROM);
  const msisdn = trustedMsisdn(ctx, req);
  const sender = from?.kind === 'from' && from.address !== null ? from.address.text : typeof msisdn === 'string' ? msisdn : null;
  s.from = ctx.redact(sender);
  const to = encodedStrings(pdu, FIELD.TO).map((a) => a.text);
  s.to = to.length > 0 ? to.map((t) => ctx.redact(t)).join(',') : null;
}

export function contentLength(req: FastifyRequest): number | null | 'bad' {
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

/** Template variables every reply can use: who and which transaction. */
export function sessionVars(s: Session): TemplateVars {
  return { sender: s.from, recipient: s.to, transaction_id: s.transactionid };
}

/** Template variables for a blocked message: the reason, and the first blocking finding's virus, file and type. */
export function blockVars(s: Session, parts: readonly ScannedPart[], d: MessageDecision): TemplateVars {
  const hit = d.events.find((e) => e.action !== 'monitored' && parts[e.part] !== undefined);
  const p = hit === undefined ? undefined : parts[hit.part];
  const f = hit?.finding;
  return {
    reason: reasonText(parts, d), virus: f?.kind === 'infected' ? f.name : null, filename: p?.filename ?? null,
    filetype: f?.kind === 'file-type' ? f.type : p?.fileType ?? p?.contentType ?? null,
    ...sessionVars(s),
  };
}

/** The text of the part that replaces blocked part `p` (the `replacement` template). */
export function replacementText(ctx: ProxyContext, s: Session, parts: readonly ScannedPart[], d: MessageDecision, p: ScannedPart): string {
  const own = { ...d, events: d.events.filter((e) => parts[e.part] === p).map((e) => ({ ...e, part: 0 })) };
  return ctx.text('replacement', blockVars(s, [p], own));
}

export interface Outcome {
  readonly comfort_started?: boolean;
  readonly comfort_bytes?: number;
  readonly action: string;
  readonly subtype?: string | null;
  readonly reason?: string;
  readonly parts?: number;
  readonly bytes?: number;
  readonly status?: number;
}

export function logVerdict(ctx: ProxyContext, s: Session, t0: number, o: Outcome): void {
  ctx.log.info(verdictRecord(s, { ...o, ms: performance.now() - t0 }));
  ctx.metrics.messages.inc({ service: s.service, direction: s.direction, action: o.action, subtype: o.subtype ?? '' });
}

export function sendPdu(reply: FastifyReply, pdu: Uint8Array, close = false): FastifyReply {
  reply.code(200).type(MMS);
  if (close) reply.header('connection', 'close');
  return reply.send(Buffer.from(pdu.buffer, pdu.byteOffset, pdu.byteLength));
}

/**
 * `canRewrite` is asked after scanning, right before deciding: once a comfort byte has gone out a
 * message can no longer be rewritten, only cut, and the records must say `blocked`.
 */
export async function scanAndDecide(ctx: ProxyContext, s: Session, pdu: MmsPdu, canRewrite: () => boolean = () => true): Promise<{ parts: ScannedPart[]; decision: MessageDecision }> {
  return decideParts(ctx, s, await scanPdu(pdu, scanSettings(ctx)), canRewrite);
}

export function scanSettings(ctx: ProxyContext): { engines: ProxyContext['engines']; timeoutMs: number; fileFilter: ReadonlySet<string> } {
  return { engines: ctx.engines, timeoutMs: ctx.config.scan.scanTimeoutMs, fileFilter: ctx.config.scan.fileFilter };
}

/** Metrics, the policy decision and one UTM record per finding that blocks or is monitored. */
export function decideParts(ctx: ProxyContext, s: Session, parts: ScannedPart[], canRewrite: () => boolean = () => true): { parts: ScannedPart[]; decision: MessageDecision } {
  const { scan } = ctx.config;
  ctx.metrics.parts.inc({ service: s.service }, parts.length);
  for (const p of parts) for (const [engine, ms] of Object.entries(p.engineMs)) ctx.metrics.scanSeconds.observe({ engine }, ms / 1000);
  const decision = decideMessage(parts.map((p) => p.findings), {
    unscannableAction: ctx.config.unscannableAction, scanErrorAction: scan.scanErrorAction, removeBlocked: ctx.config.removeBlocked && canRewrite(),
  });
  for (const e of decision.events) {
    const p = parts[e.part];
    if (p === undefined) continue;
    ctx.utm(utmRecord(s, e.subtype, e.action, { filename: p.filename, filetype: p.fileType ?? p.contentType, filesize: p.size, sha256: p.sha256() }, e.finding));
  }
  return { parts, decision };
}

/** The message with blocked parts replaced by text parts; null when a blocked part cannot be replaced (pseudo-part). */
export function rewrite(ctx: ProxyContext, s: Session, pdu: MmsPdu, parts: readonly ScannedPart[], d: MessageDecision): Uint8Array | null {
  const byPath = new Map<string, ScannedPart>();
  for (const i of d.blockedParts) {
    const p = parts[i];
    if (p?.path === null || p === undefined) return null;
    byPath.set(p.path.join('.'), p);
  }
  return reencodeWithParts(pdu, (_part, path) => {
    const p = byPath.get(path.join('.'));
    if (p === undefined) return undefined;
    return textPart(replacementText(ctx, s, parts, d, p), `${p.filename}.removed.txt`);
  });
}

export function handleBodyFailure(ctx: ProxyContext, s: Session, t0: number, r: BodyResult, reply: FastifyReply, service: 'send' | 'retrieve'): FastifyReply | null {
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

export function tryDecode(b: Uint8Array): MmsPdu | null {
  try {
    return decode(b);
  } catch (e) {
    if (isMmsError(e)) return null;
    throw e;
  }
}


/**
 * Awaits the MMSC's answer to a forwarded send and relays it; an upstream failure becomes the
 * transient m-send-conf (never retried: the MMSC may have taken the message). `extra` is read
 * when the outcome is logged (comfort byte counts are final only then); `started` times the
 * round trip for the upstream latency metric.
 */
export async function relaySend(
  ctx: ProxyContext, s: Session, t0: number, reply: FastifyReply, upstream: Promise<Dispatcher.ResponseData>,
  outcome: Outcome, extra: () => Partial<Outcome> = () => ({}), started?: number,
): Promise<FastifyReply> {
  try {
    const res = await upstream;
    const data = Buffer.from(await res.body.arrayBuffer());
    if (started !== undefined) ctx.metrics.upstreamSeconds.observe({ service: 'MM1', method: 'POST' }, (performance.now() - started) / 1000);
    logVerdict(ctx, s, t0, { ...outcome, status: res.statusCode, ...extra() });
    return reply.code(res.statusCode).headers(responseHeaders(res.headers)).send(data);
  } catch (e) {
    const kind = classify(e);
    ctx.metrics.upstreamErrors.inc({ service: 'MM1', kind });
    logVerdict(ctx, s, t0, { ...outcome, action: 'error', reason: `upstream ${kind}: ${(e as Error).message}`, status: 200, ...extra() });
    const status = kind === 'timeout' ? ResponseStatus.ERROR_TRANSIENT_FAILURE : ResponseStatus.ERROR_TRANSIENT_NETWORK_PROBLEM;
    return sendPdu(reply, buildSendConf({ transactionId: s.transactionid, status, text: ctx.text('send.retry', sessionVars(s)) }));
  }
}
