/**
 * An ICAP client over the ICAP_URL addresses: OPTIONS per address (cached for its Options-TTL, and
 * dropped after any failure there, so a restarted server is asked again), then RESPMOD — or REQMOD
 * when the service offers only that — over pooled persistent connections. Failover: an address that
 * cannot be reached, answers an error status or breaks the protocol is left for the next one, in
 * order, starting from the one that last answered; only the caller's deadline ends the attempts. A
 * pooled connection that turns out stale (closed before a byte of reply) is retried once on a new
 * one — safe because a scan changes nothing on the server.
 */
import type { ScanOutcome } from '@mmsguard/scan';
import { formatIcapUrl, type IcapAddress } from './address.js';
import type { IcapConnection } from './connection.js';
import { IcapError, IcapErrorCode } from './errors.js';
import { modify, options, type Done } from './exchange.js';
import type { IcapServiceOptions } from './options.js';
import { ConnectionPool } from './pool.js';

export interface IcapClientOptions {
  readonly addresses: readonly IcapAddress[];
  /** TCP handshake bound per address, so a black-holed address leaves time for the next one. */
  readonly connectTimeoutMs?: number;
  /** Connections in use at once per address (the server's Max-Connections lowers it). */
  readonly maxConnections?: number;
  /** Idle connections kept per address. */
  readonly maxIdle?: number;
  readonly idleTimeoutMs?: number;
}

interface Server {
  readonly address: IcapAddress;
  readonly url: string;
  readonly pool: ConnectionPool;
  options: IcapServiceOptions | null;
  optionsUntil: number;
  /** The OPTIONS request in flight: concurrent scans wait for it instead of each asking (and connecting). */
  asking: Promise<IcapServiceOptions> | null;
}

export interface ServiceInfo extends IcapServiceOptions {
  /** The ICAP_URL entry that answered. */
  readonly url: string;
}

/** `p`, or TIMEOUT when `signal` ends first (a shared OPTIONS runs on its first asker's deadline). */
function abortable<T>(p: Promise<T>, signal: AbortSignal, where: string): Promise<T> {
  if (signal.aborted) return Promise.reject(new IcapError(IcapErrorCode.TIMEOUT, `${where}: no OPTIONS reply in time`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new IcapError(IcapErrorCode.TIMEOUT, `${where}: no OPTIONS reply in time`));
    signal.addEventListener('abort', onAbort, { once: true });
    void p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class IcapClient {
  private readonly servers: Server[];
  /** Index of the address that last answered: tried first next time. */
  private preferred = 0;

  constructor(opts: IcapClientOptions) {
    if (opts.addresses.length === 0) throw new IcapError(IcapErrorCode.URL, 'no ICAP address');
    const poolOpts = {
      connectTimeoutMs: opts.connectTimeoutMs ?? 2000,
      maxConnections: opts.maxConnections ?? 16,
      maxIdle: opts.maxIdle ?? 4,
      idleTimeoutMs: opts.idleTimeoutMs ?? 30_000,
    };
    this.servers = opts.addresses.map((address) => ({
      address, url: formatIcapUrl(address), pool: new ConnectionPool(address, poolOpts),
      options: null, optionsUntil: 0, asking: null,
    }));
  }

  /** Runs `fn` on a pooled connection; a reused one that dies before answering is retried once on a new one. */
  private async onConnection<T>(
    s: Server, signal: AbortSignal, fn: (c: IcapConnection) => Promise<Done<T>>,
  ): Promise<Done<T>> {
    for (let attempt = 0; ; attempt++) {
      const { conn, reused } = await s.pool.acquire(signal);
      let result: Done<T>;
      try {
        result = await fn(conn);
      } catch (e) {
        s.pool.release(conn, false);
        const stale = reused && !conn.heardBack && e instanceof IcapError && e.code === IcapErrorCode.PROTOCOL;
        if (stale && attempt === 0 && !signal.aborted) continue;
        throw e;
      }
      s.pool.release(conn, result.reusable);
      if (result.istag !== null && s.options !== null && s.options.istag !== result.istag) {
        s.options = { ...s.options, istag: result.istag };
      }
      return result;
    }
  }

  private async optionsOf(s: Server, signal: AbortSignal, fresh: boolean): Promise<IcapServiceOptions> {
    if (!fresh && s.options !== null && Date.now() < s.optionsUntil) return s.options;
    if (s.asking === null) {
      s.asking = this.onConnection(s, signal, (c) => options(c, s.address, signal)).then(({ value }) => {
        s.options = value;
        s.optionsUntil = Date.now() + value.ttlMs;
        s.pool.serverLimit = value.maxConnections;
        return value;
      }).finally(() => {
        s.asking = null;
      });
    }
    return abortable(s.asking, signal, s.url);
  }

  /** Tries `fn` on each address in failover order until one answers or the deadline passes. */
  private async failover<T>(signal: AbortSignal, fn: (s: Server) => Promise<T>): Promise<T> {
    const errors: IcapError[] = [];
    for (let k = 0; k < this.servers.length; k++) {
      const i = (this.preferred + k) % this.servers.length;
      const s = this.servers[i] as Server;
      try {
        const r = await fn(s);
        this.preferred = i;
        return r;
      } catch (e) {
        if (!(e instanceof IcapError)) throw e;
        s.options = null;
        errors.push(e);
        if (signal.aborted || e.code === IcapErrorCode.TIMEOUT) break;
      }
    }
    const last = errors[errors.length - 1];
    if (last === undefined) throw new IcapError(IcapErrorCode.TIMEOUT, 'ICAP scan cancelled before it started');
    if (errors.length === 1) throw last;
    const code = errors.every((e) => e.code === IcapErrorCode.CONNECT) ? IcapErrorCode.CONNECT : last.code;
    throw new IcapError(code, `no ICAP server answered (${errors.map((e) => e.message).join('; ')})`);
  }

  /** Fresh OPTIONS from the first address that answers (readiness, ISTag). */
  async serviceInfo(signal: AbortSignal): Promise<ServiceInfo> {
    return this.failover(signal, async (s) => ({ ...(await this.optionsOf(s, signal, true)), url: s.url }));
  }

  /** Scans `data`; throws IcapError when no server gave an answer. */
  async scan(data: Uint8Array, signal: AbortSignal): Promise<ScanOutcome> {
    return this.failover(signal, async (s) => {
      const o = await this.optionsOf(s, signal, false);
      const method = o.methods.includes('RESPMOD') ? 'RESPMOD' : 'REQMOD';
      const plan = { method, preview: o.preview } as const;
      return (await this.onConnection(s, signal, (c) => modify(c, s.address, plan, data, signal))).value;
    });
  }

  /** The ISTag last seen per address (null before its first OPTIONS). */
  istags(): { readonly url: string; readonly istag: string | null }[] {
    return this.servers.map((s) => ({ url: s.url, istag: s.options?.istag ?? null }));
  }

  /** Connections per address (in use, idle). */
  connections(): { readonly url: string; readonly active: number; readonly idle: number }[] {
    return this.servers.map((s) => ({ url: s.url, ...s.pool.size }));
  }

  close(): void {
    for (const s of this.servers) s.pool.close();
  }
}
