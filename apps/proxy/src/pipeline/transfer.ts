/**
 * How a message's bytes move through the proxy, whatever the protocol: read
 * into one buffer against the in-flight budget, stopped at the oversize
 * limit, and — when comforting is on — trickled to the waiting peer while
 * they are read and scanned (like an undici interceptor wrapped around the
 * one dispatch path, not a second copy of it). The pipeline asks
 * `canRewrite()` before deciding; the adapter then `commit`s (clean or
 * rewritten bytes go on), `pass`es (oversize, unscanned) or `cut`s
 * (refused: the peer never sees a complete-looking transfer).
 *
 * Upload: a request body headed to the upstream (MM1 send, MM7), server
 * comforting. Download: an upstream response headed to the client (MM1
 * retrieve), client comforting.
 */
import { Readable, finished } from 'node:stream';
import type { Dispatcher } from 'undici';
import { Comforter, type Due } from '@mmsguard/comfort';
import { readBody, type BodyResult, type MinRate } from '../body.js';
import { holdForUpstream, type Lease } from '../buffer-pool.js';
import type { ProtocolConfig } from '../config.js';
import type { Exchange } from '../exchange.js';
import type { Verdict } from './inspection.js';
import type { Upstream } from '../upstream.js';

/** A paused stream whose first bytes were read already: the head and the rest, as one stream again. */
export function rejoin(head: Uint8Array, rest: Readable): Readable {
  return Readable.from((async function* () {
    if (head.length > 0) yield head;
    for await (const c of rest as AsyncIterable<Buffer>) yield c;
  })());
}

/**
 * Reads up to `n` more bytes of a paused stream (the start of an oversized message, whose headers
 * name its transaction), without losing any: the bytes read are returned with the stream paused.
 */
export function peek(rest: Readable, n: number, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const done = (): void => {
      clearTimeout(timer);
      rest.off('data', onData);
      rest.off('end', done);
      rest.off('error', done);
      rest.pause();
      resolve(Buffer.concat(chunks));
    };
    const onData = (c: Buffer): void => {
      chunks.push(c);
      got += c.length;
      if (got >= n) done();
    };
    const timer = setTimeout(done, timeoutMs);
    rest.on('data', onData);
    rest.once('end', done);
    rest.once('error', done);
    rest.resume();
  });
}

/** Bytes of an oversized message read to learn its transaction (headers, SOAP envelope) for logs and replies. */
const PEEK_BYTES = 16 * 1024;

export abstract class Transfer {
  protected readonly comforter: Comforter | null;
  protected soFar: Uint8Array = new Uint8Array(0);
  private reserved = 0;
  /** The original bytes once read completely. */
  protected body: Buffer | null = null;
  /** The pooled buffer `body` is a view of: the pipeline's hold is dropped in release(), readers hold their own. */
  protected lease: Lease | null = null;
  /** The verdict record's reason when the transfer breaks off. */
  abstract get abortReason(): string;

  protected constructor(
    protected readonly ex: Exchange,
    protected readonly proto: ProtocolConfig,
    private readonly source: Readable,
    protected readonly declared: number | null,
    comfort: boolean,
    onFirstByte?: () => void,
  ) {
    this.comforter = comfort
      ? new Comforter(ex.ctx.comfort, () => this.soFar, {
        intervalMs: proto.comfortIntervalMs, amount: proto.comfortAmount, ...(onFirstByte ? { onFirstByte } : {}),
      })
      : null;
    this.comforter?.output.on('error', () => undefined);
    const c = this.comforter;
    if (c !== null) ex.comfort = () => ({ comfort_started: c.started, comfort_bytes: c.sent });
  }

  /**
   * MIN_UPLOAD_RATE for bodies a peer sends us; none (rate 0) for answers an MMSC sends, which client comforting
   * exists to wait for.
   */
  protected minRate(): MinRate {
    return { bytesPerSecond: 0, graceMs: 0 };
  }

  /** Why a read ended as `aborted` when it was the rate check that ended it. */
  protected tooSlow: string | null = null;

  /** Reads the whole message (or up to the oversize limit) against the in-flight budget. */
  async read(): Promise<BodyResult> {
    const { ctx } = this.ex;
    const read = await readBody(this.source, {
      declaredLength: this.declared, limit: this.proto.oversizeLimit, budget: ctx.budget, minRate: this.minRate(),
      // Comforting trickles views of the bytes read so far into a socket: those buffers are never pooled. Without
      // it nothing reads the bytes before the end, and the reader copies each byte once.
      ...(this.comforter !== null ? { pool: null, onProgress: (v: Uint8Array) => (this.soFar = v) } : {}),
    });
    let r: BodyResult;
    if (read.kind === 'too-slow') {
      // A slow-loris upload: cut like an abort (the socket is destroyed), named in the verdict record.
      const rate = this.minRate();
      this.tooSlow = `upload slower than MIN_UPLOAD_RATE (${read.windowBytes} bytes in the last ` +
        `${rate.graceMs / 1000} s, ${read.received} in all)`;
      ctx.metrics.rejected.inc({ service: this.ex.service, reason: 'too-slow' });
      r = { kind: 'aborted', reserved: 0 };
    } else {
      r = read;
    }
    this.reserved = r.reserved;
    if (r.kind === 'complete') {
      this.body = r.body;
      this.lease = r.lease ?? null;
      this.comforter?.inputComplete();
    } else if (r.kind === 'oversize') {
      // Read a little further when needed, so the headers naming the transaction are in the head.
      const more = r.head.length < PEEK_BYTES ? await peek(r.rest, PEEK_BYTES - r.head.length) : Buffer.alloc(0);
      const head = more.length > 0 ? Buffer.concat([r.head, more]) : r.head;
      this.soFar = head;
      return { ...r, head };
    } else {
      this.comforter?.cut('transfer failed');
    }
    return r;
  }

  get declaredLength(): number | null {
    return this.declared;
  }

  get limit(): number {
    return this.proto.oversizeLimit;
  }

  /** MM1_OVERSIZE_ACTION / MM7_OVERSIZE_ACTION: `pass` forwards an oversized message unscanned. */
  get oversizePass(): boolean {
    return this.proto.oversizeAction === 'pass';
  }

  /** False once a comfort byte went out: from then on the verdict can only cut. */
  canRewrite(): boolean {
    return !(this.comforter?.started ?? false);
  }

  /** True once the receiver has seen bytes of this transfer. */
  get started(): boolean {
    return this.comforter?.started ?? false;
  }

  /** Refused: the receiver gets an incomplete transfer, never a complete-looking one. */
  cut(why: string): void {
    this.comforter?.cut(why);
  }

  /** Gives the buffered bytes back to the in-flight budget. */
  release(): void {
    const { ctx } = this.ex;
    ctx.budget.give(this.reserved);
    this.reserved = 0;
    // The pipeline is done with the bytes (parts are views); the buffer is reused once the last reader drops it.
    this.lease?.drop();
    this.lease = null;
  }
}

/**
 * Client comforting for a client that waits for an answer to its own upload (MM7_CLIENT_COMFORT):
 * no byte of the answer exists yet, and a first byte would commit the status (a Fault is HTTP 500),
 * so the client gets an interim `102 Processing` every INTERVAL instead, until the answer is written.
 * HTTP clients skip interim responses; what they see is a connection that is alive.
 */
class InterimComfort implements Due {
  nextDue: number;
  sent = 0;
  private stopped = false;

  constructor(private readonly ex: Exchange, private readonly intervalMs: number) {
    this.nextDue = ex.ctx.comfort.clock.now() + intervalMs;
    ex.ctx.comfort.add(this);
    ex.beforeReply(() => this.stop());
  }

  tick(now: number): boolean {
    const raw = this.ex.reply.raw;
    if (this.stopped || raw.headersSent || raw.destroyed) return false;
    raw.writeProcessing();
    this.sent++;
    this.nextDue = now + this.intervalMs;
    return true;
  }

  stop(): void {
    this.stopped = true;
    this.ex.ctx.comfort.remove(this);
  }
}

/** A request body headed upstream; with server comforting the upstream request starts at once. */
export class Upload extends Transfer {
  get abortReason(): string {
    return this.tooSlow ?? 'client aborted the upload';
  }

  protected override minRate(): MinRate {
    const c = this.ex.ctx.config;
    return { bytesPerSecond: c.minUploadRate, graceMs: c.minUploadRateGraceMs };
  }
  private readonly early: Promise<Dispatcher.ResponseData> | null;

  constructor(
    ex: Exchange, proto: ProtocolConfig, declared: number | null,
    private readonly upstream: Upstream, private readonly headers: Record<string, string | string[]>,
  ) {
    super(ex, proto, ex.req.raw, declared, proto.serverComfort && declared !== null && declared <= proto.oversizeLimit);
    this.early = this.comforter === null ? null : upstream.request({
      method: 'POST', path: ex.path ?? '/', headers, body: this.comforter.output, contentLength: declared,
    });
    // Settled later; a cut makes it reject, which is expected.
    this.early?.catch(() => undefined);
    if (proto.clientComfort && ex.service === 'MM7') {
      const interim = new InterimComfort(ex, proto.comfortIntervalMs);
      const server = ex.comfort;
      ex.comfort = () => ({ ...server(), client_comfort_interim: interim.sent });
    }
  }

  /** Clean (null: the original bytes) or rewritten: the message goes upstream. */
  commit(rewritten: Uint8Array | null): Promise<Dispatcher.ResponseData> {
    if (rewritten === null && this.early !== null && this.comforter !== null) {
      this.comforter.release();
      return this.early;
    }
    // A rewrite is decided only before the first comfort byte: the comforted request is dropped unseen.
    this.comforter?.cut('rewritten');
    const body = rewritten ?? this.body ?? new Uint8Array(0);
    return this.send(body, body.length);
  }

  /**
   * The upstream request of a verdict that lets the message go on: the original bytes (clean, or exempt), the
   * rewritten ones, or — oversize with `pass` — what was read and the rest, unscanned. Every adapter forwards
   * through this one choice.
   */
  forward(v: Verdict, r: BodyResult): Promise<Dispatcher.ResponseData> {
    switch (v.outcome.kind) {
      case 'forward':
        return this.commit(null);
      case 'rewrite':
        return this.commit(v.rewritten);
      case 'forward-unscanned':
        return r.kind === 'oversize' ? this.pass(r.head, r.rest) : this.commit(null);
      default:
        throw new Error(`outcome ${v.outcome.kind} does not forward`);
    }
  }

  /** Oversize with `pass`: what was read and the rest, streamed upstream unscanned. */
  pass(head: Uint8Array, rest: Readable): Promise<Dispatcher.ResponseData> {
    this.comforter?.cut('oversize');
    return this.send(rejoin(head, rest), this.declared);
  }

  /** Oversize refused: nothing more is buffered, but the rest is read and dropped so the client gets our answer. */
  drain(rest: Readable): void {
    rest.on('error', () => undefined);
    rest.resume();
  }

  private send(body: Uint8Array | Readable, length: number | null): Promise<Dispatcher.ResponseData> {
    const { ex } = this;
    const path = ex.path ?? '/';
    const p = this.upstream.request({ method: 'POST', path, headers: this.headers, body, contentLength: length });
    const lease = this.lease;
    if (lease !== null && !(body instanceof Readable) && body.buffer === lease.buffer.buffer) {
      // undici may still be writing the bytes after it resolves: held until the answer was read to its end.
      const done = holdForUpstream(lease, body);
      p.then((res) => finished(res.body, (err) => done(err === undefined || err === null)), () => done(false));
    }
    return p;
  }
}

/** An upstream response headed to the client; with client comforting the head goes with the first comfort byte. */
export class Download extends Transfer {
  get abortReason(): string {
    return 'upstream closed the response early';
  }
  private passing: Readable | null = null;

  constructor(ex: Exchange, proto: ProtocolConfig, private readonly res: Dispatcher.ResponseData,
    private readonly headers: Record<string, string | string[]>) {
    const cl = Number(res.headers['content-length']);
    const declared = Number.isFinite(cl) ? cl : null;
    // Only a 200 is comforted: its head goes out with the first comfort byte, before the verdict.
    const oversized = declared !== null && declared > proto.oversizeLimit;
    const comfort = proto.clientComfort && res.statusCode === 200 && !oversized;
    // The first comfort byte comes long after construction; `self` only bridges the constructor.
    const self: { d?: Download } = {};
    super(ex, proto, res.body, declared, comfort, () => self.d?.head());
    self.d = this;
  }

  /** The response head, with the original Content-Length when the MMSC sent one (else chunked). */
  private head(): void {
    const { reply } = this.ex;
    const c = this.comforter;
    if (c === null) return;
    reply.hijack();
    const length = this.declared !== null ? { 'content-length': String(this.declared) } : {};
    reply.raw.writeHead(200, { ...this.headers, ...length });
    c.output.pipe(reply.raw, { end: false });
    c.output.once('end', () => {
      if (this.passing === null) reply.raw.end();
      else this.passing.pipe(reply.raw);
    });
  }

  /** Clean (null: the original bytes) or rewritten (only before the first comfort byte). */
  commit(rewritten: Uint8Array | null): void {
    if (this.started && this.comforter !== null) {
      this.comforter.release();
      return;
    }
    this.comforter?.cut('not needed');
    const { reply } = this.ex;
    if (rewritten !== null) void reply.code(200).type('application/vnd.wap.mms-message').send(Buffer.from(rewritten));
    else {
      // Node may write a large Buffer to the socket later, without a copy: held until the reply is out.
      const lease = this.lease?.hold() ?? null;
      if (lease !== null) {
        let held = true;
        const drop = (): void => {
          if (held) lease.drop();
          held = false;
        };
        reply.raw.once('finish', drop);
        reply.raw.once('close', drop);
      }
      void reply.code(this.res.statusCode).headers(this.headers).send(this.body);
    }
  }

  /** Oversize with `pass`: what was read and the rest, delivered unscanned. */
  pass(head: Uint8Array, rest: Readable): void {
    if (this.started && this.comforter !== null) {
      this.passing = rest;
      this.soFar = head;
      this.comforter.release();
      this.comforter.inputComplete();
      return;
    }
    this.comforter?.cut('oversize');
    void this.ex.reply.code(this.res.statusCode).headers(this.headers).send(rejoin(head, rest));
  }

  /** Refused: after the first comfort byte only the connection can say so (it is destroyed). */
  override cut(why: string): void {
    super.cut(why);
    if (this.started) this.ex.reply.raw.destroy();
  }

  /** The rest of a response that will not be relayed; undici reports the abort as an 'error' we expect. */
  drain(rest: Readable = this.res.body): void {
    rest.on('error', () => undefined);
    rest.destroy();
  }
}
