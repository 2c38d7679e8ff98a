/**
 * Zip members as every mainstream unzipper could see them, not only as a
 * strict reader does. Two readings, and every member either finds is scanned:
 *
 * - the central directory, found by searching for the end-of-central-directory
 *   record from the end (a comment or trailing bytes may follow it) and read
 *   with offsets corrected for bytes before the archive, as unzip and 7-Zip
 *   do: a zip appended to a JPEG or an executable, a `PK\x07\x08`-prefixed
 *   (spanned-marker) zip;
 * - the local file headers, walked from the start: members the central
 *   directory does not list (a hidden entry) and zips whose directory is
 *   damaged or missing.
 *
 * Decompression streams into a Collector (expand-context.ts), so every limit
 * stops it as soon as it is crossed. Only stored and deflated members are
 * decompressed; other methods and encrypted members are `unscannable`.
 */
import { promisify } from 'node:util';
import { createInflateRaw } from 'node:zlib';
import yauzl from 'yauzl';
import { EOCD_SEARCH_BYTES } from './container-kind.js';
import { ContainerTally, LimitStop, type Collector, type ExpandContext } from './expand-context.js';
import type { ScanTarget } from './types.js';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
/** Methods a local header may plausibly name (APPNOTE 4.4.5); anything else is a chance match, not a header. */
const KNOWN_METHODS = new Set([0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 14, 18, 19, 93, 94, 95, 96, 97, 98, 99]);
/** File names longer than this in a local header are taken as a chance match (no file system allows them). */
const MAX_NAME_BYTES = 4096;


function view(d: Uint8Array): Buffer {
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

interface CentralDirectory {
  /** Where the archive really starts: bytes before it (a JPEG, a marker) shift every stored offset. */
  readonly base: number;
  /** End of the end-of-central-directory record and its comment: bytes after it are not the archive's. */
  readonly end: number;
}

/** The last end-of-central-directory record from the end whose directory is where it says (after the shift). */
export function findCentralDirectory(d: Uint8Array): CentralDirectory | null {
  const b = view(d);
  for (let i = b.length - 22; i >= Math.max(0, b.length - EOCD_SEARCH_BYTES); i--) {
    if (b.readUInt32LE(i) !== SIG_EOCD) continue;
    const end = i + 22 + b.readUInt16LE(i + 20);
    if (end > b.length) continue;
    const cdSize = b.readUInt32LE(i + 12);
    const cdOffset = b.readUInt32LE(i + 16);
    if (cdOffset === 0xffffffff || cdSize === 0xffffffff) return { base: 0, end }; // zip64: yauzl reads it as is
    const base = i - cdSize - cdOffset;
    if (base < 0) continue;
    if (cdSize > 0 && b.readUInt32LE(base + cdOffset) !== SIG_CENTRAL) continue;
    return { base, end };
  }
  return null;
}

interface CentralResult {
  /** Absolute local-header offset → compressed size, for every entry the directory lists. */
  readonly listed: Map<number, number>;
}

async function readCentral(
  d: Uint8Array, cd: CentralDirectory, path: string, ctx: ExpandContext, tally: ContainerTally, out: ScanTarget[],
): Promise<CentralResult> {
  const listed = new Map<number, number>();
  const zip = await promisify<Buffer, yauzl.Options, yauzl.ZipFile>(yauzl.fromBuffer)(
    view(d.subarray(cd.base, cd.end)), { lazyEntries: true, validateEntrySizes: true, strictFileNames: false },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        const name = entry.fileName;
        const memberPath = `${path}/${name}`;
        listed.set(cd.base + entry.relativeOffsetOfLocalHeader, entry.compressedSize);
        const next = (): void => zip.readEntry();
        if (name.endsWith('/')) return next();
        const over = ctx.countMember();
        if (over !== null) return reject(new LimitStop(over));
        if (entry.isEncrypted()) {
          ctx.refuse(memberPath, 'encrypted archive member');
          return next();
        }
        const refusal = ctx.declaredRefusal(entry.uncompressedSize, entry.compressedSize);
        if (refusal !== null) {
          ctx.refuse(memberPath, refusal);
          return next();
        }
        zip.openReadStream(entry, (err, stream) => {
          if (err !== null) {
            ctx.refuse(memberPath, `corrupt member: ${err.message}`);
            return next();
          }
          const sink = ctx.collector(tally);
          stream.on('data', (c: Buffer) => {
            // Declared sizes can lie; yauzl checks them at the end, the collector stops as soon as a limit is crossed.
            if (!sink.push(c)) stream.destroy();
          });
          stream.on('error', (e: Error) => {
            ctx.refuse(memberPath, `corrupt member: ${e.message}`);
            next();
          });
          stream.on('close', () => {
            if (sink.refusal === null) return;
            // A halt is reported once, for the container, when the next member is counted.
            if (ctx.halted === null) ctx.refuse(memberPath, sink.refusal);
            next();
          });
          stream.on('end', () => {
            out.push({ path: memberPath, data: sink.data(), name });
            next();
          });
        });
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  return { listed };
}

/** Inflates raw deflate into the collector; resolves with the compressed bytes consumed, or null on damage. */
export function inflateInto(input: Uint8Array, sink: Collector): Promise<{ consumed: number } | null> {
  return new Promise((resolve) => {
    const z = createInflateRaw();
    let settled = false;
    const done = (v: { consumed: number } | null): void => {
      if (settled) return;
      settled = true;
      resolve(v);
    };
    z.on('data', (c: Buffer) => {
      if (!sink.push(c)) {
        z.destroy();
        done(null);
      }
    });
    z.on('error', () => done(null));
    z.on('end', () => done({ consumed: z.bytesWritten }));
    z.end(view(input));
  });
}

interface LocalHeader {
  readonly offset: number;
  readonly flags: number;
  readonly method: number;
  readonly name: string;
  readonly dataStart: number;
  /** null when the header defers sizes to a data descriptor (flag bit 3) and gives none. */
  readonly compressedSize: number | null;
  readonly size: number | null;
}

function parseLocal(b: Buffer, at: number): LocalHeader | null {
  if (at + 30 > b.length) return null;
  const version = b.readUInt16LE(at + 4) & 0xff;
  const flags = b.readUInt16LE(at + 6);
  const method = b.readUInt16LE(at + 8);
  const nameLen = b.readUInt16LE(at + 26);
  const extraLen = b.readUInt16LE(at + 28);
  if (version > 63 || !KNOWN_METHODS.has(method) || nameLen === 0 || nameLen > MAX_NAME_BYTES) return null;
  const dataStart = at + 30 + nameLen + extraLen;
  if (dataStart > b.length) return null;
  const rawName = b.subarray(at + 30, at + 30 + nameLen);
  const name = rawName.toString((flags & 0x800) !== 0 ? 'utf8' : 'latin1');
  let compressedSize: number | null = b.readUInt32LE(at + 18);
  let size: number | null = b.readUInt32LE(at + 22);
  if (compressedSize === 0xffffffff || size === 0xffffffff) {
    // Zip64: the sizes are in extra field 0x0001 (uncompressed first, then compressed).
    const extra = b.subarray(at + 30 + nameLen, dataStart);
    for (let i = 0; i + 4 <= extra.length; i += 4 + extra.readUInt16LE(i + 2)) {
      if (extra.readUInt16LE(i) !== 1 || i + 20 > extra.length) continue;
      size = Number(extra.readBigUInt64LE(i + 4));
      compressedSize = Number(extra.readBigUInt64LE(i + 12));
    }
  }
  if ((flags & 8) !== 0 && compressedSize === 0) {
    compressedSize = null;
    size = null;
  }
  return { offset: at, flags, method, name, dataStart, compressedSize, size };
}

/** A data descriptor after a member whose header gave no sizes: its compressed-size field equals the distance. */
function findDescriptor(b: Buffer, dataStart: number): number | null {
  const sig = Buffer.from([0x50, 0x4b, 0x07, 0x08]);
  for (let i = b.indexOf(sig, dataStart); i >= 0 && i + 16 <= b.length; i = b.indexOf(sig, i + 1)) {
    if (b.readUInt32LE(i + 8) === i - dataStart) return i - dataStart;
  }
  return null;
}

async function extractLocal(
  b: Buffer, h: LocalHeader, path: string, ctx: ExpandContext, tally: ContainerTally, out: ScanTarget[],
): Promise<number | null> {
  const memberPath = `${path}/${h.name}`;
  const over = ctx.countMember();
  if (over !== null) throw new LimitStop(over);
  if ((h.flags & 1) !== 0) {
    ctx.refuse(memberPath, 'encrypted archive member');
    return h.compressedSize;
  }
  if (h.method !== 0 && h.method !== 8) {
    ctx.refuse(memberPath, `compression method ${h.method} is not opened`);
    return h.compressedSize;
  }
  const refusal = h.size === null ? null : ctx.declaredRefusal(h.size, h.compressedSize);
  if (refusal !== null) {
    ctx.refuse(memberPath, refusal);
    return h.compressedSize;
  }
  const avail = b.length - h.dataStart;
  if (h.compressedSize !== null && h.compressedSize > avail) ctx.refuse(memberPath, 'member truncated');
  const input = b.subarray(h.dataStart, h.dataStart + Math.min(h.compressedSize ?? avail, avail));
  const sink = ctx.collector(tally);
  if (h.method === 0) {
    // A stored member whose sizes follow it ends where a data descriptor gives the distance (libarchive reads it so).
    const length = h.compressedSize ?? findDescriptor(b, h.dataStart);
    if (length === null) {
      ctx.refuse(memberPath, 'stored member without a size');
      return null;
    }
    if (!sink.push(input.subarray(0, length))) {
      if (ctx.halted === null) ctx.refuse(memberPath, sink.refusal ?? 'refused');
      return length;
    }
    out.push({ path: memberPath, data: sink.data(), name: h.name });
    return length;
  }
  const r = await inflateInto(input, sink);
  if (r === null) {
    if (ctx.halted === null) ctx.refuse(memberPath, sink.refusal ?? 'corrupt member: invalid deflate data');
    return h.compressedSize;
  }
  out.push({ path: memberPath, data: sink.data(), name: h.name });
  return h.compressedSize ?? r.consumed;
}

/**
 * Every member of the zip structures in `data`. `atStart`: the bytes begin as a zip, so a directory that cannot be
 * read is damage worth reporting; otherwise (zip structures found somewhere inside) a chance match is ignored.
 */
export async function readZip(
  data: Uint8Array, path: string, ctx: ExpandContext, atStart: boolean,
): Promise<ScanTarget[]> {
  const b = view(data);
  const out: ScanTarget[] = [];
  const tally = new ContainerTally(data.length);
  let damage: string | null = null;
  let listed = new Map<number, number>();
  try {
    const cd = findCentralDirectory(data);
    if (cd !== null) {
      try {
        listed = (await readCentral(data, cd, path, ctx, tally, out)).listed;
      } catch (e) {
        if (e instanceof LimitStop) throw e;
        damage = `corrupt zip central directory: ${(e as Error).message}`;
      }
    } else if (atStart) damage = 'no end-of-central-directory record';
    // Walk the local headers from the start: members the directory hides or that a damaged directory lost.
    let foundLocal = false;
    for (let at = b.indexOf(Buffer.from([0x50, 0x4b, 3, 4])); at >= 0 && at + 30 <= b.length;) {
      const h = b.readUInt32LE(at) === SIG_LOCAL ? parseLocal(b, at) : null;
      if (h === null) {
        at = b.indexOf(Buffer.from([0x50, 0x4b, 3, 4]), at + 1);
        continue;
      }
      foundLocal = true;
      const length = listed.has(at) ? (listed.get(at) as number) : await extractLocal(b, h, path, ctx, tally, out);
      const next = length === null ? h.dataStart : h.dataStart + length;
      at = b.indexOf(Buffer.from([0x50, 0x4b, 3, 4]), Math.max(next, at + 1));
    }
    if (damage !== null && (atStart || foundLocal || out.length > 0)) ctx.refuse(path, damage);
    if (ctx.halted !== null) throw new LimitStop(`${ctx.halted}; the rest of the archive was not opened`);
  } catch (e) {
    if (!(e instanceof LimitStop)) throw e;
    ctx.refuse(path, e.message);
  }
  return out;
}

