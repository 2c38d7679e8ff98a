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

/** Parses one file's text; `file` is only used in problem reports. */
export function parseSignatureText(file: string, text: string): LoadResult {
  const ext = extname(file).toLowerCase();
  const hashes: HashSignature[] = [];
  const bodies: BodySignature[] = [];
  const problems: SignatureProblem[] = [];
  if (ext !== '.hdb' && ext !== '.hsb' && ext !== '.ndb') {
    problems.push({ file, line: 0, reason: `unsupported signature file type '${ext}' (supported: .hdb, .hsb, .ndb)` });
    return { set: { hashes, bodies }, problems };
  }
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      if (ext === '.ndb') bodies.push(parseNdbLine(line));
      else hashes.push(parseHashLine(line, ext));
    } catch (e) {
      if (!(e instanceof PatternError)) throw e;
      problems.push({ file, line: i + 1, reason: e.message });
    }
  });
  return { set: { hashes, bodies }, problems };
}

/** Loads SIGNATURE_FILES. Any problem line makes the load fail with every problem listed (file:line: reason). */
export async function loadSignatureFiles(files: readonly string[]): Promise<SignatureSet> {
  const hashes: HashSignature[] = [];
  const bodies: BodySignature[] = [];
  const problems: SignatureProblem[] = [];
  const infos: SignatureFileInfo[] = [];
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new ScanError(ScanErrorCode.SIGNATURE_IO, `cannot read signature file ${file}: ${code}`);
    }
    const r = parseSignatureText(file, bytes.toString('utf8'));
    // Not push(...list): a spread passes every element as an argument, and ClamAV's hash files hold more
    // lines than V8's argument limit (~120,000; a 200,000-line .hsb failed the start with a RangeError).
    for (const h of r.set.hashes) hashes.push(h);
    for (const b of r.set.bodies) bodies.push(b);
    for (const p of r.problems) problems.push(p);
    // Hashed from the bytes parsed, not read again: the file may change between two reads.
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    infos.push({ path: file, sha256, signatures: r.set.hashes.length + r.set.bodies.length, kinds: kindsOf(r.set) });
  }
  if (problems.length > 0) {
    const list = problems.slice(0, 20).map((p) => `${p.file}:${p.line}: ${p.reason}`).join('; ');
    throw new ScanError(ScanErrorCode.SIGNATURE, `${problems.length} bad signature line(s): ${list}`);
  }
  return { hashes, bodies, files: infos };
}

function kindsOf(set: SignatureSet): SignatureKind[] {
  const present = new Set<SignatureKind>(set.hashes.map((h) => h.algo));
  if (set.bodies.length > 0) present.add('body');
  return (['md5', 'sha1', 'sha256', 'body'] as const).filter((k) => present.has(k));
}
