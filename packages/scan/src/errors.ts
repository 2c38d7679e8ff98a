/** Stable error codes of the scan packages. A verdict (infected, unscannable) is never an error. */
export const ScanErrorCode = {
  /** An engine did not answer within SCAN_TIMEOUT. */
  TIMEOUT: 'MMS_ERR_SCAN_TIMEOUT',
  /** An engine threw: a bug or an unexpected state, turned into an outcome by the orchestrator. */
  ENGINE: 'MMS_ERR_SCAN_ENGINE',
  /** The scan was cancelled by the caller (client went away). */
  ABORTED: 'MMS_ERR_SCAN_ABORTED',
  /** A signature file line that cannot be loaded (reported with file:line). */
  SIGNATURE: 'MMS_ERR_SCAN_SIGNATURE',
  /** A signature file could not be read. */
  SIGNATURE_IO: 'MMS_ERR_SCAN_SIGNATURE_IO',
} as const;

export type ScanErrorCode = (typeof ScanErrorCode)[keyof typeof ScanErrorCode];

export class ScanError extends Error {
  override readonly name = 'ScanError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
