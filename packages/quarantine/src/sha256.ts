/**
 * The one gate between a caller's string and a path: a quarantine key is exactly 64 lowercase hex
 * digits, so `../`, `/`, NUL, uppercase twins and over-long names never reach the file system.
 */
import { createHash } from 'node:crypto';
import { QuarantineError, QuarantineErrorCode } from './errors.js';

const SHA256 = /^[0-9a-f]{64}$/;

export function isSha256(s: unknown): s is string {
  return typeof s === 'string' && SHA256.test(s);
}

/** Throws MMS_ERR_QUARANTINE_BAD_HASH for anything but 64 lowercase hex digits. */
export function assertSha256(s: unknown): string {
  if (!isSha256(s)) throw new QuarantineError(QuarantineErrorCode.BAD_HASH, 'not a SHA-256 (64 lowercase hex digits)');
  return s;
}

export function sha256Of(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
