/**
 * One ICAP transaction on one connection. OPTIONS: the reply head. RESPMOD/REQMOD: the head and the
 * preview, then — on `100 Continue` — the rest, then the final reply turned into a ScanOutcome:
 *   204                                    → clean (the server saw nothing to change)
 *   200 naming a threat in its headers     → infected with that name
 *   200 with a block page (HTTP ≠ 200, or a response to REQMOD)                    → ICAP.Blocked
 *   200 echoing the part: byte-identical   → clean; cut short, longer or changed   → ICAP.Modified
 *   4xx/5xx                                → IcapError(STATUS); anything else broken → IcapError(PROTOCOL)
 * The echoed body is compared as it streams, never buffered, and reading stops at the first byte
 * that differs. It says whether the connection may carry another request.
 */
import type { ScanOutcome } from '@mmsguard/scan';
import type { IcapAddress } from './address.js';
import type { IcapConnection } from './connection.js';
import { IcapError, IcapErrorCode } from './errors.js';
import { checkIstag, parseIstag, parseOptions, type IcapMethod, type IcapServiceOptions } from './options.js';
import { field, type IcapReplyHead } from './reply.js';
import { CHUNK_END, LAST_CHUNK, LAST_CHUNK_IEOF, chunkHead, modifyRequest, optionsRequest } from './request.js';
import { BLOCKED_NAME, MODIFIED_NAME, infectionName } from './verdict.js';

export interface Done<T> {
  readonly value: T;
  /** The connection finished a whole transaction cleanly and the server did not ask to close it. */
  readonly reusable: boolean;
  /** The ISTag the reply carried, if any (it changes when the server's signatures do). */
  readonly istag: string | null;
}

async function nextHead(conn: IcapConnection, signal: AbortSignal): Promise<IcapReplyHead> {
  const ev = await conn.next(signal);
  if (ev.kind !== 'head') throw new IcapError(IcapErrorCode.PROTOCOL, `${conn.where}: reply out of order`);
  return ev.head;
}

/** Reads to the end of a reply without a body (its `end` is queued already). */
async function endOf(conn: IcapConnection, signal: AbortSignal): Promise<void> {
  const ev = await conn.next(signal);
  if (ev.kind !== 'end') throw new IcapError(IcapErrorCode.PROTOCOL, `${conn.where}: reply out of order`);
}

const keepsAlive = (h: IcapReplyHead): boolean => !/\bclose\b/i.test(field(h.fields, 'connection') ?? '');

export async function options(
  conn: IcapConnection, a: IcapAddress, signal: AbortSignal,
): Promise<Done<IcapServiceOptions>> {
  conn.send([optionsRequest(a)]);
  const head = await nextHead(conn, signal);
  const value = parseOptions(head, conn.where);
  // An OPTIONS body (opt-body) is never needed: the connection is dropped rather than read to its end.
  if (head.hasBody) return { value, reusable: false, istag: value.istag };
  await endOf(conn, signal);
  return { value, reusable: keepsAlive(head), istag: value.istag };
}

/** `data` as one chunk (nothing when empty). */
const chunk = (data: Uint8Array): Uint8Array[] => (data.length === 0 ? [] : [chunkHead(data.length), data, CHUNK_END]);

export interface ModifyPlan {
  readonly method: IcapMethod;
  /** The server's preview size (null: send the whole body at once). */
  readonly preview: number | null;
}

export async function modify(
  conn: IcapConnection, a: IcapAddress, plan: ModifyPlan, data: Uint8Array, signal: AbortSignal,
): Promise<Done<ScanOutcome>> {
  const preview = plan.preview === null ? null : Math.min(plan.preview, data.length);
  const ieof = preview === data.length;
  const first = preview === null ? data : data.subarray(0, preview);
  const head0 = modifyRequest(plan.method, a, data.length, preview);
  conn.send([head0, ...chunk(first), ieof ? LAST_CHUNK_IEOF : LAST_CHUNK]);
  let head = await nextHead(conn, signal);
  if (head.status === 100) {
    if (preview === null || ieof) {
      throw new IcapError(IcapErrorCode.PROTOCOL, `${conn.where}: 100 Continue although the whole part was sent`);
    }
    await endOf(conn, signal);
    conn.send([...chunk(data.subarray(preview)), LAST_CHUNK]);
    head = await nextHead(conn, signal);
  }
  // Otherwise a final answer to the preview ended the transaction: the rest is never sent (RFC 3507 §4.5).
  // A final reply while our bytes are still going out answered early: the server may read them as
  // the next request, so the connection is not kept.
  const complete = !conn.sending;
  const istag = parseIstag(field(head.fields, 'istag'));
  // A c-icap restarted without its engine since our OPTIONS: its 204 means nothing.
  checkIstag(istag, conn.where);
  const done = (value: ScanOutcome, bodyRead: boolean): Done<ScanOutcome> =>
    ({ value, reusable: complete && bodyRead && keepsAlive(head), istag });

  if (head.status >= 400 && head.status <= 599) {
    throw new IcapError(IcapErrorCode.STATUS, `${conn.where}: ICAP ${head.status} ${head.reason}`.trim());
  }
  if (head.status !== 200 && head.status !== 204) {
    throw new IcapError(IcapErrorCode.PROTOCOL, `${conn.where}: unexpected ICAP status ${head.status}`);
  }
  const named = infectionName(head.fields);
  if (named !== null) return done({ kind: 'infected', name: named }, !head.hasBody && (await ended(conn, signal)));
  if (head.status === 204) return done({ kind: 'clean' }, await ended(conn, signal));

  const http = head.http;
  // c-icap's Allow204As200okZeroEncaps: a 200 with empty heads and no body means "unmodified".
  if (http === null && !head.hasBody) return done({ kind: 'clean' }, await ended(conn, signal));
  if (http === null) throw new IcapError(IcapErrorCode.PROTOCOL, `${conn.where}: a 200 reply without HTTP head`);
  const echo = plan.method === 'RESPMOD' ? http.kind === 'response' && http.status === 200 : http.kind === 'request';
  if (!echo) {
    if (plan.method === 'RESPMOD' && http.kind === 'request') {
      throw new IcapError(IcapErrorCode.PROTOCOL, `${conn.where}: a RESPMOD reply carrying an HTTP request`);
    }
    return done({ kind: 'infected', name: BLOCKED_NAME }, false);
  }
  if (!head.hasBody) return done({ kind: 'infected', name: MODIFIED_NAME }, await ended(conn, signal));
  return compareEcho(conn, data, signal, done);
}

/** True once the queued `end` of a bodiless reply is read. */
async function ended(conn: IcapConnection, signal: AbortSignal): Promise<boolean> {
  await endOf(conn, signal);
  return true;
}

/** Streams the echoed body against the part; stops at the first difference. */
async function compareEcho(
  conn: IcapConnection, data: Uint8Array, signal: AbortSignal,
  done: (v: ScanOutcome, bodyRead: boolean) => Done<ScanOutcome>,
): Promise<Done<ScanOutcome>> {
  let pos = 0;
  for (;;) {
    const ev = await conn.next(signal);
    if (ev.kind === 'end') {
      return done(pos === data.length ? { kind: 'clean' } : { kind: 'infected', name: MODIFIED_NAME }, true);
    }
    if (ev.kind !== 'body') throw new IcapError(IcapErrorCode.PROTOCOL, `${conn.where}: reply out of order`);
    const n = ev.data.length;
    if (pos + n > data.length || Buffer.compare(ev.data, data.subarray(pos, pos + n)) !== 0) {
      return done({ kind: 'infected', name: MODIFIED_NAME }, false);
    }
    pos += n;
  }
}
