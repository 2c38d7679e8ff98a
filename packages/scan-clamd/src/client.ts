/**
 * A clamd client. Scans run on pooled `IDSESSION` connections (clamd keeps a
 * session open between commands and tags each reply with the command's
 * number), so a scan costs writes and one read, not a connect, an accept and
 * a close: that was most of our CPU per clamd scan (bench/src/clamd.bench.ts).
 * Every frame of one INSTREAM goes out in one corked write (one writev; the
 * part is already in memory, so nothing is copied and backpressure has no
 * buffer to protect). Failover across CLAMD_ADDRESS in order on connect
 * failures, a connect timeout, the caller's AbortSignal as the overall
 * deadline. PING and VERSION use a connection of their own (rare, and a
 * readiness probe must not be answered by a session that is already open).
 */
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import type { ClamdAddress } from './address.js';
import { formatAddress } from './address.js';
import { ClamdError, ClamdErrorCode } from './errors.js';
import { MAX_REPLY, ReplyReader } from './reply.js';

export interface ClamdClientOptions {
  readonly addresses: readonly ClamdAddress[];
  readonly connectTimeoutMs?: number;
  /** INSTREAM chunk size; clamd's default StreamMaxLength is 25 MB, chunks just bound our writes. */
  readonly chunkSize?: number;
  /**
   * Idle sessions kept open. Bounds the file descriptors (ours and clamd's: each session holds one
   * of clamd's MaxConnectionQueueLength/MaxThreads slots while it scans) a burst leaves behind.
   */
  readonly maxIdleSessions?: number;
  /**
   * An idle session is closed after this long, below clamd's own IdleTimeout (default 30 s), so we
   * close it before clamd does and a scan rarely meets a session clamd has just dropped.
   */
  readonly idleTimeoutMs?: number;
}

function connectOne(addr: ClamdAddress, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = addr.kind === 'tcp'
      ? createConnection({ host: addr.host, port: addr.port })
      : createConnection({ path: addr.path });
    const fail = (why: string): void => {
      cleanup();
      sock.destroy();
      reject(new ClamdError(ClamdErrorCode.CONNECT, `${formatAddress(addr)}: ${why}`));
    };
    const onError = (e: NodeJS.ErrnoException): void => fail(e.code ?? e.message);
    const onAbort = (): void => fail('aborted');
    const timer = setTimeout(() => fail(`no connection within ${timeoutMs} ms`), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      sock.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    sock.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => {
      cleanup();
      resolve(sock);
    });
  });
}

const LEN = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
};
const INSTREAM = Buffer.from('zINSTREAM\0');
const END_OF_STREAM = Buffer.alloc(4);
const IDSESSION = Buffer.from('zIDSESSION\0');
/** A session reply: `<command number>: <reply>`. */
const TAGGED = /^(\d+): ([\s\S]*)$/;

/** Why a session exchange ended without a reply; `stale` ones are retried once on a new session. */
class SessionLost extends ClamdError {
  constructor(message: string, readonly stale: boolean) {
    super(ClamdErrorCode.PROTOCOL, message);
  }
}

/** One IDSESSION connection: one command at a time, replies matched by number. */
class Session {
  private readonly reader = new ReplyReader();
  private next = 1;
  private waiting: { id: number; resolve: (r: string) => void; reject: (e: Error) => void } | null = null;
  /** Replies already received on this session; a reused session with none may be stale. */
  private answered = 0;
  closed = false;

  constructor(readonly sock: Socket) {
    sock.on('data', (c: Buffer) => {
      for (const r of this.reader.feed(c)) this.onReply(r);
      if (this.reader.tooLong) {
        this.fail(new ClamdError(ClamdErrorCode.PROTOCOL, `clamd reply longer than ${MAX_REPLY} bytes`));
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      this.fail(this.lost(`clamd connection failed: ${e.code ?? e.message}`));
    });
    sock.on('close', () => {
      // A reply cut short by the close (no NUL) is still clamd's answer, as with one-shot connections.
      const p = this.reader.pending();
      if (p !== null && this.waiting !== null) this.onReply(p);
      this.fail(this.lost('clamd closed the connection without a reply'));
    });
    sock.on('timeout', () => this.destroy());
  }

  private lost(message: string): SessionLost {
    // A session that has answered before and dies before any byte of this reply: clamd dropped
    // it while idle (IdleTimeout, restart). Scanning is idempotent, so the caller may retry.
    return new SessionLost(message, this.answered > 0 && this.reader.pending() === null);
  }

  private onReply(raw: string): void {
    if (raw === '\u0000overflow') {
      this.fail(new ClamdError(ClamdErrorCode.PROTOCOL, `clamd reply longer than ${MAX_REPLY} bytes`));
      return;
    }
    const w = this.waiting;
    const m = TAGGED.exec(raw);
    if (w === null || (m !== null && Number(m[1]) !== w.id)) {
      this.fail(new ClamdError(ClamdErrorCode.PROTOCOL, 'clamd sent a reply to no command of ours'));
      return;
    }
    this.waiting = null;
    this.answered++;
    // An untagged reply (a clamd that answers outside the session, e.g. before closing on an error)
    // is taken as the answer to the one command outstanding; the session is not reused after it.
    if (m === null) this.destroy();
    w.resolve(m !== null ? (m[2] as string) : raw);
  }

  private fail(e: Error): void {
    this.destroy();
    const w = this.waiting;
    this.waiting = null;
    w?.reject(e);
  }

  destroy(): void {
    this.closed = true;
    this.sock.destroy();
  }

  /** Sends one INSTREAM; resolves with clamd's reply (without the number). */
  instream(data: Uint8Array, chunkSize: number): Promise<string> {
    if (this.closed || this.waiting !== null) return Promise.reject(new SessionLost('session not usable', true));
    return new Promise((resolve, reject) => {
      this.waiting = { id: this.next++, resolve, reject };
      const s = this.sock;
      s.setTimeout(0);
      s.cork();
      s.write(INSTREAM);
      for (let off = 0; off < data.length; off += chunkSize) {
        const chunk = data.subarray(off, Math.min(off + chunkSize, data.length));
        s.write(LEN(chunk.length));
        s.write(chunk);
      }
      s.write(END_OF_STREAM);
      s.uncork();
    });
  }
}

export class ClamdClient {
  private readonly addresses: readonly ClamdAddress[];
  private readonly connectTimeoutMs: number;
  private readonly chunkSize: number;
  private readonly maxIdle: number;
  private readonly idleTimeoutMs: number;
  private readonly idle: Session[] = [];
  /** Index of the address that last worked: tried first next time. */
  private preferred = 0;

  constructor(opts: ClamdClientOptions) {
    if (opts.addresses.length === 0) throw new ClamdError(ClamdErrorCode.ADDRESS, 'no clamd address');
    this.addresses = opts.addresses;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 2000;
    this.chunkSize = opts.chunkSize ?? 256 * 1024;
    this.maxIdle = opts.maxIdleSessions ?? 8;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 10_000;
  }

  private async connect(signal: AbortSignal): Promise<Socket> {
    const errors: string[] = [];
    for (let k = 0; k < this.addresses.length; k++) {
      const i = (this.preferred + k) % this.addresses.length;
      try {
        const s = await connectOne(this.addresses[i] as ClamdAddress, this.connectTimeoutMs, signal);
        this.preferred = i;
        return s;
      } catch (e) {
        errors.push((e as Error).message);
        if (signal.aborted) break;
      }
    }
    throw new ClamdError(ClamdErrorCode.CONNECT, `clamd unreachable (${errors.join('; ')})`);
  }

  /** Sends what `send` writes on a connection of its own and resolves with clamd's first reply. */
  private async exchange(send: (s: Socket, stop: AbortSignal) => Promise<void>, signal: AbortSignal): Promise<string> {
    const sock = await this.connect(signal);
    const stop = new AbortController();
    return new Promise<string>((resolve, reject) => {
      const reader = new ReplyReader();
      let done = false;
      const finish = (err: Error | null, reply?: string): void => {
        if (done) return;
        done = true;
        stop.abort();
        signal.removeEventListener('abort', onAbort);
        sock.destroy();
        if (err !== null) reject(err);
        else resolve(reply ?? '');
      };
      const onAbort = (): void => finish(new ClamdError(ClamdErrorCode.TIMEOUT, 'clamd did not answer in time'));
      signal.addEventListener('abort', onAbort, { once: true });
      sock.on('data', (c: Buffer) => {
        const replies = reader.feed(c);
        if (replies.length > 0) finish(null, replies[0]);
        else if (reader.tooLong) finish(null, '\u0000overflow');
      });
      sock.on('error', (e: NodeJS.ErrnoException) => {
        finish(new ClamdError(ClamdErrorCode.PROTOCOL, `clamd connection failed: ${e.code ?? e.message}`));
      });
      sock.on('close', () => {
        const p = reader.pending();
        if (p !== null) finish(null, p);
        else finish(new ClamdError(ClamdErrorCode.PROTOCOL, 'clamd closed the connection without a reply'));
      });
      if (signal.aborted) onAbort();
      // Write failures surface as 'error'/'close' above; the reply may already be in.
      send(sock, stop.signal).catch(() => undefined);
    });
  }

  private static async write(s: Socket, b: Uint8Array, stop: AbortSignal): Promise<void> {
    if (s.destroyed || stop.aborted) throw new Error('socket closed');
    if (!s.write(b)) await once(s, 'drain', { signal: stop });
  }

  async command(cmd: 'PING' | 'VERSION', signal: AbortSignal): Promise<string> {
    return this.exchange((s, stop) => ClamdClient.write(s, Buffer.from(`z${cmd}\0`), stop), signal);
  }

  private async session(signal: AbortSignal): Promise<Session> {
    for (let s = this.idle.pop(); s !== undefined; s = this.idle.pop()) if (!s.closed) return s;
    const sock = await this.connect(signal);
    sock.write(IDSESSION);
    return new Session(sock);
  }

  private release(s: Session, reply: string): void {
    // clamd ends a session after an error reply (size limit, read errors): never reuse one.
    if (s.closed || reply.endsWith('ERROR') || this.idle.length >= this.maxIdle) {
      if (!s.closed) s.sock.end('zEND\0');
      s.closed = true;
      return;
    }
    s.sock.setTimeout(this.idleTimeoutMs);
    this.idle.push(s);
  }

  async instream(data: Uint8Array, signal: AbortSignal): Promise<string> {
    if (signal.aborted) throw new ClamdError(ClamdErrorCode.TIMEOUT, 'clamd did not answer in time');
    for (let attempt = 0; ; attempt++) {
      const s = await this.session(signal);
      const onAbort = (): void => s.destroy();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        const reply = await s.instream(data, this.chunkSize);
        signal.removeEventListener('abort', onAbort);
        this.release(s, reply);
        return reply;
      } catch (e) {
        signal.removeEventListener('abort', onAbort);
        s.destroy();
        if (signal.aborted) throw new ClamdError(ClamdErrorCode.TIMEOUT, 'clamd did not answer in time');
        if (e instanceof SessionLost && e.stale && attempt === 0) continue;
        throw e;
      }
    }
  }

  /** Closes the idle sessions (in-flight scans finish on theirs). */
  close(): void {
    for (const s of this.idle.splice(0)) {
      s.sock.end('zEND\0');
      s.closed = true;
    }
  }
}
