/**
 * Bulk protection before scanning (cheap first): the MSISDN list against the
 * sender and every recipient, then flood (per sender) and duplicate (per
 * content checksum) counting in the shared store. What a hit means is policy
 * (`listOutcome`, `bulkOutcome`); this module only matches, counts and notes
 * what it found on the exchange. MM1 and MM7 alike.
 */
import { createHash } from 'node:crypto';
import {
  checkBulkMany, matchList, normalizeAddress, type BulkKey, type ListHit, type Threshold,
} from '@mmsguard/policy';
import type { Exchange } from '../exchange.js';
import { NO_PART } from '../records.js';
import type { Envelope } from './inspection.js';

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

/**
 * The MSISDN list against the sender and every recipient (first matching rule wins); says who matched
 * and counts the metric. What the hit means (policy `listOutcome`) and its record are the caller's.
 * With MSISDN_HASH_KEY the note names the rule's pattern pseudonymised, like every address in the logs.
 */
export function listCheck(ex: Exchange, e: Envelope): (ListHit & { readonly note: string }) | null {
  const { ctx } = ex;
  if (ctx.msisdnList === null) return null;
  const norm = (a: string | null): string => (a === null ? '' : normalizeAddress(a, ctx.config.msisdnPrefixes));
  const rules = ctx.msisdnList.value;
  const sender = norm(e.sender);
  const bySender = sender === '' ? null : matchList(rules, [sender]);
  const byRecipient = matchList(rules, e.recipients.map(norm));
  // The first matching rule wins, except that a recipient's exemption never shadows a rule on the sender
  // (a recipient cannot exempt a message, policy listOutcome; the sender's own rule still applies).
  const recipientFirst = byRecipient !== null && (bySender === null
    || (byRecipient.rule.line < bySender.rule.line && !byRecipient.rule.action.startsWith('exempt')));
  const hit = recipientFirst ? byRecipient : bySender;
  if (hit === null) return null;
  const { rule } = hit;
  const who = recipientFirst ? 'recipient' : 'sender';
  const pattern = ctx.config.msisdnHashKey === null ? rule.pattern : ctx.redact(rule.pattern);
  const note = `(${rule.action} by ${ctx.msisdnList.path}:${rule.line}, ${rule.type} ${pattern ?? ''})`;
  ctx.metrics.bulk.inc({ service: ex.service, kind: 'msisdn-filter', action: rule.action });
  return { action: rule.action, who, note };
}

export interface BulkCheck {
  readonly kind: 'flood' | 'dupe';
  readonly thresholds: readonly Threshold[];
  /** The sender (flood) or content checksum (dupe); computed only when thresholds are set. */
  readonly key: () => string | null;
}

export interface BulkHit {
  readonly kind: 'flood' | 'dupe' | 'store-down';
  readonly reason: string;
}

/**
 * Counts one message against each check in order (flood before duplicates) in the shared store,
 * notes an event and counts a metric for every threshold crossed, and says which check blocked.
 * A failing store answers `store-down` under STATE_STORE_FAILURE=closed, else lets the message on.
 */
export async function countFloodDupe(ex: Exchange, checks: readonly BulkCheck[]): Promise<BulkHit | null> {
  const { ctx } = ex;
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
      if (v.threshold < 0 && !v.duringBlock) continue;
      ctx.metrics.bulk.inc({ service: ex.service, kind: c.kind, action: v.blocked ? 'blocked' : 'monitored' });
      const t = c.thresholds[v.threshold];
      const why = `more than ${t?.limit ?? 0} in ${(t?.windowMs ?? 0) / 1000} s: threshold ${v.threshold + 1}`;
      ex.note({
        subtype: c.kind, role: v.blocked ? 'cause' : 'monitored', finding: null,
        part: { ...NO_PART, sha256: c.kind === 'dupe' ? c.key : null },
        note: v.duringBlock
          ? '(during a block; block timer restarted)'
          : `(${why}${v.actions.has('alert') ? '; alert' : ''})`,
        // Only a threshold with `alert` notifies; attempts during its block add to that notice's count.
        ...(v.duringBlock ? {} : { alert: v.actions.has('alert') }),
      });
      if (v.blocked) {
        const reason = c.kind === 'flood' ? 'sender over the flood threshold' : 'content over the duplicate threshold';
        return { kind: c.kind, reason };
      }
    }
  } catch (e) {
    ctx.metrics.stateStoreErrors.inc({ service: ex.service });
    ctx.log.error({
      event: 'state-store-error', msg: `flood/duplicate store failed: ${(e as Error).message}`,
      policy: ctx.config.bulk.failure,
    });
    if (ctx.config.bulk.failure === 'closed') {
      return { kind: 'store-down', reason: 'state store unavailable, fail-closed' };
    }
  }
  return null;
}
