/**
 * ClamAV signature files, so operators can reuse theirs:
 *   .hdb  MD5:size:Name
 *   .hsb  SHA256:size:Name or SHA1:size:Name (size may be `*`)
 *   .ndb  Name:TargetType:Offset:HexSignature[:MinFL[:MaxFL]]
 * Every line that cannot be loaded is reported as `file:line: reason`; a
 * loader that skipped bad lines silently would leave holes nobody sees.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { extname } from 'node:path';
import { ScanError, ScanErrorCode } from '../errors.js';
import type { SignatureFileInfo, SignatureKind } from '../types.js';
import { PatternError, compilePattern, type CompiledPattern } from './hex-pattern.js';

export interface HashSignature {
  readonly algo: 'md5' | 'sha1' | 'sha256';
  readonly hash: string;
  /** null = any size (`*`). */
  readonly size: number | null;
  readonly name: string;
}

/** Where a body signature may start. */
export type SigOffset =
  | { readonly kind: 'any' }
  | { readonly kind: 'abs'; readonly from: number; readonly to: number }
  | { readonly kind: 'eof'; readonly from: number; readonly to: number }; // bytes before the end

export interface BodySignature {
  readonly name: string;
  /** ClamAV target type: 0 any, 1 PE, 6 ELF, 7 ASCII text, 9 Mach-O (others are applied to any file). */
  readonly target: number;
  readonly offset: SigOffset;
  readonly pattern: CompiledPattern;
}

export interface SignatureSet {
  readonly hashes: readonly HashSignature[];
  readonly bodies: readonly BodySignature[];
  /** The files these came from (loadSignatureFiles), for the engine to describe itself. */
  readonly files?: readonly SignatureFileInfo[];
}

export interface SignatureProblem {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
}

const HEX = /^[0-9a-fA-F]+$/;

function parseOffset(s: string): SigOffset {
  if (s === '*') return { kind: 'any' };
  const m = /^(EOF-)?(\d+)(?:,(\d+))?$/.exec(s);
  if (m === null) throw new PatternError(`unsupported offset '${s}' (supported: *, n, n,m, EOF-n, EOF-n,m)`);
  const n = Number(m[2]);
  const extra = m[3] === undefined ? 0 : Number(m[3]);
  return m[1] !== undefined ? { kind: 'eof', from: n, to: n - extra } : { kind: 'abs', from: n, to: n + extra };
}

export function parseHashLine(line: string, ext: '.hdb' | '.hsb'): HashSignature {
  const f = line.split(':');
  if (f.length < 3) throw new PatternError('expected HASH:SIZE:NAME');
  const [hash, size, name] = f as [string, string, string];
  if (!HEX.test(hash)) throw new PatternError('hash is not hex');
  const algo = hash.length === 32 ? 'md5' : hash.length === 40 ? 'sha1' : hash.length === 64 ? 'sha256' : null;
  if (algo === null) throw new PatternError(`hash of ${hash.length} hex digits is no MD5/SHA1/SHA256`);
  if (ext === '.hdb' && algo !== 'md5') throw new PatternError('.hdb lines hold MD5 hashes');
  if (size !== '*' && !/^\d+$/.test(size)) throw new PatternError(`size '${size}' is not a number or *`);
  if (name.length === 0) throw new PatternError('empty signature name');
  return { algo, hash: hash.toLowerCase(), size: size === '*' ? null : Number(size), name };
}

export function parseNdbLine(line: string): BodySignature {
  const f = line.split(':');
  if (f.length < 4) throw new PatternError('expected Name:TargetType:Offset:HexSignature');
  const [name, target, offset, hex] = f as [string, string, string, string];
  if (name.length === 0) throw new PatternError('empty signature name');
  if (!/^\d+$/.test(target)) throw new PatternError(`target type '${target}' is not a number`);
  return { name, target: Number(target), offset: parseOffset(offset), pattern: compilePattern(hex) };
}

export interface LoadResult {
  readonly set: SignatureSet;
  readonly problems: readonly SignatureProblem[];
}

type Ext = '.hdb' | '.hsb' | '.ndb';

function signatureExt(file: string): Ext | null {
  const ext = extname(file).toLowerCase();
  return ext === '.hdb' || ext === '.hsb' || ext === '.ndb' ? ext : null;
}

const unsupported = (file: string): SignatureProblem => ({
  file, line: 0,
  reason: `unsupported signature file type '${extname(file).toLowerCase()}' (supported: .hdb, .hsb, .ndb)`,
});

/** A cursor over one file's text: where the next line starts, and its number. */
interface Cursor {
  at: number;
  line: number;
}

/** The lines of `text` into `out` (signatures, or problems numbered from `c.line` on); `c` ends after the last. */
function parseLines(
  file: string, ext: Ext, text: string, c: Cursor,
  out: { hashes: HashSignature[]; bodies: BodySignature[]; problems: SignatureProblem[] },
): void {
  while (c.at < text.length) {
    let end = text.indexOf('\n', c.at);
    if (end < 0) end = text.length;
    // trim() also drops the \r of CRLF files.
    const line = text.slice(c.at, end).trim();
    c.at = end + 1;
    c.line++;
    if (line === '' || line.startsWith('#')) continue;
    try {
      if (ext === '.ndb') out.bodies.push(parseNdbLine(line));
      else out.hashes.push(parseHashLine(line, ext));
    } catch (e) {
      if (!(e instanceof PatternError)) throw e;
      out.problems.push({ file, line: c.line, reason: e.message });
    }
  }
}

/** Parses one file's text; `file` is only used in problem reports. */
export function parseSignatureText(file: string, text: string): LoadResult {
  const out = { hashes: [] as HashSignature[], bodies: [] as BodySignature[], problems: [] as SignatureProblem[] };
  const ext = signatureExt(file);
  if (ext === null) out.problems.push(unsupported(file));
  else parseLines(file, ext, text, { at: 0, line: 0 }, out);
  return { set: { hashes: out.hashes, bodies: out.bodies }, problems: out.problems };
}

/**
 * Bytes of a file decoded and parsed between two turns of the event loop (~12,000 hash lines, ~25 ms on the bench
 * machine). ClamAV's hash files run to a million lines: decoding one at once took 430 ms and parsing it 1.8 s,
 * all of it stolen from the messages in flight during a SIGHUP reload.
 */
const CHUNK_BYTES = 1 << 20;

/** Loads SIGNATURE_FILES. Any problem line makes the load fail with every problem listed (file:line: reason). */
export async function loadSignatureFiles(files: readonly string[]): Promise<SignatureSet> {
  const hashes: HashSignature[] = [];
  const bodies: BodySignature[] = [];
  const problems: SignatureProblem[] = [];
  const infos: SignatureFileInfo[] = [];
  const out = { hashes, bodies, problems };
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new ScanError(ScanErrorCode.SIGNATURE_IO, `cannot read signature file ${file}: ${code}`);
    }
    const ext = signatureExt(file);
    const before = { hashes: hashes.length, bodies: bodies.length };
    if (ext === null) problems.push(unsupported(file));
    else {
      const cursor = { at: 0, line: 0 };
      for (let start = 0; start < bytes.length;) {
        if (start > 0) await nextTurn();
        // Cut after a newline: 0x0a never occurs inside a UTF-8 sequence, so no character is split.
        const nl = start + CHUNK_BYTES >= bytes.length ? -1 : bytes.indexOf(0x0a, start + CHUNK_BYTES);
        const end = nl < 0 ? bytes.length : nl + 1;
        cursor.at = 0;
        parseLines(file, ext, bytes.toString('utf8', start, end), cursor, out);
        start = end;
      }
    }
    // Hashed from the bytes parsed, not read again: the file may change between two reads.
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const signatures = hashes.length - before.hashes + bodies.length - before.bodies;
    const kinds = kindsOf(hashes, before.hashes, bodies.length > before.bodies);
    infos.push({ path: file, sha256, signatures, kinds });
  }
  if (problems.length > 0) {
    const list = problems.slice(0, 20).map((p) => `${p.file}:${p.line}: ${p.reason}`).join('; ');
    throw new ScanError(ScanErrorCode.SIGNATURE, `${problems.length} bad signature line(s): ${list}`);
  }
  return { hashes, bodies, files: infos };
}

/** The kinds of signature one file added: hashes from index `from` on, and whether it added body signatures. */
function kindsOf(hashes: readonly HashSignature[], from: number, bodies: boolean): SignatureKind[] {
  const present = new Set<SignatureKind>();
  for (let i = from; i < hashes.length; i++) present.add((hashes[i] as HashSignature).algo);
  if (bodies) present.add('body');
  return (['md5', 'sha1', 'sha256', 'body'] as const).filter((k) => present.has(k));
}
