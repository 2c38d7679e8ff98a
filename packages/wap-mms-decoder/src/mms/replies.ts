/**
 * The PDUs a scanning proxy answers with: m-send-conf (blocked or refused
 * send), m-retrieve-conf carrying an error Retrieve-Status, and the
 * text/plain part that replaces a removed attachment; and a one-part text
 * m-send-req, for the notice a proxy sends to a blocked sender.
 */
import type { PartInit } from '../wsp/multipart.js';
import { encode } from './encode.js';
import { FIELD, MessageType, ResponseStatus, RetrieveStatus } from './fields.js';
import type { MmsHeader } from './pdu.js';

const utf8 = new TextEncoder();
const DEFAULT_VERSION = 0x92; // 1.2: what every handset in the field reads

function octet(code: number, value: number): MmsHeader {
  return { type: 'well-known', code, name: '', value: { kind: 'octet', value } };
}

function text(code: number, value: string): MmsHeader {
  return { type: 'well-known', code, name: '', value: { kind: 'text', value } };
}

/** Date in seconds since 1970, never negative. */
function dateHeader(seconds: number): MmsHeader {
  const value = Math.max(0, Math.floor(seconds));
  return { type: 'well-known', code: FIELD.DATE, name: '', value: { kind: 'integer', value } };
}

function utf8String(code: number, value: string): MmsHeader {
  return {
    type: 'well-known', code, name: '', value: { kind: 'encoded-string', value: { text: value, charset: 106 } },
  };
}

export interface SendConfInit {
  /** X-Mms-Transaction-ID of the m-send-req answered; empty when it had none. */
  readonly transactionId: string | null;
  /** Version octet of the request (e.g. 0x92); 1.2 when unknown. */
  readonly version?: number | null;
  readonly status: number;
  readonly text?: string | null;
  readonly messageId?: string | null;
}

/** m-send-conf (OMA-MMS-ENC 6.1.2). */
export function buildSendConf(init: SendConfInit): Uint8Array {
  const headers: MmsHeader[] = [
    octet(FIELD.MESSAGE_TYPE, MessageType.SEND_CONF),
    text(FIELD.TRANSACTION_ID, init.transactionId ?? ''),
    octet(FIELD.MMS_VERSION, init.version ?? DEFAULT_VERSION),
    octet(FIELD.RESPONSE_STATUS, init.status),
  ];
  if (init.text !== undefined && init.text !== null) headers.push(utf8String(FIELD.RESPONSE_TEXT, init.text));
  if (init.messageId !== undefined && init.messageId !== null) headers.push(text(FIELD.MESSAGE_ID, init.messageId));
  return encode({ headers });
}

export interface RetrieveErrorInit {
  readonly transactionId?: string | null;
  readonly version?: number | null;
  readonly status?: number;
  readonly text: string;
  /** Seconds since the epoch; Date is mandatory in m-retrieve-conf. */
  readonly date: number;
  readonly messageId?: string | null;
}

/**
 * m-retrieve-conf with an error X-Mms-Retrieve-Status (MMS 1.1+) and a
 * text/plain body saying the same, for handsets that ignore the status.
 */
export function buildRetrieveConfError(init: RetrieveErrorInit): Uint8Array {
  const headers: MmsHeader[] = [octet(FIELD.MESSAGE_TYPE, MessageType.RETRIEVE_CONF)];
  if (init.transactionId !== undefined && init.transactionId !== null) {
    headers.push(text(FIELD.TRANSACTION_ID, init.transactionId));
  }
  headers.push(octet(FIELD.MMS_VERSION, init.version ?? DEFAULT_VERSION));
  if (init.messageId !== undefined && init.messageId !== null) headers.push(text(FIELD.MESSAGE_ID, init.messageId));
  headers.push(dateHeader(init.date));
  headers.push(octet(FIELD.RETRIEVE_STATUS, init.status ?? RetrieveStatus.ERROR_PERMANENT_CONTENT_UNSUPPORTED));
  headers.push(utf8String(FIELD.RETRIEVE_TEXT, init.text));
  return encode({
    headers,
    contentType: { mediaType: 'application/vnd.wap.multipart.mixed', params: [] },
    parts: [textPart(init.text, 'error.txt')],
  });
}

export interface TextSendReqInit {
  readonly transactionId: string;
  /** The sender as an address (`+4790000000/TYPE=PLMN`); null: insert-address token (the MMSC fills it in). */
  readonly from: string | null;
  /** One recipient, e.g. `+4790000001/TYPE=PLMN`. */
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** Seconds since the epoch. */
  readonly date: number;
}

/** m-send-req (OMA-MMS-ENC 6.1.1) with one UTF-8 text/plain part. */
export function buildTextSendReq(init: TextSendReqInit): Uint8Array {
  const headers: MmsHeader[] = [
    octet(FIELD.MESSAGE_TYPE, MessageType.SEND_REQ),
    text(FIELD.TRANSACTION_ID, init.transactionId),
    octet(FIELD.MMS_VERSION, DEFAULT_VERSION),
    dateHeader(init.date),
    {
      type: 'well-known', code: FIELD.FROM, name: '',
      value: { kind: 'from', address: init.from === null ? null : { text: init.from, charset: null } },
    },
    {
      type: 'well-known', code: FIELD.TO, name: '',
      value: { kind: 'encoded-string', value: { text: init.to, charset: null } },
    },
    utf8String(FIELD.SUBJECT, init.subject),
  ];
  return encode({
    headers,
    contentType: { mediaType: 'application/vnd.wap.multipart.mixed', params: [] },
    parts: [textPart(init.text, 'notice.txt')],
  });
}

/** A UTF-8 text/plain part, e.g. the replacement for a removed attachment. */
export function textPart(body: string, name: string, contentId?: string): PartInit {
  return {
    contentType: { mediaType: 'text/plain', params: [{ name: 'charset', value: 106 }, { name: 'name', value: name }] },
    headers: [
      { type: 'content-location', value: name },
      ...(contentId !== undefined ? [{ type: 'content-id' as const, value: contentId }] : []),
    ],
    data: utf8.encode(body),
  };
}

export { ResponseStatus, RetrieveStatus };
