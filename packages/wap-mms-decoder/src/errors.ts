/**
 * The one error class of the codec. Codes are a contract: callers (the proxy,
 * the CLI, tests) match on `code`, never on `message`. Messages never carry
 * payload bytes or addresses, only positions and sizes.
 */
export const MmsErrorCode = {
  /** The PDU does not start with X-Mms-Message-Type (0x8C). */
  NOT_MMS: 'MMS_ERR_NOT_MMS',
  /** A value needs more octets than the PDU (or its enclosing length) holds. */
  TRUNCATED: 'MMS_ERR_TRUNCATED',
  /** A Uintvar longer than 5 octets or above 2^32-1. */
  UINTVAR: 'MMS_ERR_UINTVAR',
  /** An integer too large for a JavaScript number (> 2^53). */
  INTEGER_OVERFLOW: 'MMS_ERR_INTEGER_OVERFLOW',
  /** An octet that cannot start the value the field requires. */
  BAD_VALUE: 'MMS_ERR_BAD_VALUE',
  /** A header position holds an octet that is no header name. */
  BAD_HEADER: 'MMS_ERR_BAD_HEADER',
  /** A decode limit (parts, depth, headers, string length, size) was crossed. */
  LIMIT: 'MMS_ERR_LIMIT',
  /** The multipart body contradicts itself (entry count, lengths). */
  MULTIPART: 'MMS_ERR_MULTIPART',
  /**
   * An issue, never thrown: another mainstream reader (Android's PduParser, MediaTek, mmsd) takes a
   * transfer encoding, name, filename, Content-Location or Content-ID from a part that this codec's
   * reading does not show, or the part names two transfer encodings. partInfo() lists every reading.
   */
  PART_HEADERS_AMBIGUOUS: 'MMS_ERR_PART_HEADERS_AMBIGUOUS',
  /** encode() was handed a value it cannot put on the wire. */
  ENCODE: 'MMS_ERR_ENCODE',
} as const;

export type MmsErrorCode = (typeof MmsErrorCode)[keyof typeof MmsErrorCode];

export class MmsError extends Error {
  override readonly name = 'MmsError';
  readonly code: MmsErrorCode;
  /** Byte offset from the start of the PDU where the problem was found (-1 for encode errors). */
  readonly offset: number;

  constructor(code: MmsErrorCode, message: string, offset: number) {
    super(message);
    this.code = code;
    this.offset = offset;
  }

  toJSON(): { code: MmsErrorCode; message: string; offset: number } {
    return { code: this.code, message: this.message, offset: this.offset };
  }
}

export function isMmsError(e: unknown): e is MmsError {
  return e instanceof MmsError;
}
