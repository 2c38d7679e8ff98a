/**
 * Which part of a multipart/related MM7 body is the SOAP envelope (RFC 2387): the one the root's
 * `start` parameter names by Content-ID, else the first. Stacks compare Content-IDs differently
 * (exactly; without `<>`; Kannel: a prefix of `start`; we: also without quotes and case), and a
 * part one stack takes for the envelope is content to another. This picks the part only when
 * every such reading agrees; otherwise it refuses (AMBIGUOUS). It does not parse the envelope.
 */
import { ambiguous } from './errors.js';
import { normalizeCid } from './content-type.js';
import type { MimePart } from './mime.js';

const bare = (v: string): string => v.trim().replace(/^<(.*)>$/, '$1');

/** The SOAP part of `root` (a parsed multipart/related), or null when it has no parts. */
export function soapRoot(root: MimePart): MimePart | null {
  const kids = root.children ?? [];
  const first = kids[0] ?? null;
  const start = root.contentType.params['start'];
  if (start === undefined || first === null) return first;
  const want = normalizeCid(start);
  const hits = kids.filter((k) => k.contentId !== null && normalizeCid(k.contentId) === want);
  const hit = hits[0];
  if (hits.length > 1) throw ambiguous('start parameter names more than one part', root.start);
  if (hit === undefined || hit === first) return first;
  // Not the first part: strict stacks must find it too, or they fall back to the first.
  if (bare(hit.contentId ?? '') !== bare(start)) {
    throw ambiguous('start parameter matches a part only after normalising case or quotes', root.start);
  }
  // Kannel takes the first part whose Content-ID (without <>) is a prefix of start.
  const prefixFirst = kids.find((k) => {
    const cid = k.contentId === null ? '' : bare(k.contentId);
    return cid.length > 0 && bare(start).startsWith(cid);
  });
  if (prefixFirst !== hit) throw ambiguous('start parameter also prefix-matches an earlier part', root.start);
  return hit;
}
