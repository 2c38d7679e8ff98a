/**
 * Bulk protection before scanning (cheap first). MM1 sends: the MSISDN list,
 * then the sender (trusted MSISDN header, else From) against FLOOD_THRESHOLDS,
 * then the content checksum (part bytes + subject, not headers) against
 * DUPE_THRESHOLDS, in the shared store. A blocked send gets m-send-conf 0xE1
 * (BULK_BLOCK_REPLY=deny) or a plain Ok that is not forwarded (hide), so
 * senders are not told the thresholds. The list check and the counting are
 * shared with MM7 (routes/mm7.ts).
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { FIELD, ResponseStatus, buildSendConf, encodedStrings, mmsVersion, transactionId, type MmsPdu } from 'wap-mms-decoder';
import { checkBulkMany, matchList, normalizeAddress, type BulkKey, type ListAction, type Threshold } from '@mmsguard/policy';
import type { ProxyContext } from '../context.js';
import { utmRecord, type Session } from '../records.js';
import { senderAddress, sessionVars } from './mm1-shared.js';


/** Each piece is length-prefixed, so moving bytes between parts (or into the subject) changes the checksum. */
export function checksumOf(pieces: Iterable<Uint8Array | string>): string {
  const h = createHash('sha256');
  const len = Buffer.alloc(8);
  for (const p of pieces) {
    const b = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
    len.writeBigUInt64BE(BigInt(b.length));
    h.update(len);
    h.update(b);
  }
  return h.digest('hex');
}

export function contentChecksum(pdu: MmsPdu): string {
  const parts = pdu.parts !== null ? pdu.parts.map((p) => p.data) : pdu.body !== null ? [pdu.body] : [];
  return checksumOf([...parts, encodedStrings(pdu, FIELD.SUBJECT)[0]?.text ?? '']);
}

export interface BulkOutcome {
  /** The reply to send instead of scanning and forwarding; null for `exempt` (forward unscanned). */
  readonly reply: Uint8Array | null;
  readonly subtype: 'flood' | 'dupe' | 'msisdn-filter' | 'scan-error';
  readonly reason: string;
  /** The sender may be told (SENDER_NOTICE_URL): a list block, or a flood/duplicate block that is not hidden. */
  readonly notice: boolean;
}

/**
 * null: go on (scan and forward). Otherwise what to do instead: a reply, or (MSISDN list `exempt`)
 * forward without scanning. The MSISDN list is checked first, then flood, then duplicates.
 */
export async function bulkCheck(ctx: ProxyContext, s: Session, pdu: MmsPdu, req: FastifyRequest): Promise<BulkOutcome | null> {
  const { bulk } = ctx.config;
  const raw = senderAddress(ctx, req, pdu);
  const addresses = [raw, ...encodedStrings(pdu, FIELD.TO), ...encodedStrings(pdu, FIELD.CC), ...encodedStrings(pdu, FIELD.BCC)]
    .map((a) => (a === null ? null : typeof a === 'string' ? a : a.text));
  const listed = listCheck(ctx, s, addresses);
  if (listed?.action === 'block') {
    const reply = buildSendConf({ transactionId: transactionId(pdu), version: mmsVersion(pdu), status: ResponseStatus.ERROR_PERMANENT_SERVICE_DENIED, text: ctx.text('send.denied', sessionVars(s)) });
    return { reply, subtype: 'msisdn-filter', reason: `MSISDN list ${listed.note}`, notice: true };
  }
  if (listed?.action === 'exempt') return { reply: null, subtype: 'msisdn-filter', reason: `exempt from scanning ${listed.note}`, notice: false };
  if (listed?.action === 'exempt-mass') return null;
  const hit = await countFloodDupe(ctx, s, [
    { kind: 'flood', thresholds: bulk.flood, key: () => (raw === null ? null : normalizeAddress(raw, ctx.config.msisdnPrefixes)) },
    { kind: 'dupe', thresholds: bulk.dupe, key: () => contentChecksum(pdu) },
  ]);
  if (hit === null) return null;
  const conf = (status: number, text: string | null): Uint8Array =>
    buildSendConf({ transactionId: transactionId(pdu), version: mmsVersion(pdu), status, text, messageId: status === ResponseStatus.OK ? `mmsguard-${Date.now().toString(36)}` : null });
  if (hit.kind === 'store-down') return { reply: conf(ResponseStatus.ERROR_TRANSIENT_FAILURE, ctx.text('send.retry', sessionVars(s))), subtype: 'scan-error', reason: hit.reason, notice: false };
  const reply = bulk.reply === 'hide' ? conf(ResponseStatus.OK, null) : conf(ResponseStatus.ERROR_PERMANENT_SERVICE_DENIED, ctx.text('send.denied', sessionVars(s)));
  return { reply, subtype: hit.kind, reason: hit.reason, notice: bulk.reply === 'deny' };
}

/**
 * The MSISDN list against the sender and every recipient (first matching rule wins): logs the UTM
 * record (not for exempt-mass, which only skips counting) and counts the metric. MM1 and MM7.
 */
export function listCheck(ctx: ProxyContext, s: Session, addresses: readonly (string | null)[]): { action: ListAction; note: string } | null {
  if (ctx.msisdnList === null) return null;
  const hit = matchList(ctx.msisdnList.value, addresses.map((a) => (a === null ? '' : normalizeAddress(a, ctx.config.msisdnPrefixes))));
  if (hit === null) return null;
  const { rule } = hit;
  const note = `(${rule.action} by ${ctx.msisdnList.path}:${rule.line}, ${rule.type} ${rule.pattern})`;
  ctx.metrics.bulk.inc({ service: s.service, kind: 'msisdn-filter', action: rule.action });
  if (rule.action !== 'exempt-mass') {
    ctx.utm(utmRecord(s, 'msisdn-filter', rule.action === 'block' ? 'blocked' : rule.action === 'monitor' ? 'monitored' : 'passthrough', { filename: null, filetype: null, filesize: null, sha256: null }, null, note));
  }
  return { action: rule.action, note };
}

export interface BulkCheck {
  readonly kind: 'flood' | 'dupe';
  readonly thresholds: readonly Threshold[];
  /** The sender (flood) or content checksum (dupe); computed only when thresholds are set. */
  readonly key: () => string | null;
}

/**
 * Counts one message against each check in order (flood before duplicates) in the shared store,
 * logs a UTM record and counts a metric for every threshold crossed, and says which check blocked.
 * A failing store answers `store-down` under STATE_STORE_FAILURE=closed, else lets the message on.
 */
export async function countFloodDupe(ctx: ProxyContext, s: Session, checks: readonly BulkCheck[]): Promise<{ kind: 'flood' | 'dupe' | 'store-down'; reason: string } | null> {
  const store = ctx.bulkStore;
  if (store === null) return null;
  const now = Date.now();
  const keys = checks.flatMap((c): BulkKey[] => {
    if (c.thresholds.length === 0) return [];
    const key = c.key();
    return key === null || key === '' ? [] : [{ kind: c.kind, key, thresholds: c.thresholds }];
  });
  if (keys.length === 0) return null;
  try {
    // One atomic step (one round trip to Redis) for all keys of the message.
    const verdicts = await checkBulkMany(store, keys, now);
    for (const [i, v] of verdicts.entries()) {
      const c = keys[i] as BulkKey;
      const key = c.key;
      if (v.threshold < 0 && !v.duringBlock) continue;
      const action = v.blocked ? 'blocked' : 'monitored';
      ctx.metrics.bulk.inc({ service: s.service, kind: c.kind, action });
      ctx.utm(utmRecord(s, c.kind, action, { filename: null, filetype: null, filesize: null, sha256: c.kind === 'dupe' ? key : null }, null,
        v.duringBlock ? '(during a block; block timer restarted)' : `(more than ${c.thresholds[v.threshold]?.limit ?? 0} in ${(c.thresholds[v.threshold]?.windowMs ?? 0) / 1000} s: threshold ${v.threshold + 1}${v.actions.has('alert') ? '; alert' : ''})`),
        // Only a threshold with `alert` notifies; attempts during its block add to that notice's count.
        v.duringBlock ? undefined : v.actions.has('alert'));
      if (v.blocked) return { kind: c.kind, reason: c.kind === 'flood' ? 'sender over the flood threshold' : 'content over the duplicate threshold' };
    }
  } catch (e) {
    ctx.metrics.stateStoreErrors.inc({ service: s.service });
    ctx.log.error({ event: 'state-store-error', msg: `flood/duplicate store failed: ${(e as Error).message}`, policy: ctx.config.bulk.failure });
    if (ctx.config.bulk.failure === 'closed') return { kind: 'store-down', reason: 'state store unavailable, fail-closed' };
  }
  return null;
}
