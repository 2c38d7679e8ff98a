/**
 * uudecode for MIME parts carried `Content-Transfer-Encoding: x-uuencode` (also `uuencode`,
 * `x-uue`, `uue`): every `begin <mode> <name>` … `end` section of the body becomes one file, and
 * so does GNU's `begin-base64` … `====` form. Read as leniently as the classic decoder, so that
 * what any receiver extracts is among what we return: a character's value is `(c - 32) & 63`
 * (backtick and space are both 0), a short line is padded with zeros, characters past a line's
 * declared length are ignored, a missing `end` ends the file at the end of the body.
 *
 * The output of each file is at most three quarters of its text, so memory is bounded by the body;
 * `maxFiles` bounds how many scan targets one part can fan out into.
 */

export interface UuFile {
  /** As written on the `begin` line (may be empty). */
  readonly name: string;
  readonly mode: string;
  readonly data: Buffer;
  /** Offsets in the body of the `begin` line and of the end of the section. */
  readonly start: number;
  readonly end: number;
  /** false when the body ended before `end` (or `====`). */
  readonly complete: boolean;
}

export interface UuDecoded {
  readonly files: readonly UuFile[];
  /** Why the body cannot be read in full (no begin line, a malformed one, too many files); null when it can. */
  readonly problem: string | null;
}

/** Files taken from one body by default. Stops one part from fanning out into thousands of scan targets. */
export const DEFAULT_MAX_UU_FILES = 100;

const BEGIN = /^begin(-base64)?[ \t]+([0-7]{1,6})[ \t]+(.*?)[ \t]*$/;

interface Open {
  readonly name: string;
  readonly mode: string;
  readonly base64: boolean;
  readonly start: number;
  readonly chunks: Buffer[];
  b64: string;
}

function decodeLine(line: string): Buffer {
  const len = (line.charCodeAt(0) - 32) & 63;
  const out = Buffer.alloc(len);
  const v = (i: number): number => (i < line.length ? (line.charCodeAt(i) - 32) & 63 : 0);
  for (let o = 0, i = 1; o < len; o += 3, i += 4) {
    const a = v(i), b = v(i + 1), c = v(i + 2), d = v(i + 3);
    out[o] = (a << 2) | (b >> 4);
    if (o + 1 < len) out[o + 1] = ((b << 4) | (c >> 2)) & 0xff;
    if (o + 2 < len) out[o + 2] = ((c << 6) | d) & 0xff;
  }
  return out;
}

export function decodeUuencode(body: Uint8Array, maxFiles = DEFAULT_MAX_UU_FILES): UuDecoded {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
  const files: UuFile[] = [];
  let problem: string | null = null;
  let open: Open | null = null;
  const close = (end: number, complete: boolean): void => {
    if (open === null) return;
    const data = open.base64 ? Buffer.from(open.b64, 'base64') : Buffer.concat(open.chunks);
    files.push({ name: open.name, mode: open.mode, data, start: open.start, end, complete });
    open = null;
  };
  let pos = 0;
  while (pos < text.length && problem === null) {
    const nl = text.indexOf('\n', pos);
    const next = nl < 0 ? text.length : nl + 1;
    const line = text.slice(pos, nl < 0 ? text.length : nl).replace(/\r$/, '');
    const beginLike = /^begin[- \t]/.test(line);
    const begin = beginLike ? BEGIN.exec(line) : null;
    if (beginLike && begin === null) {
      // Decoders disagree on what such a line starts; we cannot say what a receiver extracts.
      problem = 'malformed uuencode begin line';
    } else if (begin !== null) {
      close(pos, false);
      if (files.length >= maxFiles) problem = `more than ${maxFiles} uuencoded files in one part`;
      else {
        const base64 = begin[1] !== undefined;
        open = { name: begin[3] ?? '', mode: begin[2] ?? '', base64, start: pos, chunks: [], b64: '' };
      }
    } else if (open !== null) {
      const o: Open = open;
      if (o.base64 ? line.trim() === '====' : line.trim() === 'end') close(next, true);
      else if (o.base64) o.b64 += line;
      else if (line.length > 0) o.chunks.push(decodeLine(line));
    }
    pos = next;
  }
  close(text.length, false);
  if (problem === null && files.length === 0) problem = 'x-uuencode body without a begin line';
  return { files, problem };
}
