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
import { checkBulk, type BulkVerdict } from '@mmsguard/policy';
import type { ProxyContext } from '../context.js';
import { utmRecord, type Session } from '../records.js';
import { trustedMsisdn } from './mm1-shared.js';

/** +47 900 00 000/TYPE=PLMN -> +4790000000; e-mail addresses lower-cased. */
export function normalizeSender(a: string): string {
  const bare = a.replace(/\/TYPE=.*$/i, '').trim();
  return bare.includes('@') ? bare.toLowerCase() : bare.replace(/[^\d+]/g, '');
}

export function contentChecksum(pdu: MmsPdu): string {
  const h = createHash('sha256');
  for (const p of pdu.parts ?? []) h.update(p.data);
  if (pdu.parts === null && pdu.body !== null) h.update(pdu.body);
  h.update(encodedStrings(pdu, FIELD.SUBJECT)[0]?.text ?? '');
  return h.digest('hex');
}

export interface BulkOutcome {
  readonly reply: Uint8Array;
  readonly subtype: 'flood' | 'dupe' | 'scan-error';
  readonly reason: string;
}

/** null: go on (scan and forward). Otherwise the reply to send instead. */
export async function bulkCheck(ctx: ProxyContext, s: Session, pdu: MmsPdu, req: FastifyRequest): Promise<BulkOutcome | null> {
  const store = ctx.bulkStore;
  if (store === null) return null;
  const { bulk } = ctx.config;
  const from = wellKnown(pdu, FIELD.FROM);
  const raw = trustedMsisdn(ctx, req) ?? (from?.kind === 'from' && from.address !== null ? from.address.text : null);
  const now = Date.now();
  const conf = (status: number, text: string | null): Uint8Array =>
    buildSendConf({ transactionId: transactionId(pdu), version: mmsVersion(pdu), status, text, messageId: status === ResponseStatus.OK ? `mmsguard-${now.toString(36)}` : null });
  const record = (kind: 'flood' | 'dupe', v: BulkVerdict, key: string): void => {
    const action = v.blocked ? 'blocked' : 'monitored';
    ctx.log.warn(utmRecord(s, kind, action, { filename: null, filetype: null, filesize: null, sha256: kind === 'dupe' ? key : null }, null,
      v.duringBlock ? '(during a block; block timer restarted)' : `(${v.count} in the window of threshold ${v.threshold + 1}${v.actions.has('alert') ? '; alert' : ''})`));
  };
  try {
    for (const [kind, list, key] of [
      ['flood', bulk.flood, raw === null ? null : normalizeSender(raw)],
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
    ctx.metrics.rejected.inc({ service: 'MM1', reason: 'state-store' });
    ctx.log.error({ event: 'state-store-error', msg: `flood/duplicate store failed: ${(e as Error).message}`, policy: bulk.failure });
    if (bulk.failure === 'closed') return { reply: conf(ResponseStatus.ERROR_TRANSIENT_FAILURE, 'Temporary failure, please retry'), subtype: 'scan-error', reason: 'state store unavailable, fail-closed' };
  }
  return null;
}
