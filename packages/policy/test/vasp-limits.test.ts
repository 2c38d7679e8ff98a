import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_BURST, MAX_RATE_PER_SEC, MAX_VASP_ID_LENGTH, MAX_VASP_RULES, MemoryQuotaStore, assertQuotaTake, checkVaspQuota,
  indexVaspRules, parseVaspLimits, utcDay, vaspOfKey, vaspQuotaKey, vaspQuotaOutcome, vaspQuotaSpec, vaspRuleFor,
  vaspUsageReport,
  type QuotaResult, type VaspRule,
} from '../src/index.js';

const FILE = [
  '# VASPs of this MMSC',
  'news    rate=10/s burst=50 daily=100000 over=reject',
  'games   rate=30/m            # burst: one second\'s worth, at least 1',
  '',
  'bulk    daily=5000 over=transient',
  'inhouse unlimited',
  '*       rate=2/s daily=1000',
].join('\r\n');

const rulesOf = (text: string): VaspRule[] => {
  const { rules, problems } = parseVaspLimits(text);
  expect(problems).toEqual([]);
  return rules;
};

describe('MM7_VASP_LIMITS files', () => {
  it('parse rates per second, minute and hour, bursts, daily quotas, over= and the * rule', () => {
    const rules = rulesOf(FILE);
    expect(rules.map((r) => [r.line, r.vasp, r.ratePerSec, r.rate, r.burst, r.daily, r.over, r.unlimited])).toEqual([
      [2, 'news', 10, '10/s', 50, 100_000, 'reject', false],
      [3, 'games', 0.5, '30/m', 1, null, 'transient', false],
      [5, 'bulk', null, null, 0, 5000, 'transient', false],
      [6, 'inhouse', null, null, 0, null, 'transient', true],
      [7, '*', 2, '2/s', 2, 1000, 'transient', false],
    ]);
    expect(rulesOf('slow rate=1/h')[0]?.ratePerSec).toBe(1 / 3600);
  });

  it('report every bad line with its number (the proxy refuses the file) and keep only good lines', () => {
    const bad = [
      'a rate=10', 'b rate=0/s', 'c rate=10/d', 'd rate=1.5/s', 'e rate=1/s burst=0', 'f rate=1/s burst=x',
      'g daily=-1', 'h daily=1e6', 'i daily=10 over=drop', 'j daily=10 colour=red', 'k daily=1 daily=2', 'l burst=5',
      'm', 'n unlimited daily=5', `o rate=${MAX_RATE_PER_SEC + 1}/s`, `p rate=1/s burst=${MAX_BURST + 1}`,
      `${'q'.repeat(MAX_VASP_ID_LENGTH + 1)} daily=1`, 'ok daily=1', 'ok daily=2', 'r daily', '* daily=1', '* daily=2',
    ];
    const { rules, problems } = parseVaspLimits(bad.join('\n'));
    expect(rules.map((r) => r.vasp)).toEqual(['ok', '*']);
    expect(problems.map((p) => p.line)).toEqual([...Array.from({ length: 17 }, (_, i) => i + 1), 19, 20, 22]);
    const why = (line: number): string => problems.find((p) => p.line === line)?.reason ?? '';
    expect(why(1)).toMatch(/N\/s, N\/m or N\/h/);
    expect(why(10)).toMatch(/unknown setting 'colour'/);
    expect(why(11)).toMatch(/'daily' given twice/);
    expect(why(12)).toMatch(/burst needs a rate/);
    expect(why(13)).toMatch(/no limit/);
    expect(why(15)).toMatch(/over 100000\/s/);
    expect(why(19)).toMatch(/'ok' already has a rule on line 18/);
    expect(why(22)).toMatch(/'\*' already has a rule on line 21/);
  });

  it(`stop at ${MAX_VASP_RULES} rules with one problem, not one per extra line`, () => {
    const lines = Array.from({ length: MAX_VASP_RULES + 5 }, (_, i) => `v${i} daily=1`);
    const { rules, problems } = parseVaspLimits(lines.join('\n'));
    expect(rules).toHaveLength(MAX_VASP_RULES);
    expect(problems).toEqual([{ line: MAX_VASP_RULES + 1, reason: `more than ${MAX_VASP_RULES} VASP rules` }]);
  });

  it('parse any text to rules and problems, never throwing, with unique VASPs and real line numbers', () => {
    const token = fc.constantFrom('v1', 'v2', '*', 'rate=5/s', 'rate=1/m', 'burst=3', 'daily=7', 'over=reject', 'x=1',
      '#', 'unlimited', 'rate=', '=', ' ', '\t', '\n', '\r\n', '0', '/s');
    fc.assert(fc.property(fc.array(token, { maxLength: 60 }).map((t) => t.join(' ')), (text) => {
      const { rules, problems } = parseVaspLimits(text);
      const lines = text.split(/\r?\n/).length;
      for (const p of [...rules, ...problems]) expect(p.line >= 1 && p.line <= lines).toBe(true);
      expect(new Set(rules.map((r) => r.vasp)).size).toBe(rules.length);
      for (const r of rules) expect(r.unlimited || r.ratePerSec !== null || r.daily !== null).toBe(true);
    }), { numRuns: 500 });
  });

  it('read back what they say: a written rule parses to the same limits', () => {
    const rule = fc.record({
      count: fc.integer({ min: 1, max: MAX_RATE_PER_SEC }), unit: fc.constantFrom('s', 'm', 'h'),
      burst: fc.option(fc.integer({ min: 1, max: MAX_BURST })), daily: fc.option(fc.integer({ min: 1, max: 1e9 })),
      over: fc.constantFrom('reject', 'transient'),
    });
    fc.assert(fc.property(rule, (r) => {
      const text = `V rate=${r.count}/${r.unit} over=${r.over}${r.burst === null ? '' : ` burst=${r.burst}`}`
        + `${r.daily === null ? '' : ` daily=${r.daily}`}`;
      const [got] = rulesOf(text);
      const perSec = r.count / { s: 1, m: 60, h: 3600 }[r.unit];
      const burst = r.burst ?? Math.max(1, Math.ceil(perSec));
      expect(got).toMatchObject({ ratePerSec: perSec, daily: r.daily, over: r.over, burst });
      // whatever the file says, a store can take it
      expect(() => assertQuotaTake('k', vaspQuotaSpec(got!, 0), 0)).not.toThrow();
    }));
  });
});

describe('VASP lookup and keys', () => {
  const limits = indexVaspRules(rulesOf(FILE));

  it('find a listed VASP by its exact VASPID, and the * rule for any other (or none)', () => {
    expect(vaspRuleFor(limits, 'news')?.line).toBe(2);
    expect(vaspRuleFor(limits, 'NEWS')?.vasp).toBe('*');
    expect(vaspRuleFor(limits, null)?.vasp).toBe('*');
    expect(vaspRuleFor(indexVaspRules(rulesOf('news daily=1')), 'other')).toBeNull();
  });

  it('key VASPs so that no VASPID written on the wire can name another key, or grow one without bound', () => {
    expect(vaspQuotaKey('news')).toBe('vasp-quota:id:news');
    expect(vaspQuotaKey(null)).toBe('vasp-quota:none');
    expect(vaspQuotaKey('')).toBe('vasp-quota:none');
    expect(vaspQuotaKey('none')).not.toBe(vaspQuotaKey(null));
    const long = vaspQuotaKey('x'.repeat(65_536));
    expect(long).toMatch(/^vasp-quota:sha256:[0-9a-f]{64}$/);
    expect(vaspQuotaKey(`sha256:${long.slice(-64)}`)).not.toBe(long);
    expect(vaspOfKey(vaspQuotaKey('a:b'))).toEqual({ vasp: 'a:b', label: 'a:b' });
    expect(vaspOfKey(long)).toEqual({ vasp: null, label: `(${long.slice('vasp-quota:'.length)})` });
  });

  it('count days in UTC: 00:00 UTC starts the next day', () => {
    expect(utcDay(Date.UTC(2024, 1, 29, 23, 59, 59, 999))).toEqual({ key: '2024-02-29', endsAt: Date.UTC(2024, 2, 1) });
    expect(utcDay(Date.UTC(2024, 2, 1)).key).toBe('2024-03-01');
  });
});

describe('VASP quota outcomes', () => {
  const [news, , bulk] = rulesOf(FILE) as [VaspRule, VaspRule, VaspRule];
  const denied = (reason: 'rate' | 'daily', retryAfterMs: number): QuotaResult => ({
    allowed: false, reason, tokens: 0, usedToday: 5, retryAfterMs,
  });

  it('pass what was allowed, refuse with 4007 for over=reject, else ask to retry in whole seconds (>= 1)', () => {
    const allowed: QuotaResult = { allowed: true, reason: null, tokens: 3, usedToday: 1, retryAfterMs: 0 };
    expect(vaspQuotaOutcome(news, allowed)).toEqual({ action: 'pass' });
    expect(vaspQuotaOutcome(news, denied('rate', 100))).toEqual({ action: 'refuse', status: 4007, reason: 'rate' });
    const retry = (reason: 'rate' | 'daily', ms: number): unknown => vaspQuotaOutcome(bulk, denied(reason, ms));
    expect(retry('rate', 1)).toEqual({ action: 'transient', retryAfterSeconds: 1, reason: 'rate' });
    expect(retry('rate', 1001)).toEqual({ action: 'transient', retryAfterSeconds: 2, reason: 'rate' });
    expect(retry('daily', 0)).toEqual({ action: 'transient', retryAfterSeconds: 1, reason: 'daily' });
    expect(retry('daily', 43_200_000)).toEqual({ action: 'transient', retryAfterSeconds: 43_200, reason: 'daily' });
  });

  it('check a VASP on a store: its own rule, a bucket of its own under *, nothing counted when unlimited', async () => {
    const limits = indexVaspRules(rulesOf(FILE));
    const s = new MemoryQuotaStore();
    const t = Date.UTC(2024, 4, 1, 12);
    expect(await checkVaspQuota(s, limits, 'inhouse', t)).toBeNull();
    expect(await checkVaspQuota(s, indexVaspRules([]), 'anyone', t)).toBeNull();
    expect(s.size).toBe(0);
    // * is rate=2/s: a burst of 2 for each unlisted VASP, not 2 shared by all of them
    const seen = [];
    for (const v of ['x', 'x', 'x', 'y', null, null, null]) {
      seen.push((await checkVaspQuota(s, limits, v, t))?.outcome.action);
    }
    expect(seen).toEqual(['pass', 'pass', 'transient', 'pass', 'pass', 'pass', 'transient']);
    for (let i = 0; i < 50; i++) await checkVaspQuota(s, limits, 'news', t);
    const over = await checkVaspQuota(s, limits, 'news', t);
    expect(over?.outcome).toEqual({ action: 'refuse', status: 4007, reason: 'rate' });
    expect(over?.rule.line).toBe(2);
  });

  it('report usage for /bulk/vasps: listed VASPs even before their first message, most used first', async () => {
    const limits = indexVaspRules(rulesOf(FILE));
    const s = new MemoryQuotaStore();
    const t = Date.UTC(2024, 4, 1, 12);
    for (let i = 0; i < 3; i++) await checkVaspQuota(s, limits, 'bulk', t);
    await checkVaspQuota(s, limits, 'stranger', t);
    const report = await vaspUsageReport(s, limits, t + 500);
    expect(report.day).toBe('2024-05-01');
    expect(report.day_ends).toBe('2024-05-02T00:00:00.000Z');
    expect(report.vasps).toEqual([
      { vasp: 'bulk', rule: 'bulk', line: 5, rate: null, burst: null, daily: 5000, over: 'transient', tokens: null,
        used_today: 3, remaining_today: 4997 },
      { vasp: 'stranger', rule: '*', line: 7, rate: '2/s', burst: 2, daily: 1000, over: 'transient', tokens: 2,
        used_today: 1, remaining_today: 999 },
      { vasp: 'games', rule: 'games', line: 3, rate: '30/m', burst: 1, daily: null, over: 'transient', tokens: 1,
        used_today: 0, remaining_today: null },
      { vasp: 'news', rule: 'news', line: 2, rate: '10/s', burst: 50, daily: 100_000, over: 'reject', tokens: 50,
        used_today: 0, remaining_today: 100_000 },
    ]);
    expect((await vaspUsageReport(s, limits, t, 1)).vasps.map((v) => v.vasp)).toEqual(['bulk']);
  });
});
