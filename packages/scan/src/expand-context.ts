/**
 * The bookkeeping every archive reader shares while one part is expanded:
 * member count, bytes per member and per part, compression ratio per
 * container, and the message/process expansion budget (expansion-budget.ts).
 * Readers push decompressed chunks into a `Collector` as they arrive, so a
 * limit stops decompression as soon as it is crossed — nothing is inflated
 * whole first. A crossed limit is recorded as an `unscannable` reason.
 */
import type { ExpansionLease } from './expansion-budget.js';

export interface ArchiveLimits {
  /** Containers inside containers. Stops recursive bombs (42.zip nests 5 levels of 16 archives). */
  readonly maxDepth: number;
  /** Members across the whole part. Stops archives of millions of empty files. */
  readonly maxMembers: number;
  /** Uncompressed bytes across the whole part. Stops many medium members adding up to an OOM. */
  readonly maxTotalBytes: number;
  /** Uncompressed bytes of one member (declared or actual). Stops a single huge member. */
  readonly maxMemberBytes: number;
  /**
   * Uncompressed / compressed ratio, for one member and for all members of one container together, once above
   * RATIO_FLOOR. Stops classic zip bombs (~1000:1), including the many-members form (64 members of 1 MiB zeros in
   * a 70 KiB zip) that no single-member check sees.
   */
  readonly maxRatio: number;
  /**
   * Milliseconds one 7-Zip run (a listing or an extraction, in its worker thread) may take. Stops archives that are
   * small and within every byte limit but cost seconds of CPU to decode (31 MiB of bzip2'd text: ~2 s in WASM).
   * Default DEFAULT_MAX_DECODE_MS.
   */
  readonly maxDecodeMs?: number;
}

export const DEFAULT_MAX_DECODE_MS = 5000;

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = Object.freeze({
  maxDepth: 5,
  maxMembers: 1000,
  maxTotalBytes: 64 * 1024 * 1024,
  maxMemberBytes: 32 * 1024 * 1024,
  maxRatio: 100,
  maxDecodeMs: DEFAULT_MAX_DECODE_MS,
});

/** Below this many expanded bytes the ratio is not checked: tiny highly-compressible files are normal. */
export const RATIO_FLOOR = 1024 * 1024;

export interface Unscannable {
  readonly path: string;
  readonly reason: string;
}

/** Bytes produced by one container so far, against its own compressed size (the ratio check). */
export class ContainerTally {
  produced = 0;
  constructor(readonly inputBytes: number) {}
}

/** Thrown inside a reader to abandon the rest of a container; its message becomes the container's finding. */
export class LimitStop extends Error {}

export class ExpandContext {
  members = 0;
  bytes = 0;
  /**
   * Set when a limit that no later member can pass is crossed (the ratio across a container, the message budget,
   * the process pool): the rest of the part is abandoned with one finding per container, not one per member.
   */
  halted: string | null = null;
  readonly unscannable: Unscannable[] = [];
  constructor(readonly limits: ArchiveLimits, readonly lease: ExpansionLease) {}

  refuse(path: string, reason: string): void {
    this.unscannable.push({ path, reason });
  }

  /** Counts one more member; the reason when that passes maxMembers. */
  countMember(): string | null {
    if (this.halted !== null) return `${this.halted}; the rest of the archive was not opened`;
    return ++this.members > this.limits.maxMembers ? `more than ${this.limits.maxMembers} archive members` : null;
  }

  /** Bytes a member may still have. */
  memberCap(): number {
    return Math.max(0, Math.min(this.limits.maxMemberBytes, this.limits.maxTotalBytes - this.bytes));
  }

  /** Why a member that says it has `size` bytes (from `compressed`) is not worth opening; null when it may be. */
  declaredRefusal(size: number, compressed: number | null, what = 'zip'): string | null {
    const cap = this.memberCap();
    if (size > cap) return `member of ${size} bytes exceeds the ${cap}-byte limit`;
    if (compressed !== null && size > RATIO_FLOOR && size > this.limits.maxRatio * Math.max(1, compressed)) {
      return `compression ratio above ${this.limits.maxRatio}:1 (${what} bomb)`;
    }
    return null;
  }

  collector(tally: ContainerTally): Collector {
    return new Collector(this, tally, this.memberCap());
  }
}

/** Gathers one member's bytes as they are decompressed; refuses (and says why) the chunk that crosses a limit. */
export class Collector {
  private readonly chunks: Uint8Array[] = [];
  private got = 0;
  refusal: string | null = null;

  constructor(
    private readonly ctx: ExpandContext, private readonly tally: ContainerTally, private readonly cap: number,
  ) {}

  get size(): number {
    return this.got;
  }

  /** Keeps the chunk; false (with `refusal` set) when a limit is crossed: the caller stops decompressing. */
  push(chunk: Uint8Array): boolean {
    if (this.refusal !== null) return false;
    const n = chunk.length;
    const { limits } = this.ctx;
    const produced = this.tally.produced + n;
    if (this.got + n > this.cap) this.refusal = `member larger than the ${this.cap}-byte limit`;
    else if (produced > RATIO_FLOOR && produced > limits.maxRatio * Math.max(1, this.tally.inputBytes)) {
      this.refusal = `compression ratio above ${limits.maxRatio}:1 across the archive (zip bomb)`;
      this.ctx.halted ??= this.refusal;
    } else {
      this.refusal = this.ctx.lease.take(n);
      if (this.refusal !== null) this.ctx.halted ??= this.refusal;
    }
    if (this.refusal !== null) return false;
    this.tally.produced = produced;
    this.ctx.bytes += n;
    this.got += n;
    this.chunks.push(chunk);
    return true;
  }

  data(): Uint8Array {
    return this.chunks.length === 1 ? (this.chunks[0] as Uint8Array) : Buffer.concat(this.chunks, this.got);
  }
}
