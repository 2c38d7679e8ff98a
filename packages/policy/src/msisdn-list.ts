/**
 * MSISDN lists: `ACTION TYPE PATTERN` rules, one per line, `#` comments.
 *   ACTION  block | exempt-mass (skip flood/duplicate) | exempt (skip scanning too) | monitor
 *   TYPE    simple (the exact number) | wildcard (`*` any digits, `?` one) | regex
 * Rules apply to the sender and every recipient, normalised like the flood
 * keys; the first rule (in file order) that matches any of them wins. Bad
 * lines are reported with their line numbers, never skipped silently.
 */
import safeRegex from 'safe-regex2';

export type ListAction = 'block' | 'exempt-mass' | 'exempt' | 'monitor';

/**
 * Longest address a list rule is tested against. An E.164 number has at most 15 digits and an
 * e-mail address at most 254 characters; the codec lets strings reach 64 KiB, where even a
 * polynomial regex (`\d*\d*$`) costs billions of steps. A longer address is no subscriber's, so no
 * rule is tested against it: it can neither be exempted nor cost us the event loop.
 */
export const MAX_ADDRESS_LENGTH = 256;

/**
 * Regex rules run on every message against attacker-chosen addresses, with V8's backtracking engine:
 * a rule with nested quantifiers (`(\d+)+$`) takes exponential time on a crafted address and stalls
 * the event loop for every handset. Such rules are refused at load (star height > 1, as fastify's
 * safe-regex2 measures it), and so are backreferences and lookarounds, which no number pattern needs
 * and which make matching non-linear; what is left is at worst polynomial in the address, whose length
 * is bounded by MAX_ADDRESS_LENGTH.
 */
function regexProblem(pattern: string): string | null {
  if (/\\[1-9k]|\(\?<?[=!]/.test(pattern)) {
    return 'backreferences and lookarounds are not allowed in MSISDN_LIST regexes';
  }
  if (!safeRegex(pattern) || repeatedAlternation(pattern)) {
    return 'nested quantifiers or a repeated alternation (catastrophic backtracking) are not allowed in '
      + 'MSISDN_LIST regexes';
  }
  return null;
}

/**
 * A group holding `|` under an unbounded quantifier (`(\d|\d)*`, `(a|ab)+`, `(x|y){2,}`): star height 1,
 * so safe-regex2 passes it, yet overlapping branches backtrack exponentially. A bounded `?` or `{m,n}`
 * (the usual `(\+47|0047)?`) is allowed.
 */
function repeatedAlternation(p: string): boolean {
  const alternates: boolean[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') i++;
    else if (c === '[') {
      for (i++; i < p.length && p[i] !== ']'; i++) if (p[i] === '\\') i++;
    } else if (c === '(') alternates.push(false);
    else if (c === '|' && alternates.length > 0) alternates[alternates.length - 1] = true;
    else if (c === ')') {
      const alt = alternates.pop() === true;
      if (alt && alternates.length > 0) alternates[alternates.length - 1] = true;
      // {m,n} counts as unbounded past 16 repetitions: 2^16 paths per position is already a stall.
      const q = /^(?:[*+]|\{\d*,(\d*)\})/.exec(p.slice(i + 1));
      if (alt && q !== null && (q[1] === undefined || q[1] === '' || Number(q[1]) > 16)) return true;
    }
  }
  return false;
}

export interface ListRule {
  readonly line: number;
  readonly action: ListAction;
  readonly type: 'simple' | 'wildcard' | 'regex';
  readonly pattern: string;
  readonly test: (address: string) => boolean;
}

export interface ListProblem {
  readonly line: number;
  readonly reason: string;
}

const ACTIONS = new Set<string>(['block', 'exempt-mass', 'exempt', 'monitor']);

/** +47 900 00 000/TYPE=PLMN -> +4790000000; e-mail addresses lower-cased. */
export function normalizeAddress(a: string, prefixes: readonly PrefixRule[] = []): string {
  const bare = a.replace(/\/TYPE=.*$/i, '').trim();
  if (bare.includes('@')) return bare.toLowerCase();
  const digits = bare.replace(/[^\d+]/g, '');
  // The first rule whose prefix matches rewrites it, e.g. 00 → + and 0 → +47 (national → international).
  const rule = prefixes.find((r) => digits.startsWith(r.from));
  return rule === undefined ? digits : rule.to + digits.slice(rule.from.length);
}

export interface PrefixRule {
  readonly from: string;
  readonly to: string;
}

/** Parses `FROM=TO` pairs separated by commas (`00=+,0=+47`); order matters: the first match wins. */
export function parsePrefixRules(spec: string): PrefixRule[] {
  return spec.split(',').map((x) => x.trim()).filter((x) => x !== '').map((x) => {
    const m = /^(\+?\d+)=(\+?\d*)$/.exec(x);
    if (m === null) throw new RangeError(`prefix rule '${x}' is not FROM=TO with digits (e.g. 00=+ or 0=+47)`);
    return { from: m[1]!, to: m[2]! };
  });
}

/** A wildcard pattern as a regex over normalised addresses: `*` any run, `?` one character. */
function wildcard(pattern: string): RegExp {
  const p = pattern.replace(/\/TYPE=.*$/i, '').trim();
  const email = p.includes('@');
  let src = '';
  for (const ch of email ? p.toLowerCase() : p) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else if (email) src += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    else if (ch === '+') src += '\\+';
    else if (/\d/.test(ch)) src += ch;
  }
  return new RegExp(`^${src}$`);
}

export function parseMsisdnList(text: string): { rules: ListRule[]; problems: ListProblem[] } {
  const rules: ListRule[] = [];
  const problems: ListProblem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+)\s+(\S+)\s+(.+)$/.exec(line);
    if (m === null) {
      problems.push({ line: i + 1, reason: 'expected ACTION TYPE PATTERN' });
      return;
    }
    const [, action, type, pattern] = m as unknown as [string, string, string, string];
    if (!ACTIONS.has(action)) {
      problems.push({ line: i + 1, reason: `unknown action '${action}' (block, exempt-mass, exempt, monitor)` });
      return;
    }
    let test: (a: string) => boolean;
    if (type === 'simple') {
      const want = normalizeAddress(pattern);
      test = (a) => a === want;
    } else if (type === 'wildcard') {
      const re = wildcard(pattern);
      test = (a) => re.test(a);
    } else if (type === 'regex') {
      const unsafe = regexProblem(pattern);
      if (unsafe !== null) {
        problems.push({ line: i + 1, reason: unsafe });
        return;
      }
      try {
        const re = new RegExp(pattern);
        test = (a) => re.test(a);
      } catch (e) {
        problems.push({ line: i + 1, reason: `bad regex: ${(e as Error).message}` });
        return;
      }
    } else {
      problems.push({ line: i + 1, reason: `unknown type '${type}' (simple, wildcard, regex)` });
      return;
    }
    rules.push({ line: i + 1, action: action as ListAction, type: type, pattern, test });
  });
  return { rules, problems };
}

/** The first rule matching any of the addresses (already normalised), or null. */
export function matchList(
  rules: readonly ListRule[], addresses: readonly string[],
): { rule: ListRule; address: string } | null {
  for (const rule of rules) {
    for (const a of addresses) {
      if (a !== '' && a.length <= MAX_ADDRESS_LENGTH && rule.test(a)) return { rule, address: a };
    }
  }
  return null;
}
