/**
 * Containers we do not read ourselves (7z, rar, bzip2, xz, lzma, zstd, Z, cab,
 * arj, lzh, cpio, ar, rpm, chm) opened with 7-Zip's WebAssembly build
 * (`7z-wasm`, 7-Zip 24.09; LGPL with the unRAR restriction, which forbids
 * only writing RAR), run in a worker thread by sevenzip-runner.ts.
 *
 * Limits hold as they do for zip: a listing first (`l -slt`) gives names,
 * sizes and encryption, refused members are never asked for, and the rest
 * is extracted to stdout (`x -so`), which streams chunk by chunk into the
 * Collector: the chunk that crosses a limit makes the write fail with EIO and
 * 7-Zip stops. A solid block must be decoded from its start to reach a
 * member, so that decoding cost is checked against the part's byte limit too.
 *
 * Each run is bounded in time too (ArchiveLimits.maxDecodeMs): a run past it
 * is killed and the container is unscannable.
 */
import { SEVEN_ZIP_TYPES, SINGLE_STREAM_KINDS, type SevenZipKind } from './container-kind.js';
import {
  ContainerTally, DEFAULT_MAX_DECODE_MS, type Collector, type ExpandContext,
} from './expand-context.js';
import { runSevenZip, type RunBounds, type RunResult } from './sevenzip-runner.js';
import type { ScanTarget } from './types.js';

/** A password 7-Zip is given so that an encrypted archive fails instead of prompting on stdin (which would hang). */
const NO_PASSWORD = '-pmmsguard-none';
/** Names 7-Zip is asked for per run: beyond this the command line itself would be the cost. */
const MAX_NAMES_PER_RUN = 1000;
/** A listing longer than this is itself a member-count bomb. */
const MAX_LISTING_BYTES = 16 * 1024 * 1024;

function bounds(ctx: ExpandContext, maxOutBytes: number): RunBounds {
  return { timeoutMs: ctx.limits.maxDecodeMs ?? DEFAULT_MAX_DECODE_MS, maxOutBytes };
}

/** Output a run may produce: what the part may still expand to, plus slack so that our collectors refuse first. */
function outputBound(ctx: ExpandContext): number {
  return Math.max(0, ctx.limits.maxTotalBytes - ctx.bytes) + 1024 * 1024;
}

/**
 * Cuts 7-Zip's stdout (members back to back, in archive order) into members by their listed sizes, pushing each
 * member's bytes into its own collector. Chunk boundaries fall anywhere: the result does not depend on them.
 */
export class MemberSplitter {
  readonly done: Uint8Array[] = [];
  refusal: string | null = null;
  private sink: Collector;
  constructor(private readonly sizes: readonly number[], private readonly newSink: () => Collector) {
    this.sink = newSink();
  }

  /** Takes one chunk; false when it cannot (a limit crossed, or more bytes than the sizes add up to). */
  push(c: Uint8Array): boolean {
    let chunk = c;
    this.end();
    while (chunk.length > 0 && this.done.length < this.sizes.length) {
      const part = chunk.subarray(0, (this.sizes[this.done.length] as number) - this.sink.size);
      if (!this.sink.push(part)) {
        this.refusal = this.sink.refusal;
        return false;
      }
      chunk = chunk.subarray(part.length);
      this.end();
    }
    return chunk.length === 0;
  }

  /** Closes every member that is complete (including empty ones) and has not been closed yet. */
  end(): void {
    if (this.refusal !== null) return;
    while (this.done.length < this.sizes.length && this.sink.size === this.sizes[this.done.length]) {
      this.done.push(this.sink.data());
      this.sink = this.newSink();
    }
  }
}

interface ListedEntry {
  readonly path: string;
  readonly size: number | null;
  readonly dir: boolean;
  readonly encrypted: boolean;
  /** Solid block index; null when the entry is stored on its own. */
  readonly block: string | null;
}

/** Parses `7z l -slt`: an archive section, then `----------`, then one `Key = value` block per entry. */
export function parseListing(text: string): { entries: ListedEntry[]; solid: boolean } {
  const [head = '', body = ''] = text.split(/^-{10}$/m);
  const solid = /^Solid = \+$/m.test(head);
  const entries: ListedEntry[] = [];
  for (const block of body.split(/\r?\n\r?\n/)) {
    const f = new Map<string, string>();
    for (const line of block.split(/\r?\n/)) {
      const i = line.indexOf(' = ');
      if (i > 0) f.set(line.slice(0, i), line.slice(i + 3));
    }
    const path = f.get('Path');
    if (path === undefined) continue;
    const size = /^\d+$/.test(f.get('Size') ?? '') ? Number(f.get('Size')) : null;
    const dir = f.get('Folder') === '+' || /^D/.test(f.get('Attributes') ?? '');
    const blockId = f.get('Block') ?? '';
    entries.push({ path, size, dir, encrypted: f.get('Encrypted') === '+', block: blockId === '' ? null : blockId });
  }
  return { entries, solid };
}

function firstError(r: RunResult, ctx: ExpandContext): string {
  const ms = ctx.limits.maxDecodeMs ?? DEFAULT_MAX_DECODE_MS;
  if (r.timedOut) return `7-Zip took longer than ${ms} ms (decode cost limit)`;
  const line = r.messages.find((m) => /ERROR|Error|error/.test(m) && !/^Errors: /.test(m));
  if (line !== undefined) return line.replace(/^ERROR: /, '').trim().slice(0, 200);
  return r.code === null ? '7-Zip could not read it (encrypted headers or damage)' : `7-Zip exit code ${r.code}`;
}

const base = (a: readonly string[]): string[] => [NO_PASSWORD, '-y', '-bd', '-sccUTF-8', ...a];

async function readSingleStream(
  data: Uint8Array, kind: SevenZipKind, path: string, ctx: ExpandContext,
): Promise<ScanTarget[]> {
  const over = ctx.countMember();
  if (over !== null) {
    ctx.refuse(path, over);
    return [];
  }
  const sink = ctx.collector(new ContainerTally(data.length));
  const args = ['x', '-so', `-t${SEVEN_ZIP_TYPES[kind]}`, ...base(['--', '/in'])];
  const r = await runSevenZip(data, args, bounds(ctx, outputBound(ctx)), (c) => sink.push(c));
  if (sink.refusal !== null) {
    ctx.refuse(path, `${kind} content: ${sink.refusal}`);
    return [];
  }
  if (r.code !== 0) {
    ctx.refuse(path, `${r.timedOut ? '' : 'corrupt '}${kind} data: ${firstError(r, ctx)}`);
    // What was decoded before the damage is still scanned: a receiver's tool may keep it too.
    if (sink.size === 0) return [];
  }
  const name = path.split('/').pop() ?? 'content';
  const inner = name.replace(/\.(t(bz2?|xz|zst|az))$/i, '.tar').replace(/\.(bz2|bzip2|xz|lzma|zst|zstd|z)$/i, '');
  return [{ path: `${path}/${inner === name ? 'content' : inner}`, data: sink.data() }];
}

/** Members of a 7-Zip-opened container, as scan targets; refusals go to ctx. */
export async function readWithSevenZip(
  data: Uint8Array, kind: SevenZipKind, path: string, ctx: ExpandContext,
): Promise<ScanTarget[]> {
  if (SINGLE_STREAM_KINDS.has(kind)) return readSingleStream(data, kind, path, ctx);
  const type = `-t${SEVEN_ZIP_TYPES[kind]}`;
  const chunks: Uint8Array[] = [];
  let listed = 0;
  const listArgs = ['l', '-slt', type, ...base(['--', '/in'])];
  const lr = await runSevenZip(data, listArgs, bounds(ctx, MAX_LISTING_BYTES), (c) => {
    listed += c.length;
    chunks.push(c);
    return listed <= MAX_LISTING_BYTES;
  });
  if (lr.code !== 0) {
    const why = lr.stopped && !lr.timedOut ? 'listing too long' : firstError(lr, ctx);
    ctx.refuse(path, `corrupt or unreadable ${kind} archive: ${why}`);
    return [];
  }
  const { entries, solid } = parseListing(Buffer.concat(chunks).toString('utf8'));
  const wanted: ListedEntry[] = [];
  const refusedNames = new Set<string>();
  const decodeCost = new Map<string, number>(); // bytes decoded to reach the end of each solid block so far
  for (const e of entries) {
    if (e.dir) continue;
    const memberPath = `${path}/${e.path}`;
    const over = ctx.countMember();
    if (over !== null) {
      ctx.refuse(path, over);
      break;
    }
    const blockKey = e.block ?? (solid ? 'solid' : null);
    const cost = (blockKey === null ? 0 : decodeCost.get(blockKey) ?? 0) + (e.size ?? 0);
    if (blockKey !== null) decodeCost.set(blockKey, cost);
    let refusal: string | null = null;
    if (e.encrypted) refusal = 'encrypted archive member';
    else if (e.size === null) refusal = 'member size unknown';
    else if (blockKey !== null && cost > ctx.limits.maxTotalBytes) {
      refusal = `solid block needs ${cost} bytes decoded to reach this member (limit ${ctx.limits.maxTotalBytes})`;
    } else refusal = ctx.declaredRefusal(e.size, null, kind);
    if (refusal !== null) {
      ctx.refuse(memberPath, refusal);
      refusedNames.add(e.path);
    } else wanted.push(e);
  }
  // Names select members; a refused member that shares its name with a wanted one would come along, so neither is.
  const take: ListedEntry[] = [];
  for (const e of wanted) {
    if (refusedNames.has(e.path)) ctx.refuse(`${path}/${e.path}`, 'shares its name with a refused member');
    else if (take.length >= MAX_NAMES_PER_RUN) ctx.refuse(`${path}/${e.path}`, 'too many members for one extraction');
    else take.push(e);
  }
  if (take.length === 0) return [];
  const names = [...new Set(take.map((e) => e.path))];
  // One tally for the whole archive: the ratio is checked across its members, as for zip.
  const tally = new ContainerTally(data.length);
  const splitter = new MemberSplitter(take.map((e) => e.size ?? 0), () => ctx.collector(tally));
  const args = ['x', '-so', '-spd', type, ...base(['--', '/in', ...names])];
  const r = await runSevenZip(data, args, bounds(ctx, outputBound(ctx)), (c) => splitter.push(c));
  splitter.end();
  const out: ScanTarget[] = splitter.done.map((d, j) => {
    const e = take[j] as ListedEntry;
    return { path: `${path}/${e.path}`, data: d, name: e.path.split('/').pop() ?? e.path };
  });
  const i = splitter.done.length;
  if (i < take.length) {
    const short = r.timedOut ? firstError(r, ctx)
      : r.stopped ? 'more bytes than listed' : 'fewer bytes than listed (damaged archive)';
    const rest = take.length - i - 1;
    if (ctx.halted !== null) ctx.refuse(path, `${ctx.halted}; ${rest + 1} members not extracted`);
    else {
      ctx.refuse(`${path}/${(take[i] as ListedEntry).path}`, splitter.refusal ?? short);
      if (rest > 0) ctx.refuse(path, `${rest} members after it not extracted`);
    }
  } else if (r.stopped) ctx.refuse(path, r.timedOut ? firstError(r, ctx) : 'more bytes than listed');
  if (r.code !== 0 && !r.stopped) ctx.refuse(path, `corrupt ${kind} archive: ${firstError(r, ctx)}`);
  return out;
}
