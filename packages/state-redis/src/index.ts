/**
 * CounterStore on Redis: sliding windows as sorted sets updated by one Lua
 * script (atomic, so N proxy instances share exact counts), blocks as keys
 * that expire at their end. Commands fail within about two seconds when Redis
 * is unreachable: the caller applies its fail-open/closed policy.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { BulkCheckResult, BulkCheckSpec, CounterStore } from '@mmsguard/policy';

const HIT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
if tonumber(ARGV[4]) > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[4]) - 1) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
`;

// Several checks (flood, then duplicates) in one round trip. Per check: a block is restarted by any
// attempt; otherwise a hit under every threshold (sliding window as a sorted set trimmed to the newest
// limit + 1 events), the highest crossed one reported, and its block set when it blocks. The first
// check that blocks ends the script: later ones are not counted. ARGV: now, number of checks, then
// per check its number of thresholds and per threshold: window, limit, block ms, member. KEYS: per
// check its block key, then one count key per threshold. Returns {duringBlock, crossed, count} per
// check evaluated.
const CHECK = `
local now = tonumber(ARGV[1])
local checks = tonumber(ARGV[2])
local a = 3
local k = 1
local out = {}
for _ = 1, checks do
  local n = tonumber(ARGV[a])
  a = a + 1
  local blockkey = KEYS[k]
  local during = 0
  local b = redis.call('GET', blockkey)
  if b then
    local sep = string.find(b, ':', 1, true)
    local untilv = tonumber(string.sub(b, 1, sep - 1))
    local blockms = tonumber(string.sub(b, sep + 1))
    if untilv > now then
      redis.call('SET', blockkey, (now + blockms) .. ':' .. blockms, 'PXAT', now + blockms)
      during = 1
    end
  end
  if during == 1 then
    table.insert(out, 1); table.insert(out, -1); table.insert(out, 0)
    return out
  end
  local crossed = -1
  local count = 0
  local crossedblock = 0
  for i = 1, n do
    local key = KEYS[k + i]
    local win = tonumber(ARGV[a])
    local limit = tonumber(ARGV[a + 1])
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - win)
    redis.call('ZADD', key, now, ARGV[a + 3])
    redis.call('ZREMRANGEBYRANK', key, 0, -limit - 2)
    redis.call('PEXPIRE', key, win)
    local c = redis.call('ZCARD', key)
    if c > limit then
      crossed = i - 1
      count = c
      crossedblock = tonumber(ARGV[a + 2])
    end
    a = a + 4
  end
  table.insert(out, 0); table.insert(out, crossed); table.insert(out, count)
  if crossedblock > 0 then
    redis.call('SET', blockkey, (now + crossedblock) .. ':' .. crossedblock, 'PXAT', now + crossedblock)
    return out
  end
  k = k + n + 1
end
return out
`;

export class RedisStore implements CounterStore {
  private readonly redis: Redis;

  constructor(url: string, private readonly prefix = 'mmsguard:') {
    // Commands wait for the first connection (offline queue) but give up after one retry, so an
    // unreachable Redis costs a request about two seconds at most, then the fail-open/closed policy.
    this.redis = new Redis(url, {
      maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000,
      retryStrategy: (n) => Math.min(n * 200, 2000),
    });
    // Connection errors surface on the commands; this only keeps them from being unhandled.
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('mmsguardHit', { numberOfKeys: 1, lua: HIT });
    this.redis.defineCommand('mmsguardCheck', { lua: CHECK });
  }

  async ready(): Promise<void> {
    if (this.redis.status !== 'ready') await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('redis not ready')), 3000);
      this.redis.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
    });
    await this.redis.ping();
  }

  async hit(key: string, windowMs: number, now: number, cap = 0): Promise<number> {
    const member = `${now}-${randomBytes(6).toString('hex')}`;
    const r = await (this.redis as unknown as {
      mmsguardHit(k: string, now: number, win: number, m: string, cap: number): Promise<number>;
    }).mmsguardHit(this.prefix + key, now, windowMs, member, Number.isFinite(cap) ? cap : 0);
    return Number(r);
  }

  async checkAll(checks: readonly BulkCheckSpec[], now: number): Promise<BulkCheckResult[]> {
    const member = `${now}-${randomBytes(6).toString('hex')}`;
    const keys = checks.flatMap((c) => [c.blockKey, ...c.countKeys]).map((k) => this.prefix + k);
    const args = [String(now), String(checks.length), ...checks.flatMap((c) => [
      String(c.thresholds.length),
      ...c.thresholds.flatMap((t) => [String(t.windowMs), String(t.limit), String(t.blockMs), member]),
    ])];
    const r = await (this.redis as unknown as {
      mmsguardCheck(n: number, ...a: string[]): Promise<number[]>;
    }).mmsguardCheck(keys.length, ...keys, ...args);
    const out: BulkCheckResult[] = [];
    for (let i = 0; i + 2 < r.length; i += 3) {
      out.push({ duringBlock: Number(r[i]) === 1, crossed: Number(r[i + 1]), count: Number(r[i + 2]) });
    }
    return out;
  }

  async block(key: string, until: number, blockMs: number): Promise<void> {
    await this.redis.set(this.prefix + key, `${until}:${blockMs}`, 'PXAT', until);
  }

  async blocked(key: string, now: number): Promise<{ until: number; blockMs: number } | null> {
    const v = await this.redis.get(this.prefix + key);
    if (v === null) return null;
    const [until, blockMs] = v.split(':').map(Number);
    if (until === undefined || blockMs === undefined || until <= now) return null;
    return { until, blockMs };
  }

  async listBlocks(prefix: string, now: number): Promise<{ key: string; until: number }[]> {
    const out: { key: string; until: number }[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const k of keys) {
        const b = await this.blocked(k.slice(this.prefix.length), now);
        if (b !== null) out.push({ key: k.slice(this.prefix.length), until: b.until });
      }
    } while (cursor !== '0');
    return out;
  }

  async listCounts(prefix: string, windowMs: number, now: number): Promise<{ key: string; count: number }[]> {
    const out: { key: string; count: number }[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length === 0) continue;
      // Members older than the window are only trimmed on the next hit: count by score.
      const p = this.redis.pipeline();
      for (const k of keys) p.zcount(k, `(${now - windowMs}`, '+inf');
      const counts = (await p.exec()) ?? [];
      keys.forEach((k, i) => out.push({ key: k.slice(this.prefix.length), count: Number(counts[i]?.[1] ?? 0) }));
    } while (cursor !== '0');
    return out;
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  async release(key: string): Promise<boolean> {
    return (await this.redis.del(this.prefix + key)) > 0;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }
}

export { RedisVerdictStore, type RedisVerdictStoreOptions } from './verdict-store.js';
export { RedisQuotaStore, type RedisQuotaStoreOptions } from './vasp-quota.js';
