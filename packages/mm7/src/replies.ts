/**
 * MM7 answers the proxy writes itself: the operation's Rsp with a status, or
 * a SOAP Fault (HTTP 500) with RSErrorRsp (toward a VASP) / VASPErrorRsp
 * (toward the MMSC), echoing the request's TransactionID, namespace and
 * MM7Version. Status codes from the exact table of TS 23.140.
 */
export const MM7_STATUS: Readonly<Record<number, string>> = Object.freeze({
  1000: 'Success', 1100: 'Partial success', 2000: 'Client error', 2001: 'Operation restricted',
  2002: 'Address Error', 2003: 'Address Not Found', 2004: 'Multimedia content refused', 2005: 'Message ID Not found',
  2006: 'LinkedID not found', 2007: 'Message format corrupt', 2008: 'Application ID not found',
  2009: 'Reply Application ID not found', 3000: 'Server Error', 3001: 'Not Possible', 3002: 'Message rejected',
  3003: 'Multiple addresses not supported', 3004: 'Application Addressing not supported', 4000: 'General service error',
  4001: 'Improper identification', 4002: 'Unsupported version', 4003: 'Unsupported operation', 4004: 'Validation error',
  4005: 'Service error', 4006: 'Service unavailable', 4007: 'Service denied', 4008: 'Application denied',
});

export const Mm7Status = {
  SUCCESS: 1000, CONTENT_REFUSED: 2004, FORMAT_CORRUPT: 2007, SERVICE_UNAVAILABLE: 4006, SERVICE_DENIED: 4007,
} as const;

const DEFAULT_NS = 'http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4';
const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
/** Operations a VASP sends (answered toward the VASP with RSErrorRsp); the others come from the MMSC. */
const FROM_VASP = new Set(['SubmitReq', 'ReplaceReq', 'CancelReq', 'extendedCancelReq', 'extendedReplaceReq']);

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export interface ReplyFor {
  readonly operation: string | null;
  readonly transactionId: string | null;
  readonly namespace: string | null;
  readonly mm7Version: string | null;
}

export interface Mm7Reply {
  readonly httpStatus: number;
  readonly contentType: string;
  readonly body: string;
}

export function responseName(operation: string | null): string {
  return operation !== null && operation.endsWith('Req') ? `${operation.slice(0, -3)}Rsp` : 'SubmitRsp';
}

function envelope(req: ReplyFor, inner: string): string {
  const ns = xmlEscape(req.namespace ?? DEFAULT_NS);
  const tid = req.transactionId !== null
    ? `<env:Header><mm7:TransactionID xmlns:mm7="${ns}" env:mustUnderstand="1">${xmlEscape(req.transactionId)}`
      + '</mm7:TransactionID></env:Header>'
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?>\r\n<env:Envelope xmlns:env="${SOAP_NS}">${tid}`
    + `<env:Body>${inner}</env:Body></env:Envelope>\r\n`;
}

function status(code: number, details?: string, text?: string): string {
  const d = details !== undefined ? `<Details>${xmlEscape(details)}</Details>` : '';
  const t = xmlEscape(text ?? MM7_STATUS[code] ?? 'Error');
  return `<Status><StatusCode>${code}</StatusCode><StatusText>${t}</StatusText>${d}</Status>`;
}

/** The operation's Rsp (HTTP 200) carrying `code`; `text` replaces the standard StatusText. */
export function buildRsp(req: ReplyFor, code: number, details?: string, text?: string, messageId?: string): Mm7Reply {
  const name = responseName(req.operation);
  const ns = xmlEscape(req.namespace ?? DEFAULT_NS);
  const version = `<MM7Version>${xmlEscape(req.mm7Version ?? '6.8.0')}</MM7Version>`;
  const mid = messageId !== undefined ? `<MessageID>${xmlEscape(messageId)}</MessageID>` : '';
  const body = envelope(req, `<${name} xmlns="${ns}">${version}${status(code, details, text)}${mid}</${name}>`);
  return { httpStatus: 200, contentType: 'text/xml; charset="utf-8"', body };
}

/**
 * A SOAP Fault over HTTP 500 with RSErrorRsp or VASPErrorRsp in detail, as MMSCs send; `text`
 * replaces the standard StatusText.
 */
export function buildFault(req: ReplyFor, code: number, details?: string, text?: string): Mm7Reply {
  const errName = req.operation !== null && !FROM_VASP.has(req.operation) ? 'VASPErrorRsp' : 'RSErrorRsp';
  const ns = xmlEscape(req.namespace ?? DEFAULT_NS);
  const faultcode = code >= 2000 && code < 3000 ? 'env:Client' : 'env:Server';
  const version = `<MM7Version>${xmlEscape(req.mm7Version ?? '6.8.0')}</MM7Version>`;
  const inner = `<env:Fault><faultcode>${faultcode}</faultcode><faultstring>${xmlEscape(MM7_STATUS[code] ?? 'Error')}`
    + `</faultstring><detail><${errName} xmlns="${ns}">${version}${status(code, details, text)}</${errName}></detail>`
    + '</env:Fault>';
  return { httpStatus: 500, contentType: 'text/xml; charset="utf-8"', body: envelope(req, inner) };
}
