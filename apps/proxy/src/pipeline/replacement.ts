/**
 * REPLACEMENT_SIZE=original (CONTRACT §7): a rewritten message keeps the byte length of the original,
 * because operators bill MMS by size and a removed attachment must not change the bill (FortiOS
 * Carrier's constant-length replacement).
 *
 * Each replacement text is first padded with spaces after the template text (or cut) to the byte
 * length of the part it replaces; then the rebuilt message is measured and the difference taken up by
 * the texts, since the replacement's own headers differ from the original part's (MM1: content type,
 * name, the WSP uintvar length fields; MM7: MIME headers, and a base64 attachment's encoded length is
 * what the original occupied). The adapters' rebuild does the encoding, so whatever it writes is what
 * is measured. A uintvar that grows by one byte at 128 or 16,384 can make one length unreachable: then
 * the closest shorter one is kept (never longer, so a size limit the original met is still met).
 */
import type { Inspection, Replacement } from './inspection.js';

/** Rebuilds tried at most: each is a re-encode of the whole message; two settle every case we know. */
const MAX_ROUNDS = 6;

const SPACE = 0x20;

/** `text` as exactly `bytes` UTF-8 bytes: spaces after it, or cut at a character boundary (then spaces). */
export function fitText(text: string, bytes: number): string {
  const n = Math.max(0, bytes);
  const b = Buffer.from(text, 'utf8');
  if (b.length <= n) return text + ' '.repeat(n - b.length);
  let end = n;
  // A UTF-8 continuation byte (10xxxxxx) cannot start a character: back up to one that can.
  while (end > 0 && ((b[end] ?? 0) & 0xc0) === 0x80) end--;
  return b.subarray(0, end).toString('utf8') + String.fromCharCode(SPACE).repeat(n - end);
}

const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * The message rebuilt with `reps`, each text sized so that the whole has `target` bytes when it can;
 * null when the adapter cannot rebuild (as `m.rebuild`).
 */
export function rebuildToLength(m: Inspection, reps: readonly Replacement[], target: number): Uint8Array | null {
  let cur = reps.map((r) => ({ ...r, text: fitText(r.text, r.target.data.length) }));
  let best: Uint8Array | null = null;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const out = m.rebuild(cur);
    if (out === null) return null;
    if (out.length === target) return out;
    if (out.length < target && (best === null || out.length > best.length)) best = out;
    let delta = target - out.length;
    // Longer: cut the texts, last first; shorter: pad the first.
    const next = [...cur];
    if (delta > 0) {
      const r = next[0];
      if (r === undefined) break;
      next[0] = { ...r, text: fitText(r.text, byteLength(r.text) + delta) };
    } else {
      for (let i = next.length - 1; i >= 0 && delta < 0; i--) {
        const r = next[i] as Replacement;
        const len = byteLength(r.text);
        const cut = Math.min(len, -delta);
        next[i] = { ...r, text: fitText(r.text, len - cut) };
        delta += cut;
      }
    }
    // No change possible, or the same length again (a uintvar step): stop with the closest shorter.
    if (next.every((r, i) => r.text === cur[i]?.text)) break;
    cur = next;
  }
  return best ?? m.rebuild(cur);
}
