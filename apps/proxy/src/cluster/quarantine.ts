/**
 * The quarantine with WORKERS > 1: one directory, one index, one byte bound — held by the primary.
 * Workers would otherwise each index the directory on their own and evict each other's parts. A
 * worker's Forensics and admin routes reach it through cluster/rpc.ts; blocked parts are rare, so
 * copying their bytes over the IPC channel costs nothing that matters.
 */
import { Readable } from 'node:stream';
import {
  QuarantineError, QuarantineErrorCode, type PutInput, type Quarantine, type QuarantineStats, type Sidecar,
} from '@mmsguard/quarantine';
import type { QuarantineAccess } from '../forensics.js';
import { RpcError, type RpcClient, type RpcTarget } from './rpc.js';

/** Bytes arrive as a Uint8Array (structured clone); Buffer views of the same memory, no copy. */
const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** The primary's side. */
export function quarantineTarget(q: Quarantine): RpcTarget {
  return {
    object: {
      put: (input: PutInput) => q.put({ ...input, data: asBuffer(input.data) }),
      stats: () => q.stats(),
      list: (opts: { limit?: number }) => q.list(opts),
      get: (sha256: string) => q.get(sha256),
      delete: (sha256: string) => q.delete(sha256),
      flush: () => q.flush(),
      // Oldest first, as Quarantine.entries walks them (list gives the most recently seen first).
      shas: async () => (await q.list({ limit: Number.MAX_SAFE_INTEGER })).map((m) => m.sha256).reverse(),
    },
    methods: ['put', 'stats', 'list', 'get', 'delete', 'flush', 'shas'],
  };
}

/** A worker's view of the primary's quarantine. */
export class RemoteQuarantine implements QuarantineAccess {
  private last: QuarantineStats | null = null;

  constructor(private readonly rpc: RpcClient) {}

  private call<T>(method: string, args: readonly unknown[]): Promise<T> {
    return this.rpc.call('quarantine', method, args).catch((e: unknown) => {
      if (!(e instanceof RpcError)) throw e;
      const known = (Object.values(QuarantineErrorCode) as string[]).includes(e.code);
      throw new QuarantineError(known ? (e.code as QuarantineErrorCode) : QuarantineErrorCode.IO, e.message);
    }) as Promise<T>;
  }

  /**
   * Resolves true when the primary queued the part. The bytes are copied now: they are a view into a
   * request buffer that is reused once the reply is out.
   */
  put(input: PutInput): Promise<boolean> {
    return this.call<boolean>('put', [{ ...input, data: new Uint8Array(input.data) }]).catch(() => false);
  }

  /** The primary's statistics as of the previous call (a scrape reads it; the next one is fresher). */
  stats(): QuarantineStats | null {
    void this.call<QuarantineStats>('stats', []).then((s) => (this.last = s), () => undefined);
    return this.last;
  }

  list(opts: { readonly limit?: number } = {}): Promise<Sidecar[]> {
    return this.call('list', [opts]);
  }

  async get(sha256: string): Promise<{ meta: Sidecar; data: Buffer } | null> {
    const got = await this.call<{ meta: Sidecar; data: Uint8Array } | null>('get', [sha256]);
    return got === null ? null : { meta: got.meta, data: asBuffer(got.data) };
  }

  async stream(sha256: string): Promise<{ meta: Sidecar; size: number; stream: Readable } | null> {
    const got = await this.get(sha256);
    return got === null ? null : { meta: got.meta, size: got.data.length, stream: Readable.from([got.data]) };
  }

  delete(sha256: string): Promise<boolean> {
    return this.call('delete', [sha256]);
  }

  flush(): Promise<void> {
    return this.call('flush', []);
  }

  async *entries(opts: { readonly signal?: AbortSignal } = {}): AsyncGenerator<{ meta: Sidecar; data: Buffer }> {
    for (const sha of await this.call<string[]>('shas', [])) {
      if (opts.signal?.aborted === true) return;
      const got = await this.get(sha).catch(() => null);
      if (got !== null) yield got;
    }
  }

  /** The primary closes the quarantine itself, after its workers. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
