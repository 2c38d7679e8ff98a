/** Stable codes of clamd failures; each becomes an `error` ScanOutcome. */
export const ClamdErrorCode = {
  /** No address in CLAMD_ADDRESS accepted a connection. */
  CONNECT: 'MMS_ERR_CLAMD_CONNECT',
  /** clamd accepted but did not answer in time. */
  TIMEOUT: 'MMS_ERR_CLAMD_TIMEOUT',
  /** clamd refused the stream: StreamMaxLength is smaller than the part. */
  SIZE_LIMIT: 'MMS_ERR_CLAMD_SIZE_LIMIT',
  /** clamd answered "... ERROR". */
  ERROR: 'MMS_ERR_CLAMD_ERROR',
  /** A reply that is no clamd reply (garbage, closed without a reply, too long). */
  PROTOCOL: 'MMS_ERR_CLAMD_PROTOCOL',
  /** CLAMD_ADDRESS could not be parsed. */
  ADDRESS: 'MMS_ERR_CLAMD_ADDRESS',
} as const;

export type ClamdErrorCode = (typeof ClamdErrorCode)[keyof typeof ClamdErrorCode];

export class ClamdError extends Error {
  override readonly name = 'ClamdError';
  constructor(readonly code: ClamdErrorCode, message: string) {
    super(message);
  }
}
