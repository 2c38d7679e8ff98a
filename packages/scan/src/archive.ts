/**
 * Opens containers (recursively) so every member is scanned as its own target
 * (`outer.zip/inner/file`): zip (wherever its structures sit in the bytes),
 * gzip and tar (ustar, GNU, v7) here; 7z, rar, bzip2, xz, lzma, zstd, Z, cab,
 * arj, lzh, cpio, ar, rpm and chm through 7-Zip (sevenzip.ts). A container we
 * recognise but cannot open, or cannot open completely, is `unscannable`,
 * never clean. Every limit has a default and names the attack it stops
 * (expand-context.ts, expansion-budget.ts); crossing one is a verdict, never an
 * exception or an unbounded allocation.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { containerKind, hasZipStructures, isSevenZipKind, isTarHeader, type ContainerKind } from './container-kind.js';
import {
  ContainerTally, DEFAULT_ARCHIVE_LIMITS, ExpandContext, LimitStop, type ArchiveLimits, type Collector,
  type Unscannable,
} from './expand-context.js';
import { ExpansionBudget } from './expansion-budget.js';
import { readWithSevenZip } from './sevenzip.js';
import type { ScanTarget } from './types.js';
import { inflateInto, readZip } from './zip.js';

export { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits, type Unscannable };

export interface OpenedContainer {
  readonly path: string;
  readonly kind: ContainerKind;
  /** True for a zip found inside other bytes (appended to a JPEG, an executable, another container). */
  readonly embedded: boolean;
}

export interface Expansion {
  /** The target itself first, then every member at every depth. */
  readonly targets: ScanTarget[];
  readonly unscannable: Unscannable[];
  /** Every container that was opened (or tried), in walk order. */
  readonly containers: readonly OpenedContainer[];
  /** Gives the expanded bytes back to the expansion pool; call when the targets are no longer needed. */
  release(): void;
}

export interface ExpandOptions {
  /**
   * The message's expansion budget (drawing on a process-wide pool). Default: a budget of its own with no pool, so a
   * caller that never calls release() leaks nothing; inspectTarget always passes one.
   */
  readonly budget?: ExpansionBudget;
}

const UNOPENED_REASON: Partial<Record<ContainerKind, string>> = {
  lzip: 'lzip data is not opened',
  lz4: 'lz4 data is not opened',
  ace: 'ACE archives are not opened',
};

/** End of a gzip member header (RFC 1952: 10 fixed bytes, then optional extra, name, comment, CRC); null if cut. */
export function gzipHeaderEnd(d: Uint8Array): number | null {
  if (d.length < 10) return null;
  const flags = d[3] as number;
  let at = 10;
  if ((flags & 4) !== 0) at += 2 + ((d[at] ?? 0) | ((d[at + 1] ?? 0) << 8));
  for (const bit of [8, 16]) {
    if ((flags & bit) === 0) continue;
    while (at < d.length && d[at] !== 0) at++;
    at++;
  }
  if ((flags & 2) !== 0) at += 2;
  return at <= d.length ? at : null;
}

async function gunzipInto(data: Uint8Array, sink: Collector): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const z = createGunzip();
    z.on('data', (c: Buffer) => {
      if (!sink.push(c)) {
        z.destroy();
        resolve(false);
      }
    });
    z.on('error', () => resolve(false));
    z.on('end', () => resolve(true));
    z.end(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
}

async function readGzip(data: Uint8Array, path: string, ctx: ExpandContext): Promise<ScanTarget[]> {
  const over = ctx.countMember();
  if (over !== null) {
    ctx.refuse(path, over);
    return [];
  }
  const tally = new ContainerTally(data.length);
  let sink = ctx.collector(tally);
  if (!(await gunzipInto(data, sink)) && sink.refusal === null) {
    // zlib gives up on bytes after the first member that are not another member; gunzip extracts the first member
    // and ignores them ("trailing garbage ignored"). Read the first member as gunzip does, so its content is scanned.
    const start = gzipHeaderEnd(data);
    sink = ctx.collector(tally);
    const first = start === null ? null : await inflateInto(data.subarray(start), sink);
    const rest = first === null || start === null ? null : data.subarray(start + first.consumed + 8);
    if (first === null || (rest !== null && rest[0] === 0x1f && rest[1] === 0x8b)) {
      ctx.refuse(path, sink.refusal !== null ? `gzip content: ${sink.refusal}` : 'corrupt gzip data');
      if (first === null) return [];
    }
  }
  if (sink.refusal !== null) {
    ctx.refuse(path, `gzip content: ${sink.refusal}`);
    return [];
  }
  const base = path.split('/').pop() ?? 'content';
  const innerName = base.replace(/\.tgz$/i, '.tar').replace(/\.(gz|gzip)$/i, '');
  return [{ path: `${path}/${innerName === base ? 'content' : innerName}`, data: sink.data() }];
}

async function readTar(data: Uint8Array, path: string, ctx: ExpandContext): Promise<ScanTarget[]> {
  const out: ScanTarget[] = [];
  const tally = new ContainerTally(data.length);
  // v7 (pre-POSIX) tar has no magic; tar-stream reads it when told unknown formats are fine.
  const extractOpts = { allowUnknownFormat: true } as unknown as Parameters<typeof tarStream.extract>[0];
  const extract = tarStream.extract(extractOpts);
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const memberPath = `${path}/${header.name}`;
      // A truncated archive errors the entry stream too; the extract's own 'error' reports it once.
      stream.on('error', () => undefined);
      const drain = (): void => {
        stream.on('end', () => next());
        stream.resume();
      };
      if (header.type !== 'file' && header.type !== 'contiguous-file') return drain();
      const over = ctx.countMember();
      if (over !== null) return extract.destroy(new LimitStop(over));
      const refusal = ctx.declaredRefusal(header.size ?? 0, null, 'tar');
      if (refusal !== null) {
        ctx.refuse(memberPath, refusal);
        return drain();
      }
      const sink = ctx.collector(tally);
      stream.on('data', (c: unknown) => {
        if (sink.refusal === null) sink.push(c as Buffer);
      });
      stream.on('end', () => {
        if (sink.refusal !== null) {
          if (ctx.halted !== null) {
            return extract.destroy(new LimitStop(`${ctx.halted}; the rest of the archive was not opened`));
          }
          ctx.refuse(memberPath, sink.refusal);
        } else out.push({ path: memberPath, data: sink.data(), name: header.name });
        next();
      });
    });
    extract.on('finish', () => resolve());
    extract.on('error', reject);
    Readable.from([Buffer.from(data.buffer, data.byteOffset, data.byteLength)]).pipe(extract);
  });
  try {
    await done;
  } catch (e) {
    // Members read before the damage are still scanned: tar tools extract them too.
    ctx.refuse(path, e instanceof LimitStop ? e.message : 'corrupt tar archive');
  }
  return out;
}

async function openContainer(
  t: ScanTarget, kind: ContainerKind, embedded: boolean, ctx: ExpandContext,
): Promise<ScanTarget[]> {
  const unopened = UNOPENED_REASON[kind];
  if (unopened !== undefined) {
    ctx.refuse(t.path, unopened);
    return [];
  }
  if (kind === 'zip') return readZip(t.data, t.path, ctx, !embedded);
  if (kind === 'gzip') return readGzip(t.data, t.path, ctx);
  if (kind === 'tar') return readTar(t.data, t.path, ctx);
  if (isSevenZipKind(kind)) {
    try {
      return await readWithSevenZip(t.data, kind, t.path, ctx);
    } catch (e) {
      ctx.refuse(t.path, `${kind} archive could not be opened: ${(e as Error).message}`);
      return [];
    }
  }
  ctx.refuse(t.path, `${kind} is not opened`);
  return [];
}

/** The target and, recursively, every member of every container in it. */
export async function expandArchives(
  target: ScanTarget, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS, opts: ExpandOptions = {},
): Promise<Expansion> {
  const lease = (opts.budget ?? new ExpansionBudget({ maxBytes: Number.MAX_SAFE_INTEGER, pool: null })).lease();
  const ctx = new ExpandContext(limits, lease);
  const targets: ScanTarget[] = [];
  const containers: OpenedContainer[] = [];
  const walk = async (t: ScanTarget, depth: number): Promise<void> => {
    targets.push(t);
    const kind = containerKind(t.data);
    // Zip structures anywhere else in the bytes too: unzip and 7-Zip open a zip appended to anything.
    const embeddedZip = kind !== 'zip' && hasZipStructures(t.data);
    if (kind === null && !embeddedZip) return;
    if (depth >= limits.maxDepth) {
      ctx.refuse(t.path, `archives nested deeper than ${limits.maxDepth}`);
      return;
    }
    const members: ScanTarget[] = [];
    if (kind !== null) {
      containers.push({ path: t.path, kind, embedded: false });
      members.push(...(await openContainer(t, kind, false, ctx)));
    }
    if (embeddedZip) {
      const before = ctx.unscannable.length;
      const found = await openContainer(t, 'zip', true, ctx);
      if (found.length > 0 || ctx.unscannable.length > before) {
        containers.push({ path: t.path, kind: 'zip', embedded: true });
      }
      members.push(...found);
    }
    for (const m of members) await walk(m, depth + 1);
  };
  await walk(target, 0);
  return { targets, unscannable: ctx.unscannable, containers, release: () => lease.release() };
}

export { containerKind, isTarHeader };
