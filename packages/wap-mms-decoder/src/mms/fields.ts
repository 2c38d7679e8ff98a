/**
 * OMA-MMS-ENC 1.3 Table 12 (header fields), the message types (7.3) and the
 * status code tables. Data only.
 */

export type FieldKind =
  | 'octet' // one Short-integer token (Yes/No, Priority, status codes, ...)
  | 'text' // Text-string
  | 'encoded-string' // Encoded-string-value
  | 'long' // Long-integer (Date, sizes)
  | 'integer' // Integer-value
  | 'time' // Value-length (Absolute 0x80 Date | Relative 0x81 Delta-seconds)
  | 'from' // Value-length (Address-present 0x80 Encoded-string | Insert-address 0x81)
  | 'class' // Message-Class: token octet | Token-text
  | 'content-type' // the last header; the body follows
  | 'raw'; // structured values the proxy does not need: kept as octets

export interface FieldDef {
  readonly name: string;
  readonly kind: FieldKind;
}

export const FIELD = {
  BCC: 0x01, CC: 0x02, CONTENT_LOCATION: 0x03, CONTENT_TYPE: 0x04, DATE: 0x05,
  DELIVERY_REPORT: 0x06, DELIVERY_TIME: 0x07, EXPIRY: 0x08, FROM: 0x09, MESSAGE_CLASS: 0x0a,
  MESSAGE_ID: 0x0b, MESSAGE_TYPE: 0x0c, MMS_VERSION: 0x0d, MESSAGE_SIZE: 0x0e, PRIORITY: 0x0f,
  READ_REPORT: 0x10, REPORT_ALLOWED: 0x11, RESPONSE_STATUS: 0x12, RESPONSE_TEXT: 0x13,
  SENDER_VISIBILITY: 0x14, STATUS: 0x15, SUBJECT: 0x16, TO: 0x17, TRANSACTION_ID: 0x18,
  RETRIEVE_STATUS: 0x19, RETRIEVE_TEXT: 0x1a, READ_STATUS: 0x1b,
} as const;

export const FIELDS: ReadonlyMap<number, FieldDef> = new Map<number, FieldDef>([
  [0x01, { name: 'Bcc', kind: 'encoded-string' }],
  [0x02, { name: 'Cc', kind: 'encoded-string' }],
  [0x03, { name: 'X-Mms-Content-Location', kind: 'text' }],
  [0x04, { name: 'Content-Type', kind: 'content-type' }],
  [0x05, { name: 'Date', kind: 'long' }],
  [0x06, { name: 'X-Mms-Delivery-Report', kind: 'octet' }],
  [0x07, { name: 'X-Mms-Delivery-Time', kind: 'time' }],
  [0x08, { name: 'X-Mms-Expiry', kind: 'time' }],
  [0x09, { name: 'From', kind: 'from' }],
  [0x0a, { name: 'X-Mms-Message-Class', kind: 'class' }],
  [0x0b, { name: 'Message-ID', kind: 'text' }],
  [0x0c, { name: 'X-Mms-Message-Type', kind: 'octet' }],
  [0x0d, { name: 'X-Mms-MMS-Version', kind: 'octet' }],
  [0x0e, { name: 'X-Mms-Message-Size', kind: 'long' }],
  [0x0f, { name: 'X-Mms-Priority', kind: 'octet' }],
  [0x10, { name: 'X-Mms-Read-Report', kind: 'octet' }],
  [0x11, { name: 'X-Mms-Report-Allowed', kind: 'octet' }],
  [0x12, { name: 'X-Mms-Response-Status', kind: 'octet' }],
  [0x13, { name: 'X-Mms-Response-Text', kind: 'encoded-string' }],
  [0x14, { name: 'X-Mms-Sender-Visibility', kind: 'octet' }],
  [0x15, { name: 'X-Mms-Status', kind: 'octet' }],
  [0x16, { name: 'Subject', kind: 'encoded-string' }],
  [0x17, { name: 'To', kind: 'encoded-string' }],
  [0x18, { name: 'X-Mms-Transaction-ID', kind: 'text' }],
  [0x19, { name: 'X-Mms-Retrieve-Status', kind: 'octet' }],
  [0x1a, { name: 'X-Mms-Retrieve-Text', kind: 'encoded-string' }],
  [0x1b, { name: 'X-Mms-Read-Status', kind: 'octet' }],
  [0x1c, { name: 'X-Mms-Reply-Charging', kind: 'octet' }],
  [0x1d, { name: 'X-Mms-Reply-Charging-Deadline', kind: 'time' }],
  [0x1e, { name: 'X-Mms-Reply-Charging-ID', kind: 'text' }],
  [0x1f, { name: 'X-Mms-Reply-Charging-Size', kind: 'long' }],
  [0x20, { name: 'X-Mms-Previously-Sent-By', kind: 'raw' }],
  [0x21, { name: 'X-Mms-Previously-Sent-Date', kind: 'raw' }],
  [0x22, { name: 'X-Mms-Store', kind: 'octet' }],
  [0x23, { name: 'X-Mms-MM-State', kind: 'octet' }],
  [0x24, { name: 'X-Mms-MM-Flags', kind: 'raw' }],
  [0x25, { name: 'X-Mms-Store-Status', kind: 'octet' }],
  [0x26, { name: 'X-Mms-Store-Status-Text', kind: 'encoded-string' }],
  [0x27, { name: 'X-Mms-Stored', kind: 'octet' }],
  [0x28, { name: 'X-Mms-Attributes', kind: 'raw' }],
  [0x29, { name: 'X-Mms-Totals', kind: 'octet' }],
  [0x2a, { name: 'X-Mms-Mbox-Totals', kind: 'raw' }],
  [0x2b, { name: 'X-Mms-Quotas', kind: 'octet' }],
  [0x2c, { name: 'X-Mms-Mbox-Quotas', kind: 'raw' }],
  [0x2d, { name: 'X-Mms-Message-Count', kind: 'integer' }],
  [0x2e, { name: 'Content', kind: 'raw' }],
  [0x2f, { name: 'X-Mms-Start', kind: 'integer' }],
  [0x30, { name: 'Additional-headers', kind: 'raw' }],
  [0x31, { name: 'X-Mms-Distribution-Indicator', kind: 'octet' }],
  [0x32, { name: 'X-Mms-Element-Descriptor', kind: 'raw' }],
  [0x33, { name: 'X-Mms-Limit', kind: 'integer' }],
  [0x34, { name: 'X-Mms-Recommended-Retrieval-Mode', kind: 'octet' }],
  [0x35, { name: 'X-Mms-Recommended-Retrieval-Mode-Text', kind: 'encoded-string' }],
  [0x36, { name: 'X-Mms-Status-Text', kind: 'encoded-string' }],
  [0x37, { name: 'X-Mms-Applic-ID', kind: 'text' }],
  [0x38, { name: 'X-Mms-Reply-Applic-ID', kind: 'text' }],
  [0x39, { name: 'X-Mms-Aux-Applic-Info', kind: 'text' }],
  [0x3a, { name: 'X-Mms-Content-Class', kind: 'octet' }],
  [0x3b, { name: 'X-Mms-DRM-Content', kind: 'octet' }],
  [0x3c, { name: 'X-Mms-Adaptation-Allowed', kind: 'octet' }],
  [0x3d, { name: 'X-Mms-Replace-ID', kind: 'text' }],
  [0x3e, { name: 'X-Mms-Cancel-ID', kind: 'text' }],
  [0x3f, { name: 'X-Mms-Cancel-Status', kind: 'octet' }],
]);

export const MESSAGE_TYPES: ReadonlyMap<number, string> = new Map([
  [0x80, 'm-send-req'], [0x81, 'm-send-conf'], [0x82, 'm-notification-ind'],
  [0x83, 'm-notifyresp-ind'], [0x84, 'm-retrieve-conf'], [0x85, 'm-acknowledge-ind'],
  [0x86, 'm-delivery-ind'], [0x87, 'm-read-rec-ind'], [0x88, 'm-read-orig-ind'],
  [0x89, 'm-forward-req'], [0x8a, 'm-forward-conf'], [0x8b, 'm-mbox-store-req'],
  [0x8c, 'm-mbox-store-conf'], [0x8d, 'm-mbox-view-req'], [0x8e, 'm-mbox-view-conf'],
  [0x8f, 'm-mbox-upload-req'], [0x90, 'm-mbox-upload-conf'], [0x91, 'm-mbox-delete-req'],
  [0x92, 'm-mbox-delete-conf'], [0x93, 'm-mbox-descr'], [0x94, 'm-delete-req'],
  [0x95, 'm-delete-conf'], [0x96, 'm-cancel-req'], [0x97, 'm-cancel-conf'],
]);

export const MessageType = {
  SEND_REQ: 0x80, SEND_CONF: 0x81, NOTIFICATION_IND: 0x82, NOTIFYRESP_IND: 0x83,
  RETRIEVE_CONF: 0x84, ACKNOWLEDGE_IND: 0x85, DELIVERY_IND: 0x86, READ_REC_IND: 0x87,
  READ_ORIG_IND: 0x88, FORWARD_REQ: 0x89, FORWARD_CONF: 0x8a, MBOX_UPLOAD_REQ: 0x8f,
} as const;

export function messageTypeName(code: number): string {
  return MESSAGE_TYPES.get(code) ?? `unknown-0x${code.toString(16).padStart(2, '0')}`;
}

/** X-Mms-Response-Status values (OMA-MMS-ENC 7.3.48). */
export const ResponseStatus = {
  OK: 0x80,
  ERROR_TRANSIENT_FAILURE: 0xc0,
  ERROR_TRANSIENT_NETWORK_PROBLEM: 0xc3,
  ERROR_PERMANENT_FAILURE: 0xe0,
  ERROR_PERMANENT_SERVICE_DENIED: 0xe1,
  ERROR_PERMANENT_MESSAGE_FORMAT_CORRUPT: 0xe2,
  ERROR_PERMANENT_CONTENT_NOT_ACCEPTED: 0xe5,
} as const;

/** X-Mms-Retrieve-Status values (OMA-MMS-ENC 7.3.50). */
export const RetrieveStatus = {
  OK: 0x80,
  ERROR_TRANSIENT_FAILURE: 0xc0,
  ERROR_PERMANENT_FAILURE: 0xe0,
  ERROR_PERMANENT_SERVICE_DENIED: 0xe1,
  ERROR_PERMANENT_MESSAGE_NOT_FOUND: 0xe2,
  ERROR_PERMANENT_CONTENT_UNSUPPORTED: 0xe3,
} as const;

/** "1.2" from the X-Mms-MMS-Version octet value (bits 6-4 major, 3-0 minor; minor 0xF = unspecified). */
export function versionString(v: number): string {
  const major = (v >> 4) & 0x07;
  const minor = v & 0x0f;
  return minor === 0x0f ? `${major}` : `${major}.${minor}`;
}

export function versionValue(s: string): number {
  const m = /^(\d)(?:\.(\d{1,2}))?$/.exec(s);
  if (m === null) return 0x12;
  const major = Number(m[1]) & 0x07;
  const minor = m[2] === undefined ? 0x0f : Number(m[2]) & 0x0f;
  return (major << 4) | minor;
}
