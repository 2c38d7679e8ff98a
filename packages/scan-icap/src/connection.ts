/**
 * One TCP connection to an ICAP server with its reply reader: bytes in become queued events that
 * the exchange pulls one at a time (`next`); requests go out in one corked write. Every wait ends —
 * with an event, the connection's failure (reset, close, broken reply) or the caller's deadline —
 * so a silent or broken server is an error, never a hang. It knows nothing of ICAP semantics.
 */
import { createConnection, type Socket } from 'node:net';
import { formatIcapUrl, type IcapAddress } from './address.js';
import { IcapError, IcapErrorCode } from './errors.js';
import { ReplyReader, type ReplyEvent } from './reply.js';

export class IcapConnection {
  private readonly reader = new ReplyReader();
  private readonly queue: ReplyEvent[] = [];
  private failure: IcapError | null = null;
  private wake: (() => void) | null = null;
  /** Called when the connection breaks or speaks out of turn (the pool drops it when idle). */
  onTrouble: (() => void) | null = null;

  constructor(readonly socket: Socket, readonly where: string) {
    socket.on('data', (chunk: Buffer) => {
      if (this.failure !== null) return;
      try {
        this.queue.push(...this.reader.feed(chunk));
      } catch (e) {
        this.fail(e instanceof IcapError ? e : new IcapError(IcapErrorCode.PROTOCOL, String(e)));
        socket.destroy();
      }
      this.notify();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      this.fail(new IcapError(IcapErrorCode.PROTOCOL, `${where}: connection failed (${e.code ?? e.message})`));
    });
    socket.on('close', () => {
      const mid = this.reader.inReply ? 'in the middle of a reply' : 'without a reply';
      this.fail(new IcapError(IcapErrorCode.PROTOCOL, `${where}: the server closed the connection ${mid}`));
    });
  }

  private fail(e: IcapError): void {
    this.failure ??= e;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
    if (this.failure !== null || this.queue.length > 0) this.onTrouble?.();
  }

  /** True while the connection is open, quiet and between replies: it may carry another request. */
  get reusable(): boolean {
    return this.failure === null && this.queue.length === 0 && !this.reader.inReply && !this.socket.destroyed;
  }

  /** True once anything of a reply has arrived (a stale pooled connection fails before that). */
  get heardBack(): boolean {
    return this.queue.length > 0 || this.reader.inReply;
  }

  /** The next reply event; queued events come before a failure that followed them. */
  async next(signal: AbortSignal): Promise<ReplyEvent> {
    while (this.queue.length === 0) {
      if (signal.aborted) throw new IcapError(IcapErrorCode.TIMEOUT, `${this.where}: no complete ICAP reply in time`);
      if (this.failure !== null) throw this.failure;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          if (this.wake === done) this.wake = null;
          resolve();
        };
        this.wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    return this.queue.shift() as ReplyEvent;
  }

  /**
   * Sends `parts` in one corked write (one writev). The part is in memory already, so waiting for
   * 'drain' would protect no buffer; a write that fails surfaces through `next` as the failure.
   */
  send(parts: readonly Uint8Array[]): void {
    if (this.failure !== null) throw this.failure;
    this.socket.cork();
    for (const p of parts) if (p.length > 0) this.socket.write(p);
    this.socket.uncork();
  }

  /** True while bytes we wrote have not reached the kernel (a reply before that answered early). */
  get sending(): boolean {
    return this.socket.writableLength > 0;
  }

  destroy(): void {
    this.onTrouble = null;
    this.socket.destroy();
  }
}

/** Opens a connection; `connectTimeoutMs` bounds the TCP handshake, `signal` the whole attempt. */
export function connectIcap(a: IcapAddress, connectTimeoutMs: number, signal: AbortSignal): Promise<IcapConnection> {
  const where = formatIcapUrl(a);
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: a.host, port: a.port });
    const fail = (why: string): void => {
      cleanup();
      sock.destroy();
      reject(new IcapError(IcapErrorCode.CONNECT, `${where}: ${why}`));
    };
    const onError = (e: NodeJS.ErrnoException): void => fail(e.code ?? e.message);
    const onAbort = (): void => fail('no connection before the deadline');
    const timer = setTimeout(() => fail(`no connection within ${connectTimeoutMs} ms`), connectTimeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      sock.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    sock.once('error', onError);
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => {
      cleanup();
      sock.setNoDelay(true);
      resolve(new IcapConnection(sock, where));
    });
  });
}
