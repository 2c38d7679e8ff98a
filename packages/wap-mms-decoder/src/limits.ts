/**
 * Decode limits. Every limit has a default sized for real handsets with a wide
 * margin, and names the attack it stops. Limits bound work and memory: the
 * decoder never allocates per declared length, only per octet present, but
 * counts (parts, headers) and nesting still multiply work.
 */
export interface DecodeLimits {
  /**
   * Parts in one multipart (all levels together). Stops a PDU of 10^6 empty entries burning CPU and
   * memory on part objects.
   */
  readonly maxParts: number;
  /** Nested multipart levels (top level = 1). Stops recursion bombs (multipart in multipart in ...). */
  readonly maxDepth: number;
  /** Headers in one header block (top level, or one part). Stops header floods of tiny repeated fields. */
  readonly maxHeaders: number;
  /** Octets in one decoded string (text, address, parameter). Stops huge strings in logs and JSON output. */
  readonly maxStringBytes: number;
  /**
   * Total PDU octets accepted. Stops oversized input reaching the decoder at all (the proxy enforces its
   * own, smaller, limit first).
   */
  readonly maxPduBytes: number;
}

export const DEFAULT_LIMITS: DecodeLimits = Object.freeze({
  maxParts: 1000,
  maxDepth: 8,
  maxHeaders: 1024,
  maxStringBytes: 64 * 1024,
  maxPduBytes: 512 * 1024 * 1024,
});

export function resolveLimits(partial?: Partial<DecodeLimits>): DecodeLimits {
  if (partial === undefined) return DEFAULT_LIMITS;
  const merged = { ...DEFAULT_LIMITS, ...partial };
  for (const [k, v] of Object.entries(merged)) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`decode limit ${k} must be a positive integer`);
  }
  return Object.freeze(merged);
}
