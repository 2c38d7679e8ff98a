/**
 * MM7: VASP ⇄ MMSC, SOAP 1.1 with MIME attachments (multipart/related). Every
 * attachment (nested multiparts walked, transfer encodings undone, bytes
 * outside parts included) is scanned; the request is then forwarded
 * byte-identical, refused with the operation's SOAP Fault (RSErrorRsp toward a
 * VASP, VASPErrorRsp toward the MMSC) over HTTP 500 — 2004 content refused,
 * 2007 format corrupt, 4006 service unavailable — or, with REMOVE_BLOCKED,
 * forwarded with the blocked parts replaced by text parts.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  Mm7Error, Mm7Status, buildFault, buildRsp, decodedBody, leaves, normalizeCid, parseMime, parseSoap, replaceParts,
  type MimePart, type Mm7Reply, type ReplyFor, type SoapRequest,
} from '@mmsguard/mm7';
import type { Dispatcher } from 'undici';
import { Comforter } from '@mmsguard/comfort';
import { readBody } from '../body.js';
import type { ProxyContext } from '../context.js';
import { scanLeaves, type Leaf } from '../inspect/mms.js';
import { utmRecord, type Session } from '../records.js';
import { classify, responseHeaders } from '../upstream.js';
import type { TemplateName, TemplateVars } from '../templates.js';
import { checksumOf, countFloodDupe, listCheck } from './bulk.js';
import { blockVars, decideParts, logVerdict, reasonText, replacementText, scanSettings, sessionVars, upstreamHeaders, type Outcome } from './mm1-shared.js';

let sessions = 0;

const FROM_MMSC = new Set(['DeliverReq', 'DeliveryReportReq', 'ReadReplyReq']);

function session(ctx: ProxyContext, req: FastifyRequest): Session {
  return {
    service: 'MM7', direction: 'outgoing', sessionid: ++sessions,
    srcip: req.socket.remoteAddress ?? '', srcport: req.socket.remotePort ?? 0,
    dstip: ctx.mm7Upstream.host, dstport: ctx.mm7Upstream.port,
    msgtype: null, transactionid: null, from: null, to: null,
  };
}

function describe(ctx: ProxyContext, s: Session, soap: SoapRequest): void {
  s.msgtype = soap.operation;
  s.transactionid = soap.transactionId;
  s.direction = FROM_MMSC.has(soap.operation) ? 'incoming' : 'outgoing';
  s.from = ctx.redact(soap.sender ?? soap.vaspId);
  s.to = soap.recipients.length > 0 ? soap.recipients.map((r) => ctx.redact(r)).join(',') : null;
}

const TEXT_OF: Readonly<Record<number, TemplateName>> = {
  [Mm7Status.CONTENT_REFUSED]: 'mm7.refused', [Mm7Status.FORMAT_CORRUPT]: 'mm7.corrupt',
  [Mm7Status.SERVICE_UNAVAILABLE]: 'mm7.unavailable', [Mm7Status.SERVICE_DENIED]: 'mm7.denied',
};

/** The Fault for `code`, its StatusText from the reply templates. */
function fault(ctx: ProxyContext, s: Session, rf: ReplyFor, code: number, details: string, vars: TemplateVars = {}): Mm7Reply {
  const name = TEXT_OF[code];
  return buildFault(rf, code, details, name === undefined ? undefined : ctx.text(name, { ...sessionVars(s), reason: details, ...vars }));
}

/** Duplicate fingerprint of an MM7 message: the decoded attachment bytes (not headers, not the envelope). */
function attachmentsChecksum(parts: readonly MimePart[]): string {
  return checksumOf(parts.map((p) => decodedBody(p)));
}

function sendReply(reply: FastifyReply, r: { httpStatus: number; contentType: string; body: string }, extra: Record<string, string> = {}): FastifyReply {
  return reply.code(r.httpStatus).type(r.contentType).headers(extra).send(r.body);
}

/** The SOAP root part: the `start` parameter's Content-ID, else the first part (RFC 2387). */
function soapPart(root: MimePart): MimePart | null {
  const kids = root.children ?? [];
  const start = root.contentType.params['start'];
  if (start !== undefined) {
    const hit = kids.find((k) => k.contentId !== null && normalizeCid(k.contentId) === normalizeCid(start));
    if (hit !== undefined) return hit;
  }
  return kids[0] ?? null;
}

function forward(ctx: ProxyContext, s: Session, t0: number, req: FastifyRequest, reply: FastifyReply, body: Uint8Array | Readable, length: number | null, outcome: Outcome, rf: ReplyFor): Promise<FastifyReply> {
  const res = ctx.mm7Upstream.request({ method: 'POST', path: req.url, headers: upstreamHeaders(ctx, req), body, contentLength: length });
  return relay(ctx, s, t0, reply, res, outcome, rf);
}

async function relay(ctx: ProxyContext, s: Session, t0: number, reply: FastifyReply, upstream: Promise<Dispatcher.ResponseData>, outcome: Outcome, rf: ReplyFor): Promise<FastifyReply> {
  try {
    const res = await upstream;
    const data = Buffer.from(await res.body.arrayBuffer());
    logVerdict(ctx, s, t0, { ...outcome, status: res.statusCode });
    return reply.code(res.statusCode).headers(responseHeaders(res.headers)).send(data);
  } catch (e) {
    const kind = classify(e);
    ctx.metrics.upstreamErrors.inc({ service: 'MM7', kind });
    logVerdict(ctx, s, t0, { ...outcome, action: 'error', reason: `upstream ${kind}: ${(e as Error).message}`, status: 500 });
    return sendReply(reply, fault(ctx, s, rf, Mm7Status.SERVICE_UNAVAILABLE, 'upstream unreachable'));
  }
}

async function handleMm7(ctx: ProxyContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const t0 = performance.now();
  const s = session(ctx, req);
  const ct = req.headers['content-type'] ?? '';
  const type = ct.split(';')[0]?.trim().toLowerCase() ?? '';
  const noReq: ReplyFor = { operation: null, transactionId: null, namespace: null, mm7Version: null };
  const v = req.headers['content-length'];
  const cl = v === undefined ? null : /^\d+$/.test(v) ? Number(v) : NaN;
  if ((type !== 'multipart/related' && type !== 'text/xml') || Number.isNaN(cl)) {
    logVerdict(ctx, s, t0, { action: 'rejected', subtype: 'malformed', reason: `content type ${type || 'none'} is not MM7`, status: 500 });
    return sendReply(reply, fault(ctx, s, noReq, Mm7Status.FORMAT_CORRUPT, 'expected multipart/related or text/xml'));
  }
  const { mm7 } = ctx.config;
  // Server comforting: the request to the upstream starts now and gets AMOUNT bytes per INTERVAL
  // of what has arrived, while the VASP is still uploading and while the attachments are scanned.
  let soFar: Uint8Array = new Uint8Array(0);
  const comforter = mm7.serverComfort && cl !== null && cl <= mm7.oversizeLimit
    ? new Comforter(ctx.comfort, () => soFar, { intervalMs: mm7.comfortIntervalMs, amount: mm7.comfortAmount })
    : null;
  comforter?.output.on('error', () => undefined);
  const early = comforter !== null
    ? ctx.mm7Upstream.request({ method: 'POST', path: req.url, headers: upstreamHeaders(ctx, req), body: comforter.output, contentLength: cl })
    : null;
  early?.catch(() => undefined);
  const comfortInfo = (): Pick<Outcome, 'comfort_started' | 'comfort_bytes'> => (comforter !== null ? { comfort_started: comforter.started, comfort_bytes: comforter.sent } : {});
  const r = await readBody(req.raw, { declaredLength: cl, limit: mm7.oversizeLimit, budget: ctx.budget, onProgress: (b) => (soFar = b) });
  if (r.kind === 'complete') comforter?.inputComplete();
  else comforter?.cut('upload failed');
  ctx.metrics.inflight.set(ctx.budget.inUse);
  try {
    if (r.kind === 'budget') {
      ctx.metrics.rejected.inc({ service: 'MM7', reason: 'inflight-budget' });
      logVerdict(ctx, s, t0, { action: 'rejected', reason: 'in-flight budget exhausted', status: 503 });
      return sendReply(reply, { ...fault(ctx, s, noReq, Mm7Status.SERVICE_UNAVAILABLE, 'busy, retry later'), httpStatus: 503 }, { 'retry-after': '5' });
    }
    if (r.kind === 'aborted') {
      logVerdict(ctx, s, t0, { action: 'aborted', reason: 'client aborted the upload' });
      reply.hijack();
      reply.raw.destroy();
      return reply;
    }
    if (r.kind === 'length-mismatch') {
      logVerdict(ctx, s, t0, { action: 'rejected', subtype: 'malformed', reason: 'body length does not match Content-Length', status: 500 });
      return sendReply(reply, fault(ctx, s, noReq, Mm7Status.FORMAT_CORRUPT, 'body length does not match Content-Length'));
    }
    if (r.kind === 'oversize') {
      const size = cl ?? r.head.length;
      const note = `(limit ${mm7.oversizeLimit} bytes)`;
      if (mm7.oversizeAction === 'block') {
        r.rest.on('error', () => undefined);
        r.rest.resume();
        ctx.utm(utmRecord(s, 'oversize', 'blocked', { filename: null, filetype: null, filesize: size, sha256: null }, null, note));
        logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'oversize', reason: `message over ${mm7.oversizeLimit} bytes`, status: 500 });
        return sendReply(reply, fault(ctx, s, noReq, Mm7Status.CONTENT_REFUSED, `message too large (limit ${mm7.oversizeLimit} bytes)`, { limit: mm7.oversizeLimit, size }));
      }
      ctx.utm(utmRecord(s, 'oversize', 'passthrough', { filename: null, filetype: null, filesize: size, sha256: null }, null, note));
      const rest = r.rest;
      const stream = Readable.from((async function* () {
        if (r.head.length > 0) yield r.head;
        for await (const c of rest as AsyncIterable<Buffer>) yield c;
      })());
      return await forward(ctx, s, t0, req, reply, stream, cl, { action: 'passthrough', subtype: 'oversize', reason: 'forwarded unscanned' }, noReq);
    }
    const body = r.body;
    let soap: SoapRequest;
    let attachments: Leaf[] = [];
    // Leaf parts by offset, so a blocked part can be found again for REMOVE_BLOCKED.
    let partsByStart = new Map<number, MimePart>();
    let attachmentParts: MimePart[] = [];
    try {
      if (type === 'text/xml') {
        soap = parseSoap(body.toString('utf8'));
      } else {
        const parsed = parseMime(body, ct);
        const root = soapPart(parsed.root);
        if (root === null) throw new Mm7Error('MMS_ERR_MM7_MIME', 'multipart/related without parts');
        soap = parseSoap(Buffer.from(decodedBody(root)).toString('utf8'));
        attachmentParts = leaves(parsed.root).filter((l) => l !== root);
        attachments = attachmentParts.map((l, i): Leaf => ({
          id: String(i + 1), path: [l.start], data: l.raw, contentType: l.contentType.type,
          name: l.contentType.params['name'] ?? l.contentLocation ?? (l.contentId !== null ? normalizeCid(l.contentId) : null),
          encoding: l.transferEncoding,
        }));
        for (const u of parsed.unattributed) attachments.push({ id: `unattributed@${u.offset}`, path: null, data: body.subarray(u.offset, u.offset + u.length), contentType: 'application/octet-stream', name: null, encoding: null });
        partsByStart = new Map(leaves(parsed.root).map((l) => [l.start, l]));
      }
    } catch (e) {
      if (!(e instanceof Mm7Error)) throw e;
      comforter?.cut('malformed');
      ctx.utm(utmRecord(s, 'malformed', 'blocked', { filename: null, filetype: null, filesize: body.length, sha256: null }, null, `(${e.code}: ${e.message})`));
      logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'malformed', reason: e.code, bytes: body.length, status: 500 });
      return sendReply(reply, fault(ctx, s, noReq, Mm7Status.FORMAT_CORRUPT, e.message));
    }
    describe(ctx, s, soap);
    const rf: ReplyFor = soap;
    // The MSISDN list on the sender and the recipients (SubmitReq toward subscribers, DeliverReq from one).
    const listed = listCheck(ctx, s, [soap.sender, ...soap.recipients]);
    if (listed?.action === 'block') {
      comforter?.cut('msisdn-filter');
      logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'msisdn-filter', reason: `MSISDN list ${listed.note}`, bytes: body.length, status: 500 });
      return sendReply(reply, fault(ctx, s, rf, Mm7Status.SERVICE_DENIED, 'service denied'));
    }
    if (listed?.action === 'exempt') {
      const outcome = { action: 'forwarded', subtype: 'msisdn-filter', reason: `exempt from scanning ${listed.note}`, bytes: body.length };
      if (comforter !== null && early !== null) {
        comforter.release();
        return await relay(ctx, s, t0, reply, early, { ...outcome, ...comfortInfo() }, rf);
      }
      return await forward(ctx, s, t0, req, reply, body, body.length, outcome, rf);
    }
    if (soap.operation === 'SubmitReq' && listed?.action !== 'exempt-mass') {
      // Per VASP (flood) and per content (duplicates), before scanning: cheap first.
      const { bulk } = ctx.config;
      const hit = await countFloodDupe(ctx, s, [
        { kind: 'flood', thresholds: bulk.mm7Flood, key: () => (soap.vaspId ?? soap.sender) === null ? null : `vasp:${soap.vaspId ?? soap.sender}` },
        { kind: 'dupe', thresholds: bulk.mm7Dupe, key: () => (attachmentParts.length === 0 ? null : `mm7:${attachmentsChecksum(attachmentParts)}`) },
      ]);
      if (hit !== null) {
        comforter?.cut(hit.kind);
        const subtype = hit.kind === 'store-down' ? 'scan-error' : hit.kind;
        if (hit.kind !== 'store-down' && bulk.reply === 'hide') {
          logVerdict(ctx, s, t0, { action: 'blocked', subtype, reason: `${hit.reason} (hidden: success answered)`, bytes: body.length, status: 200 });
          return sendReply(reply, buildRsp(rf, Mm7Status.SUCCESS, undefined, undefined, `mmsguard-${Date.now().toString(36)}`));
        }
        logVerdict(ctx, s, t0, { action: 'blocked', subtype, reason: hit.reason, bytes: body.length, status: 500 });
        return sendReply(reply, hit.kind === 'store-down'
          ? fault(ctx, s, rf, Mm7Status.SERVICE_UNAVAILABLE, 'temporary failure, retry later')
          : fault(ctx, s, rf, Mm7Status.SERVICE_DENIED, 'service denied'));
      }
    }
    const { parts, decision } = decideParts(ctx, s, await scanLeaves(attachments, scanSettings(ctx)));
    const base = { parts: parts.length, bytes: body.length };
    const subtype = decision.events.find((e) => e.action !== 'monitored')?.subtype ?? null;
    const reason = reasonText(parts, decision);
    if (decision.action === 'forward') {
      if (comforter !== null && early !== null) {
        comforter.release();
        return await relay(ctx, s, t0, reply, early, { action: 'forwarded', ...base, ...comfortInfo() }, rf);
      }
      return await forward(ctx, s, t0, req, reply, body, body.length, { action: 'forwarded', ...base }, rf);
    }
    // Blocked in any way: the comforted upstream request never completes. Once a byte went out,
    // REMOVE_BLOCKED cannot rewrite either.
    const started = comforter?.started ?? false;
    comforter?.cut(decision.action);
    if (decision.action === 'transient') {
      logVerdict(ctx, s, t0, { action: 'blocked', subtype: 'scan-error', reason: 'scan failed, fail-closed', ...base, status: 500 });
      return sendReply(reply, fault(ctx, s, rf, Mm7Status.SERVICE_UNAVAILABLE, 'content could not be scanned, retry later'));
    }
    if (decision.action === 'rewrite' && !started) {
      const reps = [...decision.blockedParts].flatMap((i) => {
        const p = parts[i];
        const mp = p?.path?.[0] !== undefined ? partsByStart.get(p.path[0]) : undefined;
        return p !== undefined && mp !== undefined ? [{ part: mp, text: replacementText(ctx, s, parts, decision, p) }] : [];
      });
      if (reps.length === decision.blockedParts.size) {
        const rewritten = replaceParts(body, reps);
        return await forward(ctx, s, t0, req, reply, rewritten, rewritten.length, { action: 'attachment-removed', subtype, reason, ...base }, rf);
      }
    }
    logVerdict(ctx, s, t0, { action: 'blocked', subtype, reason, ...base, status: 500, ...comfortInfo() });
    return sendReply(reply, fault(ctx, s, rf, Mm7Status.CONTENT_REFUSED, reason, blockVars(s, parts, decision)));
  } finally {
    ctx.budget.give(r.reserved);
    ctx.metrics.inflight.set(ctx.budget.inUse);
  }
}

export function registerMm7(app: FastifyInstance, ctx: ProxyContext): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
  app.post('/*', (req, reply) => handleMm7(ctx, req, reply));
}
