/**
 * The decoded PDU model. Types only, plus small accessors. Header values keep
 * their order and repetition (To/Cc/Bcc repeat); the Content-Type is kept
 * apart because it ends the header block.
 */
import type { ContentType } from '../wsp/content-type.js';
import type { EncodedString } from '../wsp/encoded-string.js';
import type { ByteRange, DecodeIssue, MmsPart } from '../wsp/multipart.js';
import { FIELD } from './fields.js';

export type HeaderValue =
  | { readonly kind: 'octet'; readonly value: number }
  | { readonly kind: 'text'; readonly value: string }
  | { readonly kind: 'encoded-string'; readonly value: EncodedString }
  | { readonly kind: 'integer'; readonly value: number }
  | { readonly kind: 'time'; readonly absolute: boolean; readonly value: number }
  /** From: `address` null means the Insert-address token (the MMSC fills in the sender). */
  | { readonly kind: 'from'; readonly address: EncodedString | null }
  | { readonly kind: 'token'; readonly value: string }
  | { readonly kind: 'raw'; readonly bytes: Uint8Array };

export type MmsHeader =
  | { readonly type: 'well-known'; readonly code: number; readonly name: string; readonly value: HeaderValue }
  | { readonly type: 'application'; readonly name: string; readonly value: string };

export interface MmsPdu {
  /** X-Mms-Message-Type octet (0x80 m-send-req ... 0x97 m-cancel-conf). */
  readonly messageType: number;
  /** Every header before the Content-Type, in wire order, the message type first. */
  readonly headers: readonly MmsHeader[];
  readonly contentType: ContentType | null;
  /** The body octets (everything after the Content-Type value); a view into the decoded buffer. */
  readonly body: Uint8Array | null;
  readonly bodyOffset: number;
  /** Entries when the body is a WSP multipart; null otherwise. */
  readonly parts: readonly MmsPart[] | null;
  readonly declaredEntries: number | null;
  /** Deviations decoding went past (lengths that do not add up, trailing octets). Empty for a clean PDU. */
  readonly issues: readonly DecodeIssue[];
  /** Octets no header or part owns: a scanner must still look at them. */
  readonly unparsed: readonly ByteRange[];
  /** The header octets before the Content-Type field, and the Content-Type field itself, as carried. */
  readonly rawHead: Uint8Array;
  readonly rawContentType: Uint8Array | null;
}

export function wellKnown(pdu: Pick<MmsPdu, 'headers'>, code: number): HeaderValue | undefined {
  for (const h of pdu.headers) if (h.type === 'well-known' && h.code === code) return h.value;
  return undefined;
}

export function wellKnownAll(pdu: Pick<MmsPdu, 'headers'>, code: number): HeaderValue[] {
  const out: HeaderValue[] = [];
  for (const h of pdu.headers) if (h.type === 'well-known' && h.code === code) out.push(h.value);
  return out;
}

export function textHeader(pdu: Pick<MmsPdu, 'headers'>, code: number): string | null {
  const v = wellKnown(pdu, code);
  return v?.kind === 'text' ? v.value : null;
}

export function octetHeader(pdu: Pick<MmsPdu, 'headers'>, code: number): number | null {
  const v = wellKnown(pdu, code);
  return v?.kind === 'octet' ? v.value : null;
}

export function transactionId(pdu: Pick<MmsPdu, 'headers'>): string | null {
  return textHeader(pdu, FIELD.TRANSACTION_ID);
}

/** Version octet (e.g. 0x92 for 1.2), or null. */
export function mmsVersion(pdu: Pick<MmsPdu, 'headers'>): number | null {
  return octetHeader(pdu, FIELD.MMS_VERSION);
}

export function encodedStrings(pdu: Pick<MmsPdu, 'headers'>, code: number): EncodedString[] {
  const out: EncodedString[] = [];
  for (const v of wellKnownAll(pdu, code)) if (v.kind === 'encoded-string') out.push(v.value);
  return out;
}
