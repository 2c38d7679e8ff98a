/**
 * VerdictStore on Redis, shared by every proxy instance: `<prefix>verdict:<transaction id>` and
 * `<prefix>verdict-digest:<algo>:<hex>` are sorted sets whose scores are each member's expiry, so a
 * record leaves at its own retention even when later ones keep the key alive; the key itself expires
 * with its newest member. One Lua script per put (record + every delivered digest, trimmed to their
 * bounds) in one round trip. Redis's own `maxmemory` bounds the total; these bounds stop one key from
 * growing. Commands fail within about two seconds when Redis is unreachable, as MMS_ERR_VERDICT_UNAVAILABLE.
 *
 * The multi-key script needs every key on one node: fine for a single Redis or Sentinel, not for Cluster.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  VerdictStoreError, VerdictStoreErrorCode, assertDigests, decodeDelivery, encodeVerdict, resolveVerdictLimits,
  type DeliveredPart, type Delivery, type DigestRef, type VerdictRecord, type VerdictStore, type VerdictStoreLimits,
} from '@mmsguard/policy';

// KEYS[1]: the record key; KEYS[2..]: digest keys. ARGV: now, expiry, record member, per-transaction
// bound, per-digest bound, then one member per digest key. Per key: expired members out, the new one in,
// the lowest expiries trimmed to the bound, the key expiring with its last member.
const PUT = `
local now = tonumber(ARGV[1])
local expiry = tonumber(ARGV[2])
local function add(key, member, cap)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  redis.call('ZADD', key, expiry, member)
  redis.call('ZREMRANGEBYRANK', key, 0, -cap - 1)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', key, last[2])
end
add(KEYS[1], ARGV[3], tonumber(ARGV[4]))
for i = 2, #KEYS do add(KEYS[i], ARGV[4 + i], tonumber(ARGV[5])) end
return 1
`;

/** Digests looked up per round trip: a signature update can add tens of thousands of hashes. */
const LOOKUP_BATCH = 500;

export interface RedisVerdictStoreOptions extends Partial<VerdictStoreLimits> {
  /** Key prefix (default `mmsguard:`, the CounterStore's; the key names do not collide). */
  readonly prefix?: string;
}

const unavailable = (e: unknown): VerdictStoreError => new VerdictStoreError(
  VerdictStoreErrorCode.UNAVAILABLE, `verdict store: ${e instanceof Error ? e.message : 'redis failed'}`,
);

export class RedisVerdictStore implements VerdictStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly limits: VerdictStoreLimits;

  constructor(url: string, opts: RedisVerdictStoreOptions = {}) {
    const { prefix = 'mmsguard:', ...limits } = opts;
    this.prefix = prefix;
    this.limits = resolveVerdictLimits(limits);
    // As RedisStore: wait for the first connection, give up after one retry (about two seconds).
    this.redis = new Redis(url, {
      maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000,
      retryStrategy: (n) => Math.min(n * 200, 2000),
    });
    // Connection errors surface on the commands; this only keeps them from being unhandled.
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('mmsguardVerdictPut', { lua: PUT });
  }

  async ready(): Promise<void> {
    await this.redis.ping().catch((e: unknown) => {
      throw unavailable(e);
    });
  }

  async put(
    record: VerdictRecord, retentionMs: number, now: number, delivered: readonly DeliveredPart[] = [],
  ): Promise<void> {
    const { json, deliveries } = encodeVerdict(record, retentionMs, delivered, this.limits);
    // A unique head keeps two identical records (a retry in the same millisecond) two members.
    const member = `${randomBytes(6).toString('hex')}|${json}`;
    const keys = [this.recordKey(record.transaction_id), ...deliveries.map((d) => this.digestKey(d.key))];
    const args = [
      String(now), String(now + retentionMs), member,
      String(this.limits.maxPerTransaction), String(this.limits.maxDeliveriesPerDigest),
      ...deliveries.map((d) => d.member),
    ];
    const r = this.redis as unknown as { mmsguardVerdictPut(n: number, ...a: string[]): Promise<number> };
    await r.mmsguardVerdictPut(keys.length, ...keys, ...args).catch((e: unknown) => {
      throw unavailable(e);
    });
  }

  async get(transactionId: string, now: number): Promise<VerdictRecord[]> {
    if (transactionId.length === 0) return [];
    const key = this.recordKey(transactionId);
    const members = await this.redis.zrangebyscore(key, `(${now}`, '+inf').catch((e: unknown) => {
      throw unavailable(e);
    });
    return members.map((m) => JSON.parse(m.slice(m.indexOf('|') + 1)) as VerdictRecord);
  }

  async findDelivered(digests: readonly DigestRef[], now: number): Promise<Delivery[]> {
    assertDigests(digests);
    const out: Delivery[] = [];
    for (let i = 0; i < digests.length; i += LOOKUP_BATCH) {
      const batch = digests.slice(i, i + LOOKUP_BATCH);
      const p = this.redis.pipeline();
      for (const d of batch) p.zrangebyscore(this.digestKey(`${d.algo}:${d.hash}`), `(${now}`, '+inf');
      const res = await p.exec().catch((e: unknown) => {
        throw unavailable(e);
      });
      batch.forEach((d, j) => {
        const [err, members] = res?.[j] ?? [new Error('no reply'), null];
        if (err !== null) throw unavailable(err);
        for (const m of members as string[]) out.push(decodeDelivery(d, m));
      });
    }
    return out;
  }

  close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }

  private recordKey(tid: string): string {
    return `${this.prefix}verdict:${tid}`;
  }

  private digestKey(key: string): string {
    return `${this.prefix}verdict-digest:${key}`;
  }
}
