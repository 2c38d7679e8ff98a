/**
 * MSISDN lists: `ACTION TYPE PATTERN` rules, one per line, `#` comments.
 *   ACTION  block | exempt-mass (skip flood/duplicate) | exempt (skip scanning too) | monitor
 *   TYPE    simple (the exact number) | wildcard (`*` any digits, `?` one) | regex
 * Rules apply to the sender and every recipient, normalised like the flood
 * keys; the first rule (in file order) that matches any of them wins. Bad
 * lines are reported with their line numbers, never skipped silently.
 */
export type ListAction = 'block' | 'exempt-mass' | 'exempt' | 'monitor';

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
export function matchList(rules: readonly ListRule[], addresses: readonly string[]): { rule: ListRule; address: string } | null {
  for (const rule of rules) for (const a of addresses) if (a !== '' && rule.test(a)) return { rule, address: a };
  return null;
}
