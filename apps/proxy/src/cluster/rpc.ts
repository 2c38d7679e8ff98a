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
/** Calls a worker may have open at once: a primary that stopped answering must not grow a worker's map. */
export const MAX_PENDING_CALLS = 10_000;

interface Request {
  readonly type: typeof REQUEST;
  readonly id: number;
  readonly target: string;
  readonly method: string;
  readonly args: readonly unknown[];
}

type Response =
  | { readonly type: typeof RESPONSE; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: typeof RESPONSE; readonly id: number; readonly ok: false; readonly error: RemoteError };

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
  return (worker, message) => {
    if (!isRequest(message)) return;
    const { id, target, method, args } = message;
    const reply = (r: { ok: true; value: unknown } | { ok: false; error: RemoteError }): void => {
      // A worker that died meanwhile has no channel: its call is gone with it.
      if (worker.isConnected()) worker.send({ type: RESPONSE, id, ...r });
    };
    const t = table.get(target);
    const f = t?.methods.has(method) === true ? (t.object as Record<string, unknown>)[method] : undefined;
    if (typeof f !== 'function' || !Array.isArray(args)) {
      reply({ ok: false, error: { code: RpcErrorCode.UNKNOWN, message: `no method ${target}.${method}` } });
      return;
    }
    Promise.resolve()
      .then(() => (f as (...a: unknown[]) => unknown).apply(t?.object, args))
      .then(
        (value) => reply({ ok: true, value }),
        (e: unknown) => reply({
          ok: false,
          error: { message: (e as Error)?.message ?? String(e), code: (e as { code?: unknown })?.code as string },
        }),
      );
  };
}

/** The worker's side: one channel, calls matched to answers by id. */
export class RpcClient {
  private next = 0;
  private readonly pending = new Map<
    number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }
  >();

  constructor(
    private readonly channel: NodeJS.Process = process,
    private readonly timeoutMs = RPC_TIMEOUT_MS,
  ) {
    channel.on('message', (m: unknown) => {
      if (!isResponse(m)) return;
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.value);
      else p.reject(new RpcError(m.error.code ?? RpcErrorCode.UNAVAILABLE, m.error.message));
    });
    channel.on('disconnect', () => {
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        this.pending.delete(id);
        p.reject(new RpcError(RpcErrorCode.UNAVAILABLE, 'the primary process is gone'));
      }
    });
  }

  call(target: string, method: string, args: readonly unknown[]): Promise<unknown> {
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
      this.channel.send?.({ type: REQUEST, id, target, method, args } satisfies Request);
    });
  }

  /**
   * An object whose `methods` call `target` in the primary; `close` resolves at once (the primary
   * owns the real object). `wrap` turns a remote failure into the error type callers expect.
   */
  remote<T extends object>(target: string, methods: readonly string[], wrap?: (e: RpcError) => Error): T {
    const out: Record<string, unknown> = { close: () => Promise.resolve() };
    for (const m of methods) {
      out[m] = (...args: unknown[]) => this.call(target, m, args).catch((e: unknown) => {
        throw wrap !== undefined && e instanceof RpcError ? wrap(e) : e;
      });
    }
    return out as T;
  }
}
