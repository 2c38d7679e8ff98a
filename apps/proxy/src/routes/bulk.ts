/**
 * Flood and duplicate protection on MM1 sends, before scanning (cheap first):
 * the sender (trusted MSISDN header, else From) against FLOOD_THRESHOLDS, then
 * the content checksum (part bytes + subject, not headers) against
 * DUPE_THRESHOLDS, in the shared store. A blocked send gets m-send-conf 0xE1
 * (BULK_BLOCK_REPLY=deny) or a plain Ok that is not forwarded (hide), so
 * senders are not told the thresholds.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { FIELD, ResponseStatus, buildSendConf, encodedStrings, mmsVersion, transactionId, wellKnown, type MmsPdu } from 'wap-mms-decoder';
import { checkBulk, matchList, normalizeAddress, type BulkVerdict } from '@mmsguard/policy';
import type { ProxyContext } from '../context.js';
import { utmRecord, type Session } from '../records.js';
import { trustedMsisdn } from './mm1-shared.js';


export function contentChecksum(pdu: MmsPdu): string {
  const h = createHash('sha256');
  for (const p of pdu.parts ?? []) h.update(p.data);
  if (pdu.parts === null && pdu.body !== null) h.update(pdu.body);
  h.update(encodedStrings(pdu, FIELD.SUBJECT)[0]?.text ?? '');
  return h.digest('hex');
}

export interface BulkOutcome {
  /** The reply to send instead of scanning and forwarding; null for `exempt` (forward unscanned). */
  readonly reply: Uint8Array | null;
  readonly subtype: 'flood' | 'dupe' | 'msisdn-filter' | 'scan-error';
  readonly reason: string;
}

/**
 * null: go on (scan and forward). Otherwise what to do instead: a reply, or (MSISDN list `exempt`)
 * forward without scanning. The MSISDN list is checked first, then flood, then duplicates.
 */
export async function bulkCheck(ctx: ProxyContext, s: Session, pdu: MmsPdu, req: FastifyRequest): Promise<BulkOutcome | null> {
  const { bulk } = ctx.config;
  const from = wellKnown(pdu, FIELD.FROM);
  const raw = trustedMsisdn(ctx, req) ?? (from?.kind === 'from' && from.address !== null ? from.address.text : null);
  const now = Date.now();
  let skipMass = false;
  if (ctx.msisdnList !== null) {
    const addresses = [raw, ...encodedStrings(pdu, FIELD.TO), ...encodedStrings(pdu, FIELD.CC), ...encodedStrings(pdu, FIELD.BCC)]
      .map((a) => (a === null ? '' : normalizeAddress(typeof a === 'string' ? a : a.text)));
    const hit = matchList(ctx.msisdnList.rules, addresses);
    if (hit !== null) {
      const { rule } = hit;
      const note = `(${rule.action} by ${ctx.msisdnList.path}:${rule.line}, ${rule.type} ${rule.pattern})`;
      ctx.metrics.bulk.inc({ service: 'MM1', kind: 'msisdn-filter', action: rule.action });
      if (rule.action !== 'exempt-mass') {
        ctx.utm(utmRecord(s, 'msisdn-filter', rule.action === 'block' ? 'blocked' : rule.action === 'monitor' ? 'monitored' : 'passthrough', { filename: null, filetype: null, filesize: null, sha256: null }, null, note));
      }
      if (rule.action === 'block') {
        const reply = buildSendConf({ transactionId: transactionId(pdu), version: mmsVersion(pdu), status: ResponseStatus.ERROR_PERMANENT_SERVICE_DENIED, text: 'Service denied' });
        return { reply, subtype: 'msisdn-filter', reason: `MSISDN list ${note}` };
      }
      if (rule.action === 'exempt') return { reply: null, subtype: 'msisdn-filter', reason: `exempt from scanning ${note}` };
      skipMass = rule.action === 'exempt-mass';
    }
  }
  const store = ctx.bulkStore;
  if (store === null || skipMass) return null;
  const conf = (status: number, text: string | null): Uint8Array =>
    buildSendConf({ transactionId: transactionId(pdu), version: mmsVersion(pdu), status, text, messageId: status === ResponseStatus.OK ? `mmsguard-${now.toString(36)}` : null });
  const record = (kind: 'flood' | 'dupe', v: BulkVerdict, key: string): void => {
    const action = v.blocked ? 'blocked' : 'monitored';
    ctx.metrics.bulk.inc({ service: 'MM1', kind, action });
    ctx.utm(utmRecord(s, kind, action, { filename: null, filetype: null, filesize: null, sha256: kind === 'dupe' ? key : null }, null,
      v.duringBlock ? '(during a block; block timer restarted)' : `(${v.count} in the window of threshold ${v.threshold + 1}${v.actions.has('alert') ? '; alert' : ''})`));
  };
  try {
    for (const [kind, list, key] of [
      ['flood', bulk.flood, raw === null ? null : normalizeAddress(raw)],
      ['dupe', bulk.dupe, bulk.dupe.length > 0 ? contentChecksum(pdu) : null],
    ] as const) {
      if (list.length === 0 || key === null || key === '') continue;
      const v = await checkBulk(store, kind, key, list, now);
      if (v.threshold < 0 && !v.duringBlock) continue;
      record(kind, v, key);
      if (v.blocked) {
        const reply = bulk.reply === 'hide' ? conf(ResponseStatus.OK, null) : conf(ResponseStatus.ERROR_PERMANENT_SERVICE_DENIED, 'Service denied');
        return { reply, subtype: kind, reason: kind === 'flood' ? 'sender over the flood threshold' : 'content over the duplicate threshold' };
      }
    }
  } catch (e) {
    ctx.metrics.stateStoreErrors.inc({ service: 'MM1' });
    ctx.log.error({ event: 'state-store-error', msg: `flood/duplicate store failed: ${(e as Error).message}`, policy: bulk.failure });
    if (bulk.failure === 'closed') return { reply: conf(ResponseStatus.ERROR_TRANSIENT_FAILURE, 'Temporary failure, please retry'), subtype: 'scan-error', reason: 'state store unavailable, fail-closed' };
  }
  return null;
}
