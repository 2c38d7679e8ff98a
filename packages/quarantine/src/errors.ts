/**
 * Stable error codes of @mmsguard/quarantine. The admin API (`get`, `delete`, `open`) throws
 * `QuarantineError`; `put` never throws: a write that cannot happen is dropped and counted in
 * `stats().errors` under one of these codes, because a failing disk must never reach the traffic.
 */
export const QuarantineErrorCode = {
  /** Not 64 lowercase hex digits: refused before any path is built from it (path traversal). */
  BAD_HASH: 'MMS_ERR_QUARANTINE_BAD_HASH',
  /** An option out of range (`Quarantine.open`): a configuration error, found at startup. */
  CONFIG: 'MMS_ERR_QUARANTINE_CONFIG',
  /** The directory cannot be created or read at open. */
  OPEN: 'MMS_ERR_QUARANTINE_OPEN',
  /** Dropped: the write queue is at its byte or entry bound (the disk is slower than the blocks). */
  QUEUE_FULL: 'MMS_ERR_QUARANTINE_QUEUE_FULL',
  /** Dropped: one part larger than the whole quarantine bound. */
  TOO_LARGE: 'MMS_ERR_QUARANTINE_TOO_LARGE',
  /** Dropped: the caller's sha256 is not the digest of the bytes it handed over. */
  HASH_MISMATCH: 'MMS_ERR_QUARANTINE_HASH_MISMATCH',
  /** A file operation failed (ENOSPC, EACCES, EIO …); the errno is kept in `stats().lastError`. */
  IO: 'MMS_ERR_QUARANTINE_IO',
  /** Dropped or refused: the quarantine was closed. */
  CLOSED: 'MMS_ERR_QUARANTINE_CLOSED',
} as const;

export type QuarantineErrorCode = (typeof QuarantineErrorCode)[keyof typeof QuarantineErrorCode];

export class QuarantineError extends Error {
  override readonly name = 'QuarantineError';
  readonly code: QuarantineErrorCode;
  /** The operating system's code (ENOSPC …) when a file operation failed. */
  readonly errno: string | null;
  constructor(code: QuarantineErrorCode, message: string, errno: string | null = null) {
    super(message);
    this.code = code;
    this.errno = errno;
  }
}
