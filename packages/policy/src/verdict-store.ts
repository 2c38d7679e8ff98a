/**
 * What happened to a message, kept for `VERDICT_RETENTION` so an operator can ask by Transaction-ID
 * (CONTRACT §7 `GET /verdicts/{transaction_id}`), and the digests of the parts that were delivered,
 * so a retro-hunt can ask "which delivered part has this hash?" within the same retention.
 *
 * The interface, the record shape, their validation, and the in-memory store (the embedded default
 * for one instance). The Redis store (shared across instances) is in @mmsguard/state-redis and passes
 * the same conformance tests. No pseudonymisation here: the caller stores addresses as it logs them.
 */

/** One finding of a part, as CONTRACT §7 lists it; `engine` is null for findings no engine made. */
export interface VerdictFinding {
  readonly kind: string;
  readonly engine: string | null;
  readonly name: string;
}

export interface VerdictPart {
  readonly index: number;
  readonly content_type: string | null;
  readonly filename: string | null;
  readonly size: number;
  readonly sha256: string;
  readonly findings: readonly VerdictFinding[];
  readonly quarantined: boolean;
}

/** One message's verdict, in the JSON shape of CONTRACT §7 (field names are the API's). */
export interface VerdictRecord {
  readonly service: string;
  /** ISO 8601 UTC. */
  readonly time: string;
  /** The verdict log record's action (`forwarded`, `blocked`, `attachment-removed`, `monitored` …). */
  readonly action: string;
  readonly transaction_id: string;
  readonly message_id: string | null;
  readonly from: string | null;
  readonly to: readonly string[];
  readonly parts: readonly VerdictPart[];
}

export type DigestAlgo = 'md5' | 'sha1' | 'sha256';

export interface DigestRef {
  readonly algo: DigestAlgo;
  /** Lowercase hex. */
  readonly hash: string;
}

/**
 * A part of the record that reached its recipient, by index. Its SHA-256 is the record's; MD5 and
 * SHA-1 are optional, for hunting `.hdb` and SHA-1 `.hsb` signatures too (only if the caller hashes).
 */
export interface DeliveredPart {
  readonly index: number;
  readonly md5?: string;
  readonly sha1?: string;
}

/** One delivered part found by digest. */
export interface Delivery {
  readonly algo: DigestAlgo;
  readonly hash: string;
  readonly transactionId: string;
  readonly messageId: string | null;
  readonly service: string;
  /** The record's time: when it was delivered. */
  readonly time: string;
  readonly sha256: string;
  readonly size: number;
}

export interface VerdictStore {
  /**
   * Keeps `record` for `retentionMs` from `now`; `delivered` lists the parts that reached the
   * recipient (none for a blocked message), indexed by digest for the same time. Throws
   * VerdictStoreError: MMS_ERR_VERDICT_INVALID, MMS_ERR_VERDICT_TOO_LARGE, MMS_ERR_VERDICT_UNAVAILABLE.
   */
  put(record: VerdictRecord, retentionMs: number, now: number, delivered?: readonly DeliveredPart[]): Promise<void>;
  /** The unexpired records of `transactionId`, oldest first ([] when none). */
  get(transactionId: string, now: number): Promise<VerdictRecord[]>;
  /** Unexpired deliveries of parts with any of `digests` (bounded per digest, newest kept). */
  findDelivered(digests: readonly DigestRef[], now: number): Promise<Delivery[]>;
  close(): Promise<void>;
}

export const VerdictStoreErrorCode = {
  /** A record, retention or digest the store cannot take: a caller's bug, never a message's fault. */
  INVALID: 'MMS_ERR_VERDICT_INVALID',
  /** The record's JSON is over maxRecordBytes. */
  TOO_LARGE: 'MMS_ERR_VERDICT_TOO_LARGE',
  /** The shared store (Redis) did not answer; the caller counts it and carries on. */
  UNAVAILABLE: 'MMS_ERR_VERDICT_UNAVAILABLE',
} as const;

export type VerdictStoreErrorCode = (typeof VerdictStoreErrorCode)[keyof typeof VerdictStoreErrorCode];

export class VerdictStoreError extends Error {
  override readonly name = 'VerdictStoreError';
  readonly code: VerdictStoreErrorCode;
  constructor(code: VerdictStoreErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface VerdictStoreLimits {
  /**
   * Bytes of one record's JSON. Recipients, parts and findings come from the wire: a message with
   * thousands of recipients must not make one lookup entry megabytes (in memory or in Redis).
   */
  readonly maxRecordBytes: number;
  /**
   * Records per transaction id (newest kept). MM1 Transaction-IDs are the handset's choice: one that
   * reuses an id for every message must not grow one key without bound.
   */
  readonly maxPerTransaction: number;
  /**
   * Deliveries kept per digest (newest kept). A file sent to a million handsets is one digest; the
   * retro-hunt names its newest deliveries, the duplicate counters tell the scale.
   */
  readonly maxDeliveriesPerDigest: number;
}

export const DEFAULT_VERDICT_LIMITS: VerdictStoreLimits = Object.freeze({
  maxRecordBytes: 64 * 1024,
  maxPerTransaction: 16,
  maxDeliveriesPerDigest: 64,
});

/** Longest Transaction-ID kept: longer ones are no real client's, and would be a key of any length. */
export const MAX_TRANSACTION_ID_LENGTH = 256;

const HEX: Readonly<Record<DigestAlgo, RegExp>> = {
  md5: /^[0-9a-f]{32}$/, sha1: /^[0-9a-f]{40}$/, sha256: /^[0-9a-f]{64}$/,
};

const invalid = (what: string): VerdictStoreError => new VerdictStoreError(VerdictStoreErrorCode.INVALID, what);

export function isDigest(d: DigestRef): boolean {
  return Object.hasOwn(HEX, d.algo) && typeof d.hash === 'string' && HEX[d.algo].test(d.hash);
}

export function assertDigests(digests: readonly DigestRef[]): void {
  for (const d of digests) if (!isDigest(d)) throw invalid('digest is not lowercase hex of its algorithm');
}

export function resolveVerdictLimits(given: Partial<VerdictStoreLimits> = {}): VerdictStoreLimits {
  const out = { ...DEFAULT_VERDICT_LIMITS, ...given };
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isSafeInteger(v) || v < 1) throw invalid(`verdict store limit ${k} must be a positive integer`);
  }
  return Object.freeze(out);
}

/** One delivered digest as both stores keep it: the digest key and the delivery without it. */
export interface DeliveryEntry {
  readonly key: string;
  readonly member: string;
}

/**
 * Checks `record`, `retentionMs` and `delivered` and returns the record's JSON and its delivery
 * entries: what both stores write. Throws MMS_ERR_VERDICT_INVALID or MMS_ERR_VERDICT_TOO_LARGE.
 */
export function encodeVerdict(
  record: VerdictRecord, retentionMs: number, delivered: readonly DeliveredPart[], limits: VerdictStoreLimits,
): { json: string; bytes: number; deliveries: DeliveryEntry[] } {
  if (!Number.isSafeInteger(retentionMs) || retentionMs < 1) throw invalid('retention must be a positive integer (ms)');
  const tid = record.transaction_id;
  if (typeof tid !== 'string' || tid.length === 0 || tid.length > MAX_TRANSACTION_ID_LENGTH) {
    throw invalid(`transaction id must be 1..${MAX_TRANSACTION_ID_LENGTH} characters`);
  }
  if (typeof record.time !== 'string' || Number.isNaN(Date.parse(record.time))) throw invalid('time must be ISO 8601');
  const parts: unknown = record.parts;
  if (!Array.isArray(parts)) throw invalid('parts must be a list');
  const byIndex = new Map<number, VerdictPart>();
  for (const p of record.parts) {
    if (!HEX.sha256.test(p.sha256) || !Number.isSafeInteger(p.size) || p.size < 0 || !Number.isSafeInteger(p.index)) {
      throw invalid('a part needs an integer index and size and a lowercase hex sha256');
    }
    byIndex.set(p.index, p);
  }
  const json = JSON.stringify(record);
  const bytes = Buffer.byteLength(json);
  if (bytes > limits.maxRecordBytes) {
    throw new VerdictStoreError(VerdictStoreErrorCode.TOO_LARGE, `verdict record over ${limits.maxRecordBytes} bytes`);
  }
  const deliveries: DeliveryEntry[] = [];
  const seen = new Set<string>();
  for (const d of delivered) {
    const part = byIndex.get(d.index);
    if (part === undefined) throw invalid(`delivered part ${d.index} is not in the record`);
    const refs: DigestRef[] = [{ algo: 'sha256', hash: part.sha256 }];
    if (d.md5 !== undefined) refs.push({ algo: 'md5', hash: d.md5 });
    if (d.sha1 !== undefined) refs.push({ algo: 'sha1', hash: d.sha1 });
    assertDigests(refs);
    const member = JSON.stringify({
      transactionId: tid, messageId: record.message_id, service: record.service, time: record.time,
      sha256: part.sha256, size: part.size,
    });
    for (const r of refs) {
      const key = `${r.algo}:${r.hash}`;
      // Two parts of one message with the same bytes are one delivery.
      if (seen.has(key)) continue;
      seen.add(key);
      deliveries.push({ key, member });
    }
  }
  return { json, bytes, deliveries };
}

/** The Delivery that `member` (from encodeVerdict) records under `ref`. */
export function decodeDelivery(ref: DigestRef, member: string): Delivery {
  const m = JSON.parse(member) as Omit<Delivery, 'algo' | 'hash'>;
  return { algo: ref.algo, hash: ref.hash, ...m };
}

/** The item of `list` (never empty) that expires first: a scan, not a sort per write. */
function oldest(list: readonly Item[]): Item {
  let min = list[0] as Item;
  for (const i of list) if (i.expires < min.expires) min = i;
  return min;
}

interface Item {
  readonly key: string;
  readonly text: string;
  readonly weight: number;
  readonly expires: number;
  dead: boolean;
}

/**
 * Lists of strings per key with an expiry each: at most `maxPerKey` per key (newest kept), at most
 * `maxWeight` in all (oldest evicted first). Eviction order is a FIFO of insertions with a moving head;
 * a slot the head passes is cleared, and removed items are marked dead and skipped. The array is
 * compacted when the passed slots and the dead outnumber the living, so its length stays proportional
 * to what is held: a FIFO that only moves its head would keep every record ever written reachable
 * (it did: ~1.6 KB of heap per message, for ever, whatever maxWeight said).
 */
class BoundedLists {
  private readonly lists = new Map<string, Item[]>();
  private fifo: (Item | undefined)[] = [];
  private head = 0;
  private weight = 0;
  private dead = 0;

  constructor(private readonly maxWeight: number, private readonly maxPerKey: number) {}

  get size(): number {
    return this.weight;
  }

  /** Slots of the FIFO array, passed ones included: what the store's memory grows with (for tests). */
  get slots(): number {
    return this.fifo.length;
  }

  add(key: string, text: string, weight: number, expires: number, now: number): void {
    let list = this.lists.get(key);
    if (list === undefined) this.lists.set(key, (list = []));
    const item: Item = { key, text, weight, expires, dead: false };
    list.push(item);
    this.fifo.push(item);
    this.weight += weight;
    // Oldest first within the key, as Redis's ZREMRANGEBYRANK on expiry scores does.
    if (list.length > this.maxPerKey) this.kill(oldest(list));
    while (this.head < this.fifo.length) {
      const first = this.fifo[this.head] as Item;
      if (!first.dead && this.weight <= this.maxWeight && first.expires > now) break;
      this.fifo[this.head++] = undefined;
      if (first.dead) this.dead--;
      else this.remove(first);
    }
    const garbage = this.head + this.dead;
    if (garbage > 1024 && garbage > this.fifo.length - garbage) {
      this.fifo = this.fifo.slice(this.head).filter((i) => i !== undefined && !i.dead);
      this.head = 0;
      this.dead = 0;
    }
  }

  get(key: string, now: number): Item[] {
    const list = this.lists.get(key);
    if (list === undefined) return [];
    for (const i of list.filter((x) => x.expires <= now)) this.kill(i);
    return [...(this.lists.get(key) ?? [])].sort((a, b) => a.expires - b.expires);
  }

  /** Takes `i` out of its key's list; its FIFO slot is skipped later. */
  private kill(i: Item): void {
    this.remove(i);
    i.dead = true;
    this.dead++;
  }

  private remove(i: Item): void {
    const list = this.lists.get(i.key);
    const at = list?.indexOf(i) ?? -1;
    if (list === undefined || at < 0) return;
    list.splice(at, 1);
    if (list.length === 0) this.lists.delete(i.key);
    this.weight -= i.weight;
  }
}

export interface MemoryVerdictStoreOptions extends Partial<VerdictStoreLimits> {
  /**
   * Bytes of record JSON kept in all (default 64 MiB; oldest evicted first). A single instance at
   * carrier rates cannot keep a day of verdicts in its heap: this keeps the newest, and a message
   * flood costs older lookups, never the process. Redis is the store for a full retention.
   */
  readonly maxBytes?: number;
  /** Delivered digests kept in all (default 200,000, about 40 MB), oldest evicted first: same reason. */
  readonly maxDeliveries?: number;
}

/** The in-process VerdictStore: bounded in bytes, per transaction id and per digest; expired on read. */
export class MemoryVerdictStore implements VerdictStore {
  private readonly limits: VerdictStoreLimits;
  private readonly records: BoundedLists;
  private readonly deliveries: BoundedLists;

  constructor(opts: MemoryVerdictStoreOptions = {}) {
    const { maxBytes = 64 * 1024 * 1024, maxDeliveries = 200_000, ...limits } = opts;
    this.limits = resolveVerdictLimits(limits);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 || !Number.isSafeInteger(maxDeliveries) || maxDeliveries < 1) {
      throw invalid('maxBytes and maxDeliveries must be positive integers');
    }
    this.records = new BoundedLists(maxBytes, this.limits.maxPerTransaction);
    this.deliveries = new BoundedLists(maxDeliveries, this.limits.maxDeliveriesPerDigest);
  }

  /** Bytes of record JSON held now (for tests and metrics). */
  get bytes(): number {
    return this.records.size;
  }

  /** Eviction slots of records and deliveries: bounded by what is held, not by what was ever written (tests). */
  get slots(): { records: number; deliveries: number } {
    return { records: this.records.slots, deliveries: this.deliveries.slots };
  }

  put(
    record: VerdictRecord, retentionMs: number, now: number, delivered: readonly DeliveredPart[] = [],
  ): Promise<void> {
    try {
      const { json, bytes, deliveries } = encodeVerdict(record, retentionMs, delivered, this.limits);
      const expires = now + retentionMs;
      this.records.add(record.transaction_id, json, bytes, expires, now);
      for (const d of deliveries) this.deliveries.add(d.key, d.member, 1, expires, now);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  get(transactionId: string, now: number): Promise<VerdictRecord[]> {
    return Promise.resolve(this.records.get(transactionId, now).map((i) => JSON.parse(i.text) as VerdictRecord));
  }

  findDelivered(digests: readonly DigestRef[], now: number): Promise<Delivery[]> {
    try {
      assertDigests(digests);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const out: Delivery[] = [];
    for (const d of digests) {
      for (const i of this.deliveries.get(`${d.algo}:${d.hash}`, now)) out.push(decodeDelivery(d, i.text));
    }
    return Promise.resolve(out);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
