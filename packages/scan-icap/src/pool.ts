/**
 * Persistent connections to one ICAP address: at most `limit` in use at once (ours, lowered to the
 * server's Max-Connections), up to `maxIdle` kept open between requests for `idleTimeoutMs`. A
 * request beyond the limit waits for a free connection until its deadline. An idle connection that
 * breaks or speaks out of turn is dropped at once. Each c-icap connection holds one server thread,
 * which is why idle ones are few and short-lived.
 */
import { formatIcapUrl, type IcapAddress } from './address.js';
import { connectIcap, type IcapConnection } from './connection.js';
import { IcapError, IcapErrorCode } from './errors.js';

export interface PoolOptions {
  readonly connectTimeoutMs: number;
  /** Connections in use at once per address: bounds the threads one proxy takes from the server. */
  readonly maxConnections: number;
  /** Open idle connections kept per address: each one ties up a server thread while it waits. */
  readonly maxIdle: number;
  /** How long an idle connection is kept: below c-icap's KeepAliveTimeout (600 s), so we close first. */
  readonly idleTimeoutMs: number;
}

export interface Lease {
  readonly conn: IcapConnection;
  /** True when the connection served an earlier request (it may have gone stale meanwhile). */
  readonly reused: boolean;
}

export class ConnectionPool {
  private readonly idle: { conn: IcapConnection; timer: NodeJS.Timeout }[] = [];
  private readonly waiters = new Set<() => void>();
  private active = 0;
  private closed = false;
  /** The server's Max-Connections once OPTIONS said it (null: only ours applies). */
  serverLimit: number | null = null;

  constructor(readonly address: IcapAddress, private readonly opts: PoolOptions) {}

  get limit(): number {
    return Math.max(1, Math.min(this.opts.maxConnections, this.serverLimit ?? Infinity));
  }

  /** Connections in use and idle, for tests and metrics. */
  get size(): { readonly active: number; readonly idle: number } {
    return { active: this.active, idle: this.idle.length };
  }

  async acquire(signal: AbortSignal): Promise<Lease> {
    for (;;) {
      const where = formatIcapUrl(this.address);
      if (this.closed) throw new IcapError(IcapErrorCode.CONNECT, `${where}: client closed`);
      if (signal.aborted) throw new IcapError(IcapErrorCode.TIMEOUT, `${where}: no free connection in time`);
      const idle = this.idle.pop();
      if (idle !== undefined) {
        clearTimeout(idle.timer);
        idle.conn.onTrouble = null;
        if (!idle.conn.reusable) {
          idle.conn.destroy();
          continue;
        }
        this.active++;
        idle.conn.socket.ref();
        return { conn: idle.conn, reused: true };
      }
      if (this.active < this.limit) {
        this.active++;
        try {
          return { conn: await connectIcap(this.address, this.opts.connectTimeoutMs, signal), reused: false };
        } catch (e) {
          this.active--;
          this.wakeOne();
          throw e;
        }
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.waiters.delete(done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.add(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Gives a connection back: kept idle when `reusable` and there is room, destroyed otherwise. */
  release(conn: IcapConnection, reusable: boolean): void {
    this.active--;
    if (reusable && conn.reusable && !this.closed && this.idle.length < this.opts.maxIdle) {
      const entry = { conn, timer: setTimeout(() => this.drop(conn), this.opts.idleTimeoutMs) };
      entry.timer.unref();
      // Like undici's idle sockets: a kept connection never keeps the process alive (a CLI that
      // forgets close() still exits); one in use does.
      conn.socket.unref();
      conn.onTrouble = () => this.drop(conn);
      this.idle.push(entry);
    } else {
      conn.destroy();
    }
    this.wakeOne();
  }

  private drop(conn: IcapConnection): void {
    const i = this.idle.findIndex((e) => e.conn === conn);
    if (i !== -1) {
      clearTimeout((this.idle[i] as { timer: NodeJS.Timeout }).timer);
      this.idle.splice(i, 1);
    }
    conn.destroy();
  }

  private wakeOne(): void {
    const first = this.waiters.values().next();
    if (first.done !== true) first.value();
  }

  /** Closes idle connections; ones in use are destroyed when released. Waiters fail. */
  close(): void {
    this.closed = true;
    for (const e of this.idle.splice(0)) {
      clearTimeout(e.timer);
      e.conn.destroy();
    }
    for (const w of [...this.waiters]) w();
  }
}
