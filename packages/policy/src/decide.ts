/**
 * What scan findings mean. Pure: findings and settings in, decisions out. A
 * part is blocked by a virus, a filtered file type, or (UNSCANNABLE_ACTION
 * block) an archive it could not open; an engine error makes the whole
 * message a transient failure (SCAN_ERROR_ACTION block) or is only logged
 * (pass). A message with blocked parts is refused, or rewritten without them
 * (REMOVE_BLOCKED).
 */
import type { Finding } from '@mmsguard/scan';

export type Subtype = 'virus' | 'file-filter' | 'unscannable' | 'scan-error' | 'oversize' | 'malformed';
export type LogAction = 'blocked' | 'attachment-removed' | 'passthrough' | 'monitored';
export type MessageAction = 'forward' | 'block' | 'rewrite' | 'transient';

export interface PolicySettings {
  readonly unscannableAction: 'block' | 'pass';
  readonly scanErrorAction: 'block' | 'pass';
  readonly removeBlocked: boolean;
  /**
   * MM1_SCAN_MODE / MM7_SCAN_MODE=monitor: a trial run. Every finding is still an event, but as
   * `monitored`, and the message is forwarded as it came (nothing blocked, removed or held back).
   */
  readonly monitor?: boolean;
}

export interface PartEvent {
  readonly part: number;
  readonly subtype: Subtype;
  readonly action: LogAction;
  readonly finding: Finding;
}

export interface MessageDecision {
  readonly action: MessageAction;
  readonly events: readonly PartEvent[];
  readonly blockedParts: ReadonlySet<number>;
  /** Forwarded only because of monitor mode: there were findings (the verdict record says `monitored`). */
  readonly monitored?: boolean;
}

const SUBTYPE: Record<Finding['kind'], Subtype> = {
  infected: 'virus',
  'file-type': 'file-filter',
  unscannable: 'unscannable',
  error: 'scan-error',
};

export function decideMessage(parts: readonly (readonly Finding[])[], s: PolicySettings): MessageDecision {
  const blocked = new Set<number>();
  let transient = false;
  const raw: { part: number; finding: Finding; blocking: boolean; transient: boolean }[] = [];
  parts.forEach((findings, part) => {
    for (const f of findings) {
      const blocking = f.kind === 'infected' || f.kind === 'file-type'
        || (f.kind === 'unscannable' && s.unscannableAction === 'block');
      const isTransient = f.kind === 'error' && s.scanErrorAction === 'block';
      if (blocking) blocked.add(part);
      if (isTransient) transient = true;
      raw.push({ part, finding: f, blocking, transient: isTransient });
    }
  });
  const action: MessageAction = blocked.size > 0
    ? (s.removeBlocked ? 'rewrite' : 'block')
    : transient ? 'transient' : 'forward';
  const events = raw.map((r): PartEvent => ({
    part: r.part,
    subtype: SUBTYPE[r.finding.kind],
    finding: r.finding,
    action: r.blocking
      ? (action === 'rewrite' ? 'attachment-removed' : 'blocked')
      : r.transient && action === 'transient' ? 'blocked' : 'monitored',
  }));
  const d = { action, events, blockedParts: blocked };
  return s.monitor === true ? monitorOnly(d) : d;
}

/** Monitor mode's step: the same findings, none acted on. Pure; what block mode would have done is in the events. */
export function monitorOnly(d: MessageDecision): MessageDecision {
  return {
    action: 'forward', events: d.events.map((e) => ({ ...e, action: 'monitored' })), blockedParts: new Set(),
    monitored: d.events.length > 0,
  };
}
