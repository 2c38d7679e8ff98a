/**
 * Everything in a parsed MM7 body that a receiver could get, as a flat list of scan targets:
 * every leaf part (the SOAP root included), its transfer-decoded form, every file of an x-uuencode
 * part, every leaf of a message/* attachment's inner message (at any depth), and bytes no part
 * owns. What cannot be read is reported on the leaf (`unscannable`), never dropped: an unknown
 * transfer encoding, an x-uuencode body without a usable begin line, an inner message that does
 * not parse, a message/partial fragment. This module does not scan and does not throw.
 */
import { Mm7UnscannableCode, clip, type Mm7Unscannable } from './errors.js';
import { dispositionFilename } from './content-type.js';
import { resolveMimeLimits, type MimeLimits, type MimePart, type ParsedMime } from './mime.js';
import { decodeQuotedPrintable, transferEncodingKind } from './transfer-encoding.js';
import { decodeUuencode } from './uuencode.js';

/**
 * - `part`: a leaf MIME part (of the MM7 body or, when `depth` > 0, of an embedded message);
 *   message/* parts are `part` leaves too (their whole bytes), followed by their inner leaves.
 * - `uuencoded`: one begin…end file of an x-uuencode part (`decoded` is the file).
 * - `unattributed`: bytes no part owns (preamble, epilogue), scanned as they are.
 * - `whole-part`: a part's headers and body as one, as a stack reads it without headers (Kannel,
 *   after transport padding on the delimiter line), scanned as they are.
 */
export type ContentLeafKind = 'part' | 'uuencoded' | 'unattributed' | 'whole-part';

export interface ContentLeaf {
  readonly kind: ContentLeafKind;
  /**
   * Position for logs, stable for the same body: `2`, `2.1` (1-based child indices), `2/1.3` (`/`
   * enters the message inside part 2), `2#1` (first uuencoded file of part 2), `@812` (unattributed
   * bytes at offset 812 of the MM7 body, or of the embedded message whose path precedes it).
   */
  readonly id: string;
  /**
   * The MIME part the content comes from; null for unattributed bytes and whole parts. Offsets in
   * an embedded part are relative to its message.
   */
  readonly part: MimePart | null;
  /**
   * The part of the MM7 body itself that carries the content, to give to replaceParts() to remove
   * it: the leaf itself at depth 0, the message/* part around an embedded leaf. null for
   * unattributed bytes of the MM7 body.
   */
  readonly carrier: MimePart | null;
  /** message/* levels around the leaf (0: directly in the MM7 body). */
  readonly depth: number;
  /** Lower-cased type/subtype (application/octet-stream for uuencoded files and unattributed bytes). */
  readonly contentType: string;
  /** Content-Type `name`, Content-Disposition `filename`, Content-Location, or the uuencode file name. */
  readonly name: string | null;
  /** The bytes as carried. */
  readonly raw: Uint8Array;
  /** The bytes with the transfer encoding undone; null when there is none to undo. Scan both. */
  readonly decoded: Uint8Array | null;
  /** Set when (some of) the content cannot be read: treat the leaf as unscannable, never as clean. */
  readonly unscannable: Mm7Unscannable | null;
}

interface Walk {
  readonly out: ContentLeaf[];
  readonly maxUuFiles: number;
}

function nameOf(p: MimePart): string | null {
  const disposition = p.headers.find(([n]) => n === 'content-disposition')?.[1];
  return p.contentType.params['name'] ?? dispositionFilename(disposition) ?? p.contentLocation;
}

type Ranges = readonly { readonly offset: number; readonly length: number }[];

function rangeLeaves(
  w: Walk, kind: 'unattributed' | 'whole-part', bytes: Uint8Array, ranges: Ranges, prefix: string,
  carrier: MimePart | null, depth: number,
): void {
  for (const u of ranges) {
    w.out.push({
      kind, id: `${prefix}${kind === 'unattributed' ? '@' : '~'}${u.offset}`, part: null, carrier, depth,
      contentType: 'application/octet-stream',
      name: null, raw: bytes.subarray(u.offset, u.offset + u.length), decoded: null, unscannable: null,
    });
  }
}

function leaf(w: Walk, p: MimePart, id: string, carrier: MimePart | null, depth: number): void {
  const kind = transferEncodingKind(p.transferEncoding);
  const at = carrier ?? p;
  let decoded: Uint8Array | null = null;
  let unscannable: Mm7Unscannable | null = null;
  const files: ContentLeaf[] = [];
  const view = Buffer.from(p.raw.buffer, p.raw.byteOffset, p.raw.byteLength);
  if (kind === 'base64') decoded = Buffer.from(view.toString('latin1'), 'base64');
  else if (kind === 'quoted-printable') decoded = decodeQuotedPrintable(p.raw);
  else if (kind === 'unknown') {
    const reason = `unknown Content-Transfer-Encoding ${clip(p.transferEncoding ?? '')}`;
    unscannable = { code: Mm7UnscannableCode.ENCODING, reason };
  } else if (kind === 'uuencode') {
    const uu = decodeUuencode(p.raw, w.maxUuFiles);
    if (uu.problem !== null) unscannable = { code: Mm7UnscannableCode.UUENCODE, reason: uu.problem };
    uu.files.forEach((f, i) => files.push({
      kind: 'uuencoded', id: `${id}#${i + 1}`, part: p, carrier: at, depth, contentType: 'application/octet-stream',
      name: f.name.length > 0 ? f.name : null, raw: p.raw.subarray(f.start, f.end), decoded: f.data, unscannable: null,
    }));
  }
  const m = p.embedded;
  if (p.contentType.type === 'message/partial') {
    const reason = 'message/partial: a fragment of a message split across several';
    unscannable ??= { code: Mm7UnscannableCode.FRAGMENT, reason };
  }
  if (m?.error !== null && m?.error !== undefined) {
    const reason = `embedded message cannot be parsed (${m.error.code}: ${m.error.message})`;
    unscannable ??= { code: Mm7UnscannableCode.EMBEDDED, reason };
  }
  w.out.push({
    kind: 'part', id, part: p, carrier: at, depth, contentType: p.contentType.type, name: nameOf(p), raw: p.raw,
    decoded, unscannable,
  });
  w.out.push(...files);
  if (m?.root !== null && m?.root !== undefined) {
    walk(w, m.root, `${id}/`, at, depth + 1, true);
    rangeLeaves(w, 'unattributed', m.bytes, m.unattributed, `${id}/`, at, depth + 1);
    rangeLeaves(w, 'whole-part', m.bytes, m.wholeParts, `${id}/`, at, depth + 1);
  }
}

function walk(
  w: Walk, p: MimePart, prefix: string, carrier: MimePart | null, depth: number, entityRoot: boolean,
): void {
  if (p.children === null) {
    leaf(w, p, entityRoot ? `${prefix}1` : prefix, carrier, depth);
    return;
  }
  const sep = entityRoot ? '' : '.';
  p.children.forEach((c, i) => walk(w, c, `${prefix}${sep}${i + 1}`, carrier, depth, false));
}

/**
 * The scan targets of a parsed MM7 body (see the module header), in document order. Pass the
 * limits given to parseMime (only `maxUuencodedFiles` is used here).
 */
export function contentLeaves(parsed: ParsedMime, limits?: MimeLimits): ContentLeaf[] {
  const w: Walk = { out: [], maxUuFiles: resolveMimeLimits(limits).maxUuencodedFiles };
  walk(w, parsed.root, '', null, 0, true);
  const body = parsed.root.raw;
  rangeLeaves(w, 'unattributed', body, parsed.unattributed, '', null, 0);
  const byStart = new Map<number, MimePart>();
  const index = (p: MimePart): void => {
    byStart.set(p.start, p);
    p.children?.forEach(index);
  };
  index(parsed.root);
  for (const r of parsed.wholeParts) rangeLeaves(w, 'whole-part', body, [r], '', byStart.get(r.offset) ?? null, 0);
  return w.out;
}
