/**
 * Calls from a worker to the primary over the cluster's IPC channel (WORKERS > 1): the state that
 * must be exact across workers — flood and duplicate counters, VASP buckets, the verdict lookup —
 * lives in the primary's memory, and each operation runs there whole, on one thread, so two workers
 * can never interleave inside one check. (With a Redis STATE_STORE the workers use Redis and none of
 * this is needed.)
 *
 * Only named methods of registered targets can be called: a worker is ours, but a message that
 * names `constructor` or `__proto__` must not reach anything but an error.
 */
import type { Worker } from 'node:cluster';

const REQUEST = 'mmsguard:rpc';
const RESPONSE = 'mmsguard:rpc-res';

/** How long a worker waits for the primary: past it the call fails as a store outage (STATE_STORE_FAILURE). */
export const RPC_TIMEOUT_MS = 5_000;
/**
 * How long a call nobody waits for (a verdict record: the message does not wait for its record) may
 * be held back to travel with others. Every message writes one, so without this the channel carries
 * one message per proxied message; with it, at most one per this many ms, or per LAZY_MAX_CALLS.
 */
export const LAZY_FLUSH_MS = 20;
export const LAZY_MAX_CALLS = 256;
/** Calls a worker may have open at once: a primary that stopped answering must not grow a worker's map. */
export const MAX_PENDING_CALLS = 10_000;

/**
 * Calls travel in batches: every call a worker makes in one turn of its event loop goes in one IPC
 * message, and the primary's answers likewise. A message costs each side ~100 µs of serialising and
 * system calls, about a tenth of a message's whole cost, and every message makes at least one call
 * (its verdict record).
 */
interface Call {
  readonly id: number;
  readonly target: string;
  readonly method: string;
  readonly args: readonly unknown[];
}

interface Request {
  readonly type: typeof REQUEST;
  readonly calls: readonly Call[];
}

type Result =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: RemoteError };

interface Response {
  readonly type: typeof RESPONSE;
  readonly results: readonly Result[];
}

export interface RemoteError {
  readonly message: string;
  readonly code: string;
}

export const RpcErrorCode = {
  /** The primary did not answer in time, or the channel is closed: the caller treats it as a store outage. */
  UNAVAILABLE: 'MMS_ERR_RPC_UNAVAILABLE',
  /** Not a registered target or method (a bug, never a message's fault). */
  UNKNOWN: 'MMS_ERR_RPC_UNKNOWN',
} as const;

export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

function isRequest(m: unknown): m is Request {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === REQUEST;
}

function isResponse(m: unknown): m is Response {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === RESPONSE;
}

export interface RpcTarget {
  readonly object: object;
  readonly methods: readonly string[];
}

/** The primary's side: answers workers' calls on `targets`. Returns the handler for cluster's 'message'. */
export function rpcServer(targets: Readonly<Record<string, RpcTarget>>): (worker: Worker, message: unknown) => void {
  const table = new Map(Object.entries(targets).map(([name, t]) => [name, { ...t, methods: new Set(t.methods) }]));
  const outbox = new Map<Worker, Result[]>();
  const send = (worker: Worker, r: Result): void => {
    const q = outbox.get(worker);
    if (q !== undefined) {
      q.push(r);
      return;
    }
    const results = [r];
    outbox.set(worker, results);
    setImmediate(() => {
      outbox.delete(worker);
      // A worker that died meanwhile has no channel: its calls are gone with it.
      if (worker.isConnected()) worker.send({ type: RESPONSE, results } satisfies Response);
    });
  };
  const run = (worker: Worker, { id, target, method, args }: Call): void => {
    const t = table.get(target);
    const f = t?.methods.has(method) === true ? (t.object as Record<string, unknown>)[method] : undefined;
    if (typeof f !== 'function' || !Array.isArray(args)) {
      send(worker, { id, ok: false, error: { code: RpcErrorCode.UNKNOWN, message: `no method ${target}.${method}` } });
      return;
    }
    Promise.resolve()
      .then(() => (f as (...a: unknown[]) => unknown).apply(t?.object, args))
      .then(
        (value) => send(worker, { id, ok: true, value }),
        (e: unknown) => send(worker, {
          id, ok: false,
          error: { message: (e as Error)?.message ?? String(e), code: (e as { code?: unknown })?.code as string },
        }),
      );
  };
  return (worker, message) => {
    if (!isRequest(message) || !Array.isArray(message.calls)) return;
    for (const c of message.calls as readonly Call[]) run(worker, c);
  };
}

/** The worker's side: one channel, calls matched to answers by id. */
export class RpcClient {
  private next = 0;
  private queue: Call[] = [];
  private lazy: Call[] = [];
  private lazyTimer: NodeJS.Timeout | null = null;
  private readonly pending = new Map<
    number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }
  >();

  constructor(
    private readonly channel: NodeJS.Process = process,
    private readonly timeoutMs = RPC_TIMEOUT_MS,
  ) {
    channel.on('message', (m: unknown) => {
      if (!isResponse(m)) return;
      for (const r of m.results) {
        const p = this.pending.get(r.id);
        if (p === undefined) continue;
        this.pending.delete(r.id);
        clearTimeout(p.timer);
        if (r.ok) p.resolve(r.value);
        else p.reject(new RpcError(r.error.code ?? RpcErrorCode.UNAVAILABLE, r.error.message));
      }
    });
    channel.on('disconnect', () => {
      for (const id of [...this.pending.keys()]) this.settleLost(id);
    });
  }

  /** `lazy`: nobody waits for the answer now; it may travel up to LAZY_FLUSH_MS later, with others. */
  call(target: string, method: string, args: readonly unknown[], lazy = false): Promise<unknown> {
    if (this.channel.send === undefined || !this.channel.connected) {
      return Promise.reject(new RpcError(RpcErrorCode.UNAVAILABLE, 'no channel to the primary process'));
    }
    if (this.pending.size >= MAX_PENDING_CALLS) {
      return Promise.reject(new RpcError(RpcErrorCode.UNAVAILABLE, 'too many calls to the primary in flight'));
    }
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        const what = `${target}.${method}`;
        reject(new RpcError(RpcErrorCode.UNAVAILABLE, `the primary did not answer ${what} in ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      if (lazy) {
        this.lazy.push({ id, target, method, args });
        if (this.lazy.length >= LAZY_MAX_CALLS) this.flush();
        else this.lazyTimer ??= setTimeout(() => this.flush(), LAZY_FLUSH_MS).unref();
        return;
      }
      this.queue.push({ id, target, method, args });
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  /** Sends the calls of this turn of the event loop, and the lazy ones held back, as one message. */
  private flush(): void {
    const calls = this.lazy.length === 0 ? this.queue : [...this.lazy, ...this.queue];
    this.queue = [];
    this.lazy = [];
    if (this.lazyTimer !== null) clearTimeout(this.lazyTimer);
    this.lazyTimer = null;
    if (calls.length === 0) return;
    if (this.channel.connected) {
      this.channel.send?.({ type: REQUEST, calls } satisfies Request);
      return;
    }
    for (const c of calls) this.settleLost(c.id);
  }

  private settleLost(id: number): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.reject(new RpcError(RpcErrorCode.UNAVAILABLE, 'the primary process is gone'));
  }

  /**
   * An object whose `methods` call `target` in the primary; `close` resolves at once (the primary
   * owns the real object). `wrap` turns a remote failure into the error type callers expect.
   */
  remote<T extends object>(
    target: string, methods: readonly string[], wrap?: (e: RpcError) => Error, lazy: readonly string[] = [],
  ): T {
    const out: Record<string, unknown> = { close: () => Promise.resolve() };
    for (const m of methods) {
      out[m] = (...args: unknown[]) => this.call(target, m, args, lazy.includes(m)).catch((e: unknown) => {
        throw wrap !== undefined && e instanceof RpcError ? wrap(e) : e;
      });
    }
    return out as T;
  }
}
