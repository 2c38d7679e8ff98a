/**
 * Per-VASP quotas (MM7_VASP_LIMITS) in the pipeline: after the MSISDN list, before flood/duplicate
 * counting. One take from the VASP's token bucket and daily quota in the QuotaStore (memory, or the
 * STATE_STORE Redis, shared exactly across instances); what a denial means is policy
 * (`vaspQuotaOutcome`, `quotaOutcome`). A failing store follows STATE_STORE_FAILURE, as flood does.
 */
import {
  checkVaspQuota, indexVaspRules, parseVaspLimits, quotaOutcome, type Outcome, type VaspLimits,
} from '@mmsguard/policy';
import type { Exchange } from '../exchange.js';
import { NO_PART } from '../records.js';
import type { Parsed } from '../watched-file.js';

/** The MM7_VASP_LIMITS file's parser for WatchedFile (a bad line: file:line; indexed for lookups). */
export function parseVaspFile(text: string): Parsed<VaspLimits> {
  const { rules, problems } = parseVaspLimits(text);
  return { value: indexVaspRules(rules), problems };
}

export interface QuotaHit {
  readonly outcome: Outcome;
  /** The verdict record's subtype. */
  readonly subtype: 'vasp-quota' | 'scan-error';
  readonly reason: string;
  /** Seconds the VASP is asked to wait (transient only). */
  readonly retryAfterS?: number;
}

/**
 * Takes one message from the VASP's bucket; null when it is within its quota (or no rule limits it,
 * or the store failed open). `vasp` is the message's VASPID (else its SenderAddress), null when it names none.
 */
export async function checkQuota(ex: Exchange, vasp: string | null): Promise<QuotaHit | null> {
  const { ctx } = ex;
  const limits = ctx.vaspLimits?.value;
  const store = ctx.quotaStore;
  if (limits === undefined || store === null) return null;
  let r: Awaited<ReturnType<typeof checkVaspQuota>>;
  try {
    r = await checkVaspQuota(store, limits, vasp, Date.now());
  } catch (e) {
    ctx.metrics.stateStoreErrors.inc({ service: ex.service });
    ctx.log.error({
      event: 'state-store-error', msg: `VASP quota store failed: ${(e as Error).message}`,
      policy: ctx.config.bulk.failure,
    });
    if (ctx.config.bulk.failure === 'open') return null;
    return {
      outcome: { kind: 'transient', reason: 'store-down' }, subtype: 'scan-error',
      reason: 'quota store unavailable, fail-closed',
    };
  }
  if (r === null) return null;
  const q = r.outcome;
  const outcome = quotaOutcome(q);
  if (outcome === null || q.action === 'pass') return null;
  ctx.metrics.bulk.inc({ service: ex.service, kind: 'vasp-quota', action: 'blocked' });
  const { rule } = r;
  const what = q.reason === 'daily'
    ? `daily quota of ${rule.daily ?? 0}`
    : `rate ${rule.rate ?? ''} (burst ${rule.burst})`;
  const reason = `VASP over its ${what}: ${ctx.vaspLimits?.path ?? ''}:${rule.line}`;
  // Logged like every other block: one UTM record, its action read from the outcome (blocked).
  ex.note({ subtype: 'vasp-quota', role: 'cause', part: NO_PART, finding: null, note: `(${reason})` });
  return q.action === 'transient'
    ? { outcome, subtype: 'vasp-quota', reason, retryAfterS: q.retryAfterSeconds }
    : { outcome, subtype: 'vasp-quota', reason };
}
