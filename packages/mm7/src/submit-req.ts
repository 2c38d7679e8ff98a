/**
 * A VASP's side of MM7 SubmitReq (REL-6-MM7-1-4): the SOAP envelope and its multipart/related body
 * with the content as a multipart/mixed of binary parts, for callers that submit on a VASP's behalf
 * (the proxy's form interface, CONTRACT §9); and the MMSC's SubmitRsp read back (status, MessageID).
 * The bytes of every attachment go out unchanged (Content-Transfer-Encoding: binary), so what was
 * scanned is byte for byte what the MMSC receives.
 */
import { randomBytes } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { Mm7Error, Mm7ErrorCode } from './errors.js';
import { MAX_ENVELOPE_BYTES } from './soap.js';
import { xmlEscape } from './replies.js';

export const REL_6_MM7_1_4 = 'http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4';
const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

export interface SubmitAttachment {
  /** File name (the `name` parameter and Content-Location). */
  readonly name: string;
  readonly contentType: string;
  readonly data: Uint8Array;
}

export interface SubmitReqInit {
  readonly transactionId: string;
  readonly vaspId: string | null;
  readonly vasId: string | null;
  /** SenderAddress (a number or short code), or null. */
  readonly from: string | null;
  /** Recipients (To): E.164 numbers as Number, anything with @ as RFC2822Address. */
  readonly to: readonly string[];
  readonly subject: string | null;
  readonly attachments: readonly SubmitAttachment[];
}

/** Header values go into quoted MIME parameters: no CR, LF or quote can split a header or a parameter. */
function param(s: string): string {
  return s.replace(/[\r\n"\\]/g, '_');
}

function address(a: string): string {
  const tag = a.includes('@') ? 'RFC2822Address' : /^\d{3,8}$/.test(a) ? 'ShortCode' : 'Number';
  return `<${tag}>${xmlEscape(a)}</${tag}>`;
}

/** The SubmitReq body and its Content-Type (multipart/related, SOAP part first and named by `start`). */
export function buildSubmitReq(init: SubmitReqInit): { body: Buffer; contentType: string } {
  const tag = randomBytes(12).toString('hex');
  const outer = `mmsguard-rel-${tag}`;
  const inner = `mmsguard-mix-${tag}`;
  const sender = [
    init.vaspId !== null ? `<VASPID>${xmlEscape(init.vaspId)}</VASPID>` : '',
    init.vasId !== null ? `<VASID>${xmlEscape(init.vasId)}</VASID>` : '',
    init.from !== null ? `<SenderAddress>${address(init.from)}</SenderAddress>` : '',
  ].join('');
  const soap = `<?xml version="1.0" encoding="UTF-8"?>\r\n<env:Envelope xmlns:env="${SOAP_NS}"><env:Header>`
    + `<mm7:TransactionID xmlns:mm7="${REL_6_MM7_1_4}" env:mustUnderstand="1">${xmlEscape(init.transactionId)}`
    + `</mm7:TransactionID></env:Header><env:Body><SubmitReq xmlns="${REL_6_MM7_1_4}"><MM7Version>6.8.0</MM7Version>`
    + (sender !== '' ? `<SenderIdentification>${sender}</SenderIdentification>` : '')
    + `<Recipients><To>${init.to.map(address).join('')}</To></Recipients>`
    + (init.subject !== null ? `<Subject>${xmlEscape(init.subject)}</Subject>` : '')
    + `<Content href="cid:content-${tag}" allowAdaptations="true"/></SubmitReq></env:Body></env:Envelope>\r\n`;
  const chunks: Buffer[] = [];
  const add = (s: string | Uint8Array): void => {
    chunks.push(typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s.buffer, s.byteOffset, s.byteLength));
  };
  add(`--${outer}\r\nContent-Type: text/xml; charset="utf-8"\r\nContent-ID: <soap-${tag}>\r\n\r\n${soap}\r\n`);
  add(`--${outer}\r\nContent-Type: multipart/mixed; boundary="${inner}"\r\nContent-ID: <content-${tag}>\r\n\r\n`);
  init.attachments.forEach((a, i) => {
    const name = param(a.name);
    add(`--${inner}\r\nContent-Type: ${param(a.contentType)}; name="${name}"\r\nContent-ID: <part${i}-${tag}>\r\n`
      + `Content-Location: ${name}\r\nContent-Transfer-Encoding: binary\r\n\r\n`);
    add(a.data);
    add('\r\n');
  });
  add(`--${inner}--\r\n\r\n--${outer}--\r\n`);
  return {
    body: Buffer.concat(chunks),
    contentType: `multipart/related; type="text/xml"; boundary="${outer}"; start="<soap-${tag}>"`,
  };
}

export interface SubmitRsp {
  /** The Rsp's (or the Fault's RSErrorRsp) StatusCode. */
  readonly statusCode: number;
  readonly statusText: string | null;
  readonly messageId: string | null;
}

const parser = new XMLParser({
  ignoreAttributes: true, removeNSPrefix: true, processEntities: false, parseTagValue: false, trimValues: true,
});

/** The first node named `name` anywhere below `n` (depth-first). */
function find(n: unknown, name: string, depth = 0): unknown {
  if (depth > 32 || typeof n !== 'object' || n === null) return undefined;
  if (Array.isArray(n)) {
    for (const x of n) {
      const f = find(x, name, depth + 1);
      if (f !== undefined) return f;
    }
    return undefined;
  }
  const o = n as Record<string, unknown>;
  if (name in o) return o[name];
  for (const v of Object.values(o)) {
    const f = find(v, name, depth + 1);
    if (f !== undefined) return f;
  }
  return undefined;
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : Array.isArray(v) ? text(v[0]) : null);

/**
 * Reads an MMSC's answer to a SubmitReq: a SubmitRsp, or a SOAP Fault carrying RSErrorRsp. Throws
 * Mm7Error (MMS_ERR_MM7_SOAP) when it is neither, or holds no numeric StatusCode. DTDs and entities
 * are refused, as in requests.
 */
export function parseSubmitRsp(xml: string): SubmitRsp {
  const bad = (why: string): Mm7Error => new Mm7Error(Mm7ErrorCode.SOAP, `SubmitRsp: ${why}`);
  if (xml.length > MAX_ENVELOPE_BYTES) throw bad('answer larger than MAX_ENVELOPE_BYTES');
  if (/<!(DOCTYPE|ENTITY)/i.test(xml)) throw bad('DTDs and entities are not allowed');
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch (e) {
    throw bad(`not XML (${(e as Error).message})`);
  }
  const status = find(doc, 'Status');
  const code = Number(text(find(status, 'StatusCode')));
  if (status === undefined || !Number.isInteger(code)) throw bad('no Status/StatusCode');
  return { statusCode: code, statusText: text(find(status, 'StatusText')), messageId: text(find(doc, 'MessageID')) };
}
