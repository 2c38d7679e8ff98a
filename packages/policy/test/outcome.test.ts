import { describe, expect, it } from 'vitest';
import { decideMessage, eventAction, listOutcome, scanOutcome, verdictAction, type Outcome } from '../src/index.js';

const virus = { kind: 'infected', engine: 'builtin', name: 'Eicar-Test-Signature', path: 'a' } as const;
const settings = { unscannableAction: 'block', scanErrorAction: 'block', removeBlocked: true } as const;

describe('outcome', () => {
  it('turns a rewrite that cannot be carried out into a refusal, so no record can say attachment-removed', () => {
    const d = decideMessage([[virus]], settings);
    expect(scanOutcome(d, true)).toEqual({ kind: 'rewrite' });
    const refused = scanOutcome(d, false);
    expect(refused).toEqual({ kind: 'refuse', reason: 'content' });
    expect(eventAction('cause', refused)).toBe('blocked');
    expect(verdictAction(refused)).toBe('blocked');
  });

  it('derives every UTM action from the final outcome', () => {
    const cases: [Outcome, string][] = [
      [{ kind: 'rewrite' }, 'attachment-removed'], [{ kind: 'refuse', reason: 'oversize' }, 'blocked'],
      [{ kind: 'forward-unscanned', why: 'oversize' }, 'passthrough'], [{ kind: 'hide' }, 'blocked'],
      [{ kind: 'transient', reason: 'scan-error' }, 'blocked'],
    ];
    for (const [o, action] of cases) expect(eventAction('cause', o)).toBe(action);
    expect(eventAction('monitored', { kind: 'refuse', reason: 'content' })).toBe('monitored');
  });

  it('exempts only a sender a trusted gateway vouched for; a recipient never exempts', () => {
    const unchanged = { outcome: null, count: true, honoured: false };
    expect(listOutcome({ action: 'exempt', who: 'sender' }, true).outcome)
      .toEqual({ kind: 'forward-unscanned', why: 'exempt' });
    expect(listOutcome({ action: 'exempt', who: 'sender' }, false)).toEqual(unchanged);
    expect(listOutcome({ action: 'exempt', who: 'recipient' }, true)).toEqual(unchanged);
    expect(listOutcome({ action: 'exempt-mass', who: 'recipient' }, true).count).toBe(true);
    expect(listOutcome({ action: 'exempt-mass', who: 'sender' }, true).count).toBe(false);
    expect(listOutcome({ action: 'block', who: 'recipient' }, false).outcome)
      .toEqual({ kind: 'refuse', reason: 'denied' });
  });
});
