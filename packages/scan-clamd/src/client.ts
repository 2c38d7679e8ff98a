/**
 * A minimal clamd client: one connection per request (clamd closes INSTREAM
 * sessions itself), failover across CLAMD_ADDRESS in order on connect
 * failures, a connect timeout, and the caller's AbortSignal as the overall
 * deadline. Writes respect backpressure.
 */
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import type { ClamdAddress } from './address.js';
import { formatAddress } from './address.js';
import { ClamdError, ClamdErrorCode } from './errors.js';
import { ReplyReader } from './reply.js';

export interface ClamdClientOptions {
  readonly addresses: readonly ClamdAddress[];
  readonly connectTimeoutMs?: number;
  /** INSTREAM chunk size; clamd's default StreamMaxLength is 25 MB, chunks just bound our writes. */
  readonly chunkSize?: number;
}

function connectOne(addr: ClamdAddress, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = addr.kind === 'tcp' ? createConnection({ host: addr.host, port: addr.port }) : createConnection({ path: addr.path });
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

export class ClamdClient {
  private readonly addresses: readonly ClamdAddress[];
  private readonly connectTimeoutMs: number;
  private readonly chunkSize: number;
  /** Index of the address that last worked: tried first next time. */
  private preferred = 0;

  constructor(opts: ClamdClientOptions) {
    if (opts.addresses.length === 0) throw new ClamdError(ClamdErrorCode.ADDRESS, 'no clamd address');
    this.addresses = opts.addresses;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 2000;
    this.chunkSize = opts.chunkSize ?? 64 * 1024;
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

  /** Sends what `send` writes and resolves with clamd's first reply. */
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
      sock.on('error', (e: NodeJS.ErrnoException) => finish(new ClamdError(ClamdErrorCode.PROTOCOL, `clamd connection failed: ${e.code ?? e.message}`)));
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

  async instream(data: Uint8Array, signal: AbortSignal): Promise<string> {
    return this.exchange(async (s, stop) => {
      await ClamdClient.write(s, Buffer.from('zINSTREAM\0'), stop);
      for (let off = 0; off < data.length; off += this.chunkSize) {
        const chunk = data.subarray(off, Math.min(off + this.chunkSize, data.length));
        await ClamdClient.write(s, LEN(chunk.length), stop);
        await ClamdClient.write(s, chunk, stop);
      }
      await ClamdClient.write(s, LEN(0), stop);
    }, signal);
  }
}
