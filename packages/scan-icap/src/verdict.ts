/**
 * What an ICAP reply says about the part: the infection names servers put in headers (c-icap's
 * `X-Infection-Found` and `X-Violations-Found` from draft-stecher-icap-subid, `X-Virus-ID` as other
 * vendors send it), and the names used when a server blocks or changes the part without naming why.
 * Pure functions over parsed fields; the streaming body comparison lives in the exchange.
 */
import { field, type FieldMap } from './reply.js';

/** A server replaced the part by a block page (an HTTP status other than 200, or a response to REQMOD). */
export const BLOCKED_NAME = 'ICAP.Blocked';
/** A server sent the part back changed (cut short, disinfected, rewritten) without naming a threat. */
export const MODIFIED_NAME = 'ICAP.Modified';
/** A server reported an infection header without a usable name in it. */
export const UNNAMED = 'ICAP.Unnamed';

/** Names go to logs and replies: printable ASCII only, bounded, so a server cannot inject log lines. */
export function cleanName(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').trim().slice(0, 200);
}

/** `Type=0; Resolution=2; Threat=Eicar-Test-Signature;` → the Threat, or null. */
function fromInfectionFound(v: string): string | null {
  for (const pair of v.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === 'threat') {
      const name = cleanName(pair.slice(eq + 1));
      if (name !== '') return name;
    }
  }
  return null;
}

/** `1 \n -(file) \n Threat \n ProblemID \n Resolution` (folded lines) → the first threat, or null. */
function fromViolations(v: string): string | null {
  const lines = v.split('\n').map((l) => l.trim());
  const name = cleanName(lines[2] ?? '');
  return name === '' || name === '-' ? null : name;
}

/** The infection a reply's ICAP header fields report, or null when they report none. */
export function infectionName(fields: FieldMap): string | null {
  const found = field(fields, 'x-infection-found');
  const violations = field(fields, 'x-violations-found');
  const virusId = cleanName((field(fields, 'x-virus-id') ?? '').replace(/\n/g, ' '));
  // A violation count of 0 is a report of nothing.
  const violated = violations !== undefined && !/^0*$/.test(violations.split('\n')[0]?.trim() ?? '');
  if (found === undefined && !violated && virusId === '') return null;
  return (found === undefined ? null : fromInfectionFound(found))
    ?? (violated ? fromViolations(violations) : null)
    ?? (virusId === '' ? null : virusId)
    ?? UNNAMED;
}
