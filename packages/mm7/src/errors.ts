/**
 * Stable codes of MM7 parsing (`Mm7ErrorCode`, thrown) and of MM7 content the walker cannot read
 * (`Mm7UnscannableCode`, reported on a leaf, never thrown). Callers match on the codes; messages
 * may change. docs/mm7-quirks.md lists every code, kept true by test/errors-doc.test.ts.
 */

/** Thrown codes. Every one maps to MM7 StatusCode 2007 (Message format corrupt) at the edge. */
export const Mm7ErrorCode = {
  /** The multipart body is not what its Content-Type says (no boundary, no delimiter, broken part headers). */
  MIME: 'MMS_ERR_MM7_MIME',
  /** A MIME limit was crossed (depth, parts, header size, line length). */
  LIMIT: 'MMS_ERR_MM7_LIMIT',
  /** The SOAP envelope is missing, not XML, has a DTD, or lacks Body/operation. */
  SOAP: 'MMS_ERR_MM7_SOAP',
  /**
   * Mainstream MIME stacks would read the body differently from us (a parser differential that
   * could hide a part or its content from the scanner): bare CR or mixed line breaks around
   * delimiters or in part headers, boundary text that is not a clean delimiter line, duplicate
   * headers or parameters, a nested boundary related to an enclosing one, base64 that decoders
   * disagree on. The message says which.
   */
  AMBIGUOUS: 'MMS_ERR_MM7_AMBIGUOUS',
} as const;

export type Mm7ErrorCode = (typeof Mm7ErrorCode)[keyof typeof Mm7ErrorCode];

export class Mm7Error extends Error {
  override readonly name = 'Mm7Error';
  constructor(readonly code: Mm7ErrorCode, message: string, readonly offset = -1) {
    super(message);
  }
}

/**
 * Why a leaf's content could not be read. Reported on `ContentLeaf.unscannable`; the caller must
 * treat such a leaf as unscannable (UNSCANNABLE_ACTION), never as clean.
 */
export const Mm7UnscannableCode = {
  /** A Content-Transfer-Encoding we do not know: the bytes a receiver decodes are unknown to us. */
  ENCODING: 'MMS_ERR_MM7_ENCODING_UNKNOWN',
  /** An x-uuencode body without a usable `begin` line, or with more files than the limit. */
  UUENCODE: 'MMS_ERR_MM7_UUENCODE',
  /** A message/* attachment whose inner MIME entity cannot be parsed (the inner code is in the reason). */
  EMBEDDED: 'MMS_ERR_MM7_EMBEDDED',
  /** message/partial: one fragment of a message split across several; the whole is never here to scan. */
  FRAGMENT: 'MMS_ERR_MM7_FRAGMENT',
} as const;

export type Mm7UnscannableCode = (typeof Mm7UnscannableCode)[keyof typeof Mm7UnscannableCode];

export interface Mm7Unscannable {
  readonly code: Mm7UnscannableCode;
  /** Human-readable; never payload bytes. */
  readonly reason: string;
}

/** A header token quoted in a message, cut short: messages carry no payload and stay one short line. */
export const clip = (s: string): string => (s.length > 40 ? `${s.slice(0, 40)}...` : s);

/** Shorthands for the walker (not exported from the package). */
export const ambiguous = (message: string, offset = -1): Mm7Error =>
  new Mm7Error(Mm7ErrorCode.AMBIGUOUS, message, offset);
export const malformed = (message: string, offset = -1): Mm7Error => new Mm7Error(Mm7ErrorCode.MIME, message, offset);
export const overLimit = (message: string, offset = -1): Mm7Error => new Mm7Error(Mm7ErrorCode.LIMIT, message, offset);
