/**
 * The reply table: for every outcome that is not a plain forward, what each
 * protocol answers — the m-send-conf Response-Status, the m-retrieve-conf
 * Retrieve-Status, the MM7 StatusCode, and the reply template for the text.
 * One place: "what does a fail-closed scan error answer?" is one row here.
 * Rendering (protocols/mm1.ts, protocols/mm7.ts) only reads it.
 */
import { ResponseStatus, RetrieveStatus } from 'wap-mms-decoder';
import { Mm7Status } from '@mmsguard/mm7';
import type { RefuseReason, TransientReason } from '@mmsguard/policy';
import type { TemplateName } from './templates.js';

export interface ReplyRow {
  /** X-Mms-Response-Status of the m-send-conf (MM1 POST), or an HTTP status for requests that are no PDU. */
  readonly send: { readonly status: number; readonly text: TemplateName } | { readonly http: number };
  /** X-Mms-Retrieve-Status of the m-retrieve-conf (MM1 GET), or an HTTP status when no PDU can answer. */
  readonly retrieve: { readonly status: number; readonly text: TemplateName } | { readonly http: number };
  /** MM7 StatusCode (a Fault over HTTP 500; `http` overrides that). */
  readonly mm7: { readonly code: number; readonly text: TemplateName; readonly http?: number };
  /** HTTP status of the VASP form's JSON answer (CONTRACT §9: blocked 422, malformed 400); status_code is mm7's. */
  readonly form: number;
}

export const REPLIES: Readonly<Record<RefuseReason | TransientReason, ReplyRow>> = Object.freeze({
  content: {
    send: { status: ResponseStatus.ERROR_PERMANENT_CONTENT_NOT_ACCEPTED, text: 'send.blocked' },
    retrieve: { status: RetrieveStatus.ERROR_PERMANENT_CONTENT_UNSUPPORTED, text: 'retrieve.blocked' },
    mm7: { code: Mm7Status.CONTENT_REFUSED, text: 'mm7.refused' },
    form: 422,
  },
  oversize: {
    send: { status: ResponseStatus.ERROR_PERMANENT_CONTENT_NOT_ACCEPTED, text: 'send.oversize' },
    retrieve: { status: RetrieveStatus.ERROR_PERMANENT_CONTENT_UNSUPPORTED, text: 'retrieve.oversize' },
    mm7: { code: Mm7Status.CONTENT_REFUSED, text: 'mm7.refused' },
    form: 413,
  },
  // An undecodable download is no PDU the handset could read either: 502, never the bytes.
  malformed: {
    send: { status: ResponseStatus.ERROR_PERMANENT_MESSAGE_FORMAT_CORRUPT, text: 'send.corrupt' },
    retrieve: { http: 502 },
    mm7: { code: Mm7Status.FORMAT_CORRUPT, text: 'mm7.corrupt' },
    form: 400,
  },
  denied: {
    send: { status: ResponseStatus.ERROR_PERMANENT_SERVICE_DENIED, text: 'send.denied' },
    retrieve: { status: RetrieveStatus.ERROR_PERMANENT_SERVICE_DENIED, text: 'retrieve.blocked' },
    mm7: { code: Mm7Status.SERVICE_DENIED, text: 'mm7.denied' },
    form: 403,
  },
  // Not an MMS request at all (content type, Content-Length): plain HTTP.
  'bad-request': {
    send: { http: 400 },
    retrieve: { http: 502 },
    mm7: { code: Mm7Status.FORMAT_CORRUPT, text: 'mm7.corrupt' },
    form: 400,
  },
  'scan-error': {
    send: { status: ResponseStatus.ERROR_TRANSIENT_FAILURE, text: 'send.scan-error' },
    retrieve: { status: RetrieveStatus.ERROR_TRANSIENT_FAILURE, text: 'retrieve.scan-error' },
    mm7: { code: Mm7Status.SERVICE_UNAVAILABLE, text: 'mm7.unavailable' },
    form: 503,
  },
  'store-down': {
    send: { status: ResponseStatus.ERROR_TRANSIENT_FAILURE, text: 'send.retry' },
    retrieve: { status: RetrieveStatus.ERROR_TRANSIENT_FAILURE, text: 'retrieve.scan-error' },
    mm7: { code: Mm7Status.SERVICE_UNAVAILABLE, text: 'mm7.unavailable' },
    form: 503,
  },
  // The in-flight budget is spent: HTTP 503 with Retry-After (CONTRACT §3 "Limits").
  busy: {
    send: { http: 503 },
    retrieve: { http: 503 },
    mm7: { code: Mm7Status.SERVICE_UNAVAILABLE, text: 'mm7.unavailable', http: 503 },
    form: 503,
  },
  // A VASP over its MM7_VASP_LIMITS rate or daily quota (over=transient): 4006 over HTTP 503 with Retry-After,
  // the wait its bucket needs. MM7 only; MM1 answers as for busy should it ever get one.
  quota: {
    send: { http: 503 },
    retrieve: { http: 503 },
    mm7: { code: Mm7Status.SERVICE_UNAVAILABLE, text: 'mm7.unavailable', http: 503 },
    form: 503,
  },
});

/** Seconds a client is asked to wait when the in-flight budget is spent. */
export const RETRY_AFTER_S = 5;

/** The outcome's row; `forward`, `rewrite`, `hide` and `abort` have none (they are not refusals). */
export function replyRow(reason: RefuseReason | TransientReason): ReplyRow {
  return REPLIES[reason];
}
