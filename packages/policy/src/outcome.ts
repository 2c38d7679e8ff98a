/**
 * The one answer the proxy gives a message, whatever its protocol, and the
 * pure steps that lead to it. The proxy decides an Outcome once (lists →
 * exemption → flood/duplicate → scan → policy), then writes its records and
 * renders the protocol's reply from it; nothing here knows bytes or HTTP.
 */
import type { LogAction, MessageDecision } from './decide.js';
import type { ListAction } from './msisdn-list.js';
import type { VaspQuotaOutcome } from './vasp-limits.js';

/** Why a message is refused for good: each maps to one permanent protocol status (the proxy's errors.ts). */
export type RefuseReason = 'content' | 'oversize' | 'malformed' | 'denied' | 'bad-request';
/** Why a message is refused for now: the sender may retry (`quota`: a VASP over MM7_VASP_LIMITS, over=transient). */
export type TransientReason = 'scan-error' | 'store-down' | 'busy' | 'quota';

export type Outcome =
  /**
   * Scanned (or nothing to scan) and clean, or (`monitored`) findings only logged in monitor mode:
   * the original bytes go on.
   */
  | { readonly kind: 'forward'; readonly monitored?: true }
  /** Goes on without a scan: over the size limit with `pass`, or a sender exempted by the MSISDN list. */
  | { readonly kind: 'forward-unscanned'; readonly why: 'oversize' | 'exempt' }
  /** Blocked parts replaced (REMOVE_BLOCKED), the rest goes on. */
  | { readonly kind: 'rewrite' }
  | { readonly kind: 'refuse'; readonly reason: RefuseReason }
  /** Blocked, but the sender is told it went through (BULK_BLOCK_REPLY=hide). */
  | { readonly kind: 'hide' }
  | { readonly kind: 'transient'; readonly reason: TransientReason }
  /** The peer went away or the transfer broke: there is nobody to answer. */
  | { readonly kind: 'abort' };

/**
 * What a scanned message becomes. `rebuilt` says whether the blocked parts could actually be replaced:
 * a rewrite that turns out impossible (a pseudo-part, bytes already sent) is a refusal, so the records
 * written from the outcome can never say `attachment-removed` for a message that was blocked.
 */
export function scanOutcome(d: MessageDecision, rebuilt: boolean): Outcome {
  switch (d.action) {
    case 'forward':
      return d.monitored === true ? { kind: 'forward', monitored: true } : { kind: 'forward' };
    case 'transient':
      return { kind: 'transient', reason: 'scan-error' };
    case 'rewrite':
      return rebuilt ? { kind: 'rewrite' } : { kind: 'refuse', reason: 'content' };
    case 'block':
      return { kind: 'refuse', reason: 'content' };
  }
}

/** A list entry matched the sender (vouched for by a trusted gateway, or not) or a recipient. */
export interface ListHit {
  readonly action: ListAction;
  readonly who: 'sender' | 'recipient';
}

/**
 * What an MSISDN-list hit does. `block` refuses whoever matched. Exemptions lift scanning or counting
 * only for a sender a trusted gateway vouched for: a From or a recipient is whatever the attacker
 * wrote, and an attacker must not be able to switch scanning off by naming an exempt number.
 * `null`: carry on (scan and count); `count: false`: carry on without flood/duplicate counting.
 */
export function listOutcome(
  hit: ListHit | null, senderVouched: boolean,
): { outcome: Outcome | null; count: boolean; honoured: boolean } {
  if (hit === null) return { outcome: null, count: true, honoured: false };
  if (hit.action === 'block') return { outcome: { kind: 'refuse', reason: 'denied' }, count: true, honoured: true };
  if (hit.action === 'monitor') return { outcome: null, count: true, honoured: true };
  const trusted = hit.who === 'sender' && senderVouched;
  if (!trusted) return { outcome: null, count: true, honoured: false };
  return hit.action === 'exempt'
    ? { outcome: { kind: 'forward-unscanned', why: 'exempt' }, count: true, honoured: true }
    : { outcome: null, count: false, honoured: true };
}

/** A flood or duplicate block, or the counter store failing with STATE_STORE_FAILURE=closed. */
export function bulkOutcome(hit: 'flood' | 'dupe' | 'store-down', reply: 'deny' | 'hide'): Outcome {
  if (hit === 'store-down') return { kind: 'transient', reason: 'store-down' };
  return reply === 'hide' ? { kind: 'hide' } : { kind: 'refuse', reason: 'denied' };
}

/**
 * A VASP over its MM7_VASP_LIMITS rule: `over=reject` is refused for good (4007 Service denied, the
 * `denied` row), `over=transient` is asked to retry (the `quota` row, with the wait). null: within its quota.
 */
export function quotaOutcome(q: VaspQuotaOutcome): Outcome | null {
  if (q.action === 'pass') return null;
  return q.action === 'refuse' ? { kind: 'refuse', reason: 'denied' } : { kind: 'transient', reason: 'quota' };
}

/** How an event took part in the outcome: caused it, was only seen, or was let through unscanned. */
export type EventRole = 'cause' | 'monitored' | 'passthrough';

/** The UTM `action` of an event, read from the final outcome (never decided before it). */
export function eventAction(role: EventRole, o: Outcome): LogAction {
  if (role === 'monitored') return 'monitored';
  if (role === 'passthrough' || o.kind === 'forward-unscanned') return 'passthrough';
  return o.kind === 'rewrite' ? 'attachment-removed' : 'blocked';
}

export type VerdictAction =
  | 'forwarded' | 'monitored' | 'passthrough' | 'attachment-removed' | 'blocked' | 'rejected' | 'aborted';

/** The verdict record's `action` for an outcome (docs/logs.md). */
export function verdictAction(o: Outcome): VerdictAction {
  switch (o.kind) {
    case 'forward':
      return o.monitored === true ? 'monitored' : 'forwarded';
    case 'forward-unscanned':
      return o.why === 'oversize' ? 'passthrough' : 'forwarded';
    case 'rewrite':
      return 'attachment-removed';
    case 'refuse':
      return o.reason === 'bad-request' ? 'rejected' : 'blocked';
    case 'transient':
      return o.reason === 'busy' ? 'rejected' : 'blocked';
    case 'hide':
      return 'blocked';
    case 'abort':
      return 'aborted';
  }
}

/** The role of a scan event from the policy decision: a part that blocks causes the outcome. */
export function scanEventRole(action: LogAction): EventRole {
  return action === 'monitored' ? 'monitored' : action === 'passthrough' ? 'passthrough' : 'cause';
}
