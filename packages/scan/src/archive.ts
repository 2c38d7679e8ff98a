/**
 * Opens zip, gzip and tar containers (recursively) so every member is scanned
 * as its own target (`outer.zip/inner/file`). Every limit has a default and
 * names the attack it stops; crossing one is a verdict (`unscannable`), never
 * an exception or an unbounded allocation.
 */
import { promisify } from 'node:util';
import { gunzip as gunzipCb } from 'node:zlib';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import tarStream from 'tar-stream';
import type { ScanTarget } from './types.js';

const gunzip = promisify(gunzipCb);

export interface ArchiveLimits {
  /** Containers inside containers. Stops recursive bombs (42.zip nests 5 levels of 16 archives). */
  readonly maxDepth: number;
  /** Members across the whole message. Stops archives of millions of empty files. */
  readonly maxMembers: number;
  /** Uncompressed bytes across the whole message. Stops many medium members adding up to an OOM. */
  readonly maxTotalBytes: number;
  /** Uncompressed bytes of one member (declared or actual). Stops a single huge member. */
  readonly maxMemberBytes: number;
  /** Uncompressed / compressed ratio for members above 1 MiB. Stops classic zip bombs (ratio ~1000:1). */
  readonly maxRatio: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = Object.freeze({
  maxDepth: 5,
  maxMembers: 1000,
  maxTotalBytes: 64 * 1024 * 1024,
  maxMemberBytes: 32 * 1024 * 1024,
  maxRatio: 100,
});

const RATIO_FLOOR = 1024 * 1024;

export interface Unscannable {
  readonly path: string;
  readonly reason: string;
}

export interface Expansion {
  /** The target itself first, then every member at every depth. */
  readonly targets: ScanTarget[];
  readonly unscannable: Unscannable[];
}

type Kind = 'zip' | 'gzip' | 'tar';

export function containerKind(d: Uint8Array): Kind | null {
  if (d.length >= 4 && d[0] === 0x50 && d[1] === 0x4b && ((d[2] === 3 && d[3] === 4) || (d[2] === 5 && d[3] === 6))) return 'zip';
  if (d.length >= 3 && d[0] === 0x1f && d[1] === 0x8b && d[2] === 8) return 'gzip';
  if (d.length >= 512 && d[257] === 0x75 && d[258] === 0x73 && d[259] === 0x74 && d[260] === 0x61 && d[261] === 0x72) return 'tar';
  return null;
}

class Budget {
  members = 0;
  bytes = 0;
  constructor(readonly limits: ArchiveLimits) {}
  /** Bytes a member may still have, or a reason it may not be opened at all. */
  memberCap(): number {
    return Math.min(this.limits.maxMemberBytes, this.limits.maxTotalBytes - this.bytes);
  }
}

class LimitHit extends Error {}

function buf(d: Uint8Array): Buffer {
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

async function readZip(data: Uint8Array, path: string, budget: Budget, unscannable: Unscannable[]): Promise<ScanTarget[]> {
  const zip = await promisify<Buffer, yauzl.Options, yauzl.ZipFile>(yauzl.fromBuffer)(buf(data), { lazyEntries: true, validateEntrySizes: true, strictFileNames: false });
  const out: ScanTarget[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        const name = entry.fileName;
        const memberPath = `${path}/${name}`;
        if (name.endsWith('/')) {
          zip.readEntry();
          return;
        }
        if (++budget.members > budget.limits.maxMembers) {
          reject(new LimitHit(`more than ${budget.limits.maxMembers} archive members`));
          return;
        }
        if (entry.isEncrypted()) {
          unscannable.push({ path: memberPath, reason: 'encrypted archive member' });
          zip.readEntry();
          return;
        }
        const cap = budget.memberCap();
        if (entry.uncompressedSize > cap) {
          unscannable.push({ path: memberPath, reason: `member of ${entry.uncompressedSize} bytes exceeds the ${cap}-byte limit` });
          zip.readEntry();
          return;
        }
        if (entry.uncompressedSize > RATIO_FLOOR && entry.uncompressedSize > budget.limits.maxRatio * Math.max(1, entry.compressedSize)) {
          unscannable.push({ path: memberPath, reason: `compression ratio above ${budget.limits.maxRatio}:1 (zip bomb)` });
          zip.readEntry();
          return;
        }
        zip.openReadStream(entry, (err, stream) => {
          if (err !== null) {
            unscannable.push({ path: memberPath, reason: `corrupt member: ${err.message}` });
            zip.readEntry();
            return;
          }
          const chunks: Buffer[] = [];
          let got = 0;
          stream.on('data', (c: Buffer) => {
            got += c.length;
            // Declared sizes can lie; yauzl checks them at the end, we stop as soon as the cap is crossed.
            if (got > cap) stream.destroy(new LimitHit(`member larger than the ${cap}-byte limit`));
            else chunks.push(c);
          });
          stream.on('error', (e: Error) => {
            unscannable.push({ path: memberPath, reason: e instanceof LimitHit ? e.message : `corrupt member: ${e.message}` });
            zip.readEntry();
          });
          stream.on('end', () => {
            budget.bytes += got;
            out.push({ path: memberPath, data: Buffer.concat(chunks, got), name });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  return out;
}

async function readGzip(data: Uint8Array, path: string, budget: Budget, unscannable: Unscannable[]): Promise<ScanTarget[]> {
  const cap = budget.memberCap();
  let out: Buffer;
  try {
    out = await gunzip(buf(data), { maxOutputLength: Math.max(1, cap) });
  } catch (e) {
    const tooBig = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    unscannable.push({ path, reason: tooBig ? `gzip content larger than the ${cap}-byte limit` : 'corrupt gzip data' });
    return [];
  }
  if (out.length > RATIO_FLOOR && out.length > budget.limits.maxRatio * data.length) {
    unscannable.push({ path, reason: `compression ratio above ${budget.limits.maxRatio}:1 (gzip bomb)` });
    return [];
  }
  budget.members++;
  budget.bytes += out.length;
  const base = path.split('/').pop() ?? 'content';
  const innerName = base.replace(/\.tgz$/i, '.tar').replace(/\.(gz|gzip)$/i, '');
  return [{ path: `${path}/${innerName === base ? 'content' : innerName}`, data: out }];
}

async function readTar(data: Uint8Array, path: string, budget: Budget, unscannable: Unscannable[]): Promise<ScanTarget[]> {
  const out: ScanTarget[] = [];
  const extract = tarStream.extract();
  await new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const memberPath = `${path}/${header.name}`;
      // A truncated archive errors the entry stream too; the extract's own 'error' reports it once.
      stream.on('error', () => undefined);
      const drain = (): void => {
        stream.on('end', () => next());
        stream.resume();
      };
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        drain();
        return;
      }
      if (++budget.members > budget.limits.maxMembers) {
        extract.destroy(new LimitHit(`more than ${budget.limits.maxMembers} archive members`));
        return;
      }
      const cap = budget.memberCap();
      const size = header.size ?? 0;
      if (size > cap) {
        unscannable.push({ path: memberPath, reason: `member of ${size} bytes exceeds the ${cap}-byte limit` });
        drain();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        const d = Buffer.concat(chunks);
        budget.bytes += d.length;
        out.push({ path: memberPath, data: d, name: header.name });
        next();
      });
    });
    extract.on('finish', () => resolve());
    extract.on('error', reject);
    Readable.from([buf(data)]).pipe(extract);
  });
  return out;
}

const READERS: Record<Kind, typeof readZip> = { zip: readZip, gzip: readGzip, tar: readTar };

/** The target and, recursively, every member of every container in it. */
export async function expandArchives(target: ScanTarget, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<Expansion> {
  const budget = new Budget(limits);
  const targets: ScanTarget[] = [];
  const unscannable: Unscannable[] = [];
  const walk = async (t: ScanTarget, depth: number): Promise<void> => {
    targets.push(t);
    const kind = containerKind(t.data);
    if (kind === null) return;
    if (depth >= limits.maxDepth) {
      unscannable.push({ path: t.path, reason: `archives nested deeper than ${limits.maxDepth}` });
      return;
    }
    let members: ScanTarget[];
    try {
      members = await READERS[kind](t.data, t.path, budget, unscannable);
    } catch (e) {
      unscannable.push({ path: t.path, reason: e instanceof LimitHit ? e.message : `corrupt ${kind} archive` });
      return;
    }
    for (const m of members) await walk(m, depth + 1);
  };
  await walk(target, 0);
  return { targets, unscannable };
}
