/**
 * The SOAP 1.1 envelope of an MM7 request, read with fast-xml-parser and
 * matched on local names only (prefixes and namespaces vary: REL-5-MM7-1-0 …
 * REL-6-MM7-1-4, and non-standard ones). DTDs and entities are refused
 * outright: an MM7 envelope never needs them, and they are how XML bombs work.
 */
import { XMLParser } from 'fast-xml-parser';
import { Mm7Error, Mm7ErrorCode } from './errors.js';

export interface SoapRequest {
  readonly operation: string;
  readonly transactionId: string | null;
  /** The MM7 schema namespace of the request, echoed in replies. */
  readonly namespace: string | null;
  readonly mm7Version: string | null;
  /** SenderAddress / VASPID (SubmitReq) or Sender (DeliverReq), as text. */
  readonly sender: string | null;
  readonly vaspId: string | null;
  readonly recipients: readonly string[];
  /**
   * The MMSC's id of the message the request is about: its MessageID (DeliveryReportReq, ReadReplyReq,
   * ReplaceReq, CancelReq, and the DeliverReq of stacks that send one), else a DeliverReq's LinkedID (the
   * id the MMSC gives a delivered message for the VASP's reply); null otherwise (a SubmitReq's comes in
   * the SubmitRsp).
   */
  readonly messageId: string | null;
  /** `Content href`, e.g. `cid:abc@x`. */
  readonly contentHref: string | null;
}

/** Largest envelope we parse. Stops megabyte-sized XML from reaching the parser. */
export const MAX_ENVELOPE_BYTES = 1024 * 1024;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
});

type Node = Record<string, unknown>;

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return text(v[0]);
  if (isNode(v) && typeof v['#text'] === 'string') return v['#text'];
  return null;
}

/** An element left empty (`<LinkedID/>`) names nothing. */
const filled = (s: string | null): string | null => (s === '' ? null : s);

function child(n: unknown, name: string): unknown {
  return isNode(n) ? n[name] : undefined;
}

/** Every text leaf below n (addresses nest: To/Number, To/RFC2822Address, ...). */
function leavesText(n: unknown, out: string[] = []): string[] {
  if (typeof n === 'string' && n.length > 0) out.push(n);
  else if (Array.isArray(n)) for (const x of n) leavesText(x, out);
  else if (isNode(n)) for (const [k, v] of Object.entries(n)) if (!k.startsWith('@')) leavesText(v, out);
  return out;
}

export function parseSoap(xml: string): SoapRequest {
  if (xml.length > MAX_ENVELOPE_BYTES) {
    throw new Mm7Error(Mm7ErrorCode.SOAP, `SOAP envelope over ${MAX_ENVELOPE_BYTES} bytes`);
  }
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) {
    throw new Mm7Error(Mm7ErrorCode.SOAP, 'DTDs and entities are not allowed in an MM7 envelope');
  }
  let doc: unknown;
  try {
    doc = parser.parse(xml, true);
  } catch (e) {
    const first = (e as Error).message.split('\n')[0] ?? '';
    throw new Mm7Error(Mm7ErrorCode.SOAP, `SOAP envelope is not well-formed XML: ${first}`);
  }
  const env = child(doc, 'Envelope');
  const body = child(env, 'Body');
  if (!isNode(body)) throw new Mm7Error(Mm7ErrorCode.SOAP, 'no SOAP Envelope/Body');
  const operation = Object.keys(body).find((k) => !k.startsWith('@') && k !== '#text');
  if (operation === undefined) throw new Mm7Error(Mm7ErrorCode.SOAP, 'SOAP Body holds no operation');
  const op = body[operation];
  const ns = /xmlns(?::[\w.-]+)?\s*=\s*["']([^"']*(?:23\.140|MM7)[^"']*)["']/i.exec(xml)?.[1] ?? null;
  const senderId = child(op, 'SenderIdentification');
  const sender = text(child(senderId, 'SenderAddress')) ?? leavesText(child(senderId, 'SenderAddress'))[0]
    ?? leavesText(child(op, 'Sender'))[0] ?? null;
  const href = child(child(op, 'Content'), '@href');
  return {
    operation,
    transactionId: text(child(child(env, 'Header'), 'TransactionID')),
    namespace: ns,
    mm7Version: text(child(op, 'MM7Version')),
    sender,
    vaspId: text(child(senderId, 'VASPID')),
    recipients: leavesText(child(op, 'Recipients')),
    messageId: filled(text(child(op, 'MessageID')))
      ?? (operation === 'DeliverReq' ? filled(text(child(op, 'LinkedID'))) : null),
    contentHref: typeof href === 'string' ? href : null,
  };
}
