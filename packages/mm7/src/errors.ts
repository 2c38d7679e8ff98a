/** Stable codes of MM7 parsing. Every one maps to MM7 StatusCode 2007 (Message format corrupt) at the edge. */
export const Mm7ErrorCode = {
  /** The multipart body is not what its Content-Type says (no boundary, no delimiter, broken part headers). */
  MIME: 'MMS_ERR_MM7_MIME',
  /** A MIME limit was crossed (depth, parts, header size, line length). */
  LIMIT: 'MMS_ERR_MM7_LIMIT',
  /** The SOAP envelope is missing, not XML, has a DTD, or lacks Body/operation. */
  SOAP: 'MMS_ERR_MM7_SOAP',
} as const;

export type Mm7ErrorCode = (typeof Mm7ErrorCode)[keyof typeof Mm7ErrorCode];

export class Mm7Error extends Error {
  override readonly name = 'Mm7Error';
  constructor(readonly code: Mm7ErrorCode, message: string, readonly offset = -1) {
    super(message);
  }
}
