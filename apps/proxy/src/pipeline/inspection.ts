/**
 * The protocol-neutral message the pipeline inspects, and the verdict it
 * reaches. Protocol adapters (protocols/mm1.ts from the MMS codec,
 * protocols/mm7.ts from the mm7 package) make an Inspection; nothing after
 * them knows PDUs or SOAP.
 */
import type { Outcome } from '@mmsguard/policy';
import type { TemplateVars } from '../templates.js';
import type { BulkCheck } from './bulk.js';
import type { Leaf, ScannedPart } from './scan.js';

export interface Envelope {
  readonly msgtype: string | null;
  readonly transactionId: string | null;
  /**
   * The message's id when the message itself names it (m-retrieve-conf Message-ID; an MM7 request's MessageID,
   * or a DeliverReq's LinkedID). Absent for a send: the MMSC assigns it in its answer (Exchange.identify).
   */
  readonly messageId?: string | null;
  /**
   * The sender as counted, listed and logged: the MSISDN a trusted gateway vouched for, else what
   * the message says (From, SenderAddress, VASPID).
   */
  readonly sender: string | null;
  /** True when `sender` is the trusted gateway's MSISDN, not a claim of the message itself. */
  readonly senderVouched: boolean;
  /** Primary recipients, as logged (`to`). */
  readonly to: readonly string[];
  /** Every recipient (To, Cc, Bcc), as matched against the MSISDN list. */
  readonly recipients: readonly string[];
  readonly subject: string | null;
  /** MM7 knows the direction only from the operation (DeliverReq comes from the MMSC). */
  readonly direction?: 'incoming' | 'outgoing';
}

/** A blocked target and the text of the part that replaces it. */
export interface Replacement {
  readonly target: Leaf;
  readonly text: string;
}

export interface Inspection {
  readonly envelope: Envelope;
  /** Everything to scan: every leaf part, and every byte no part owns. */
  readonly targets: readonly Leaf[];
  /** Whether the MSISDN list applies (MM1 sends, every MM7 request). */
  readonly listed: boolean;
  /** Flood and duplicate counting, in order; empty when the message is not counted. */
  readonly counts: readonly BulkCheck[];
  /** Key of the verdict cache: a retry of refused content is refused at once. */
  readonly cacheKey: string;
  /** The VASP an MM7_VASP_LIMITS quota is taken from (null: names none); absent: no quota applies. */
  readonly vasp?: string | null;
  /** The message with targets replaced; null when one of them cannot be (a pseudo-part). */
  rebuild(replacements: readonly Replacement[]): Uint8Array | null;
}

/** What the pipeline decided for one message, with what its records and replies need. */
export interface Verdict {
  readonly outcome: Outcome;
  /** The verdict record's subtype: what caused the outcome (virus, oversize, flood, …) or null. */
  readonly subtype: string | null;
  /** The verdict record's reason (for operators). */
  readonly reason: string | null;
  readonly parts: number;
  readonly bytes: number;
  /** The rebuilt message when the outcome is `rewrite`. */
  readonly rewritten: Uint8Array | null;
  /** Variables for the reply text and the sender notice (for people: never names thresholds). */
  readonly vars: TemplateVars;
  /** The sender may be told with an MMS (SENDER_NOTICE_URL). */
  readonly notice: boolean;
  /** Every scanned target, in order: the verdict lookup's parts and the quarantine's bytes (forensics.ts). */
  readonly scanned: readonly ScannedPart[];
  /** Indices into `scanned` of the parts policy blocked (refused or removed). */
  readonly blockedParts: ReadonlySet<number>;
  /** Seconds a transient refusal asks the client to wait (Retry-After), when the check knows it. */
  readonly retryAfterS?: number;
}

const NONE: ReadonlySet<number> = new Set();

export function verdictOf(outcome: Outcome, bytes: number, more: Partial<Verdict> = {}): Verdict {
  return {
    outcome, subtype: null, reason: null, parts: 0, bytes, rewritten: null, vars: {}, notice: false, scanned: [],
    blockedParts: NONE, ...more,
  };
}
