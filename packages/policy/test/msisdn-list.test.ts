import { describe, expect, it } from 'vitest';
import { MAX_ADDRESS_LENGTH, matchList, normalizeAddress, parseMsisdnList, parsePrefixRules } from '../src/index.js';

describe('MSISDN lists', () => {
  const text = [
    '# operators list', 'block simple +47 900 00 001', 'exempt wildcard +4791*', 'exempt-mass regex ^\\+4692\\d{6}$',
    'monitor wildcard +47????0000', '',
  ].join('\n');

  it('parses simple, wildcard and regex rules and matches the first rule in file order', () => {
    const { rules, problems } = parseMsisdnList(text);
    expect(problems).toEqual([]);
    expect(rules.map((r) => r.action)).toEqual(['block', 'exempt', 'exempt-mass', 'monitor']);
    const m = (a: string) => matchList(rules, [normalizeAddress(a)])?.rule.action ?? null;
    expect(m('+4790000001/TYPE=PLMN')).toBe('block');
    expect(m('+4791234567')).toBe('exempt');
    expect(m('+4692123456')).toBe('exempt-mass');
    expect(m('+4712340000')).toBe('monitor');
    expect(m('+4412345678')).toBeNull();
    expect(matchList(rules, ['+4412345678', '+4790000001'])?.rule.action).toBe('block');
  });

  it('reports bad lines with their numbers', () => {
    const { rules, problems } = parseMsisdnList(
      'block simple +47\nkill simple +1\nblock exact +2\nblock regex (\nonlytwo fields',
    );
    expect(rules).toHaveLength(1);
    expect(problems.map((p) => p.line)).toEqual([2, 3, 4, 5]);
  });
});

describe('prefix rules', () => {
  it('rewrite the first matching prefix so national, 00 and + forms count as one sender', () => {
    const rules = parsePrefixRules('00=+, 0=+47');
    expect(['+47 900 00 001', '0047900000 01', '0900 00 001'].map((a) => normalizeAddress(a, rules)))
      .toEqual(['+4790000001', '+4790000001', '+4790000001']);
    expect(normalizeAddress('someone@Example.COM', rules)).toBe('someone@example.com');
    expect(normalizeAddress('+4790000001/TYPE=PLMN')).toBe('+4790000001');
  });

  it('refuse what is not FROM=TO with digits', () => {
    for (const bad of ['00', 'x=+', '0=+47a', '=+']) expect(() => parsePrefixRules(bad), bad).toThrow(RangeError);
    expect(parsePrefixRules('')).toEqual([]);
  });
});

describe('MSISDN_LIST regexes cannot stall the event loop', () => {
  it('refuses nested quantifiers, backreferences and lookarounds with the line number', () => {
    const { rules, problems } = parseMsisdnList([
      'block regex ^(\\d+)+$',
      'block regex ^(a|a)*$',
      'exempt regex ^(\\d)\\1+$',
      'exempt regex ^(?=\\+47)\\d+$',
      'block regex ^(\\d|1){2,100}$',
      'block regex ^\\+4790\\d{6}$',
      'block regex ^(\\+47|0047)?9\\d{7}$',
    ].join('\n'));
    expect(problems.map((p) => p.line)).toEqual([1, 2, 3, 4, 5]);
    expect(problems[0]?.reason).toMatch(/nested quantifiers/);
    expect(problems[2]?.reason).toMatch(/backreferences/);
    expect(rules.map((r) => r.line)).toEqual([6, 7]);
  });

  it('tests no rule against an address longer than MAX_ADDRESS_LENGTH', () => {
    const { rules } = parseMsisdnList('exempt regex ^\\d*\\d*\\d*x$\nblock wildcard +47*');
    const long = `+47${'9'.repeat(MAX_ADDRESS_LENGTH)}`;
    expect(matchList(rules, [long])).toBeNull();
    expect(matchList(rules, ['+4790000000'])?.rule.line).toBe(2);
  });
});
