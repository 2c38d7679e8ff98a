/**
 * CounterStore on Redis: sliding windows as sorted sets updated by one Lua
 * script (atomic, so N proxy instances share exact counts), blocks as keys
 * that expire at their end. Commands fail within about two seconds when Redis
 * is unreachable: the caller applies its fail-open/closed policy.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { CounterStore } from '@mmsguard/policy';

const HIT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
if tonumber(ARGV[4]) > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[4]) - 1) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
`;

// The whole check of one key in one round trip: a block is restarted by any attempt; otherwise a hit
// under every threshold (sliding window as a sorted set), the highest crossed one reported, and its
// block set when it blocks. ARGV: now, n, then per threshold: window, limit, block ms, member.
const CHECK = `
local now = tonumber(ARGV[1])
local b = redis.call('GET', KEYS[1])
if b then
  local sep = string.find(b, ':', 1, true)
  local untilv = tonumber(string.sub(b, 1, sep - 1))
  local blockms = tonumber(string.sub(b, sep + 1))
  if untilv > now then
    redis.call('SET', KEYS[1], (now + blockms) .. ':' .. blockms, 'PXAT', now + blockms)
    return {1, -1, 0}
  end
end
local n = tonumber(ARGV[2])
local crossed = -1
local count = 0
for i = 1, n do
  local base = 2 + (i - 1) * 4
  local win = tonumber(ARGV[base + 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[1 + i], '-inf', now - win)
  redis.call('ZADD', KEYS[1 + i], now, ARGV[base + 4])
  -- the newest limit + 1 events decide a limit exactly; older ones would only cost memory
  redis.call('ZREMRANGEBYRANK', KEYS[1 + i], 0, -tonumber(ARGV[base + 2]) - 2)
  redis.call('PEXPIRE', KEYS[1 + i], win)
  local c = redis.call('ZCARD', KEYS[1 + i])
  if c > tonumber(ARGV[base + 2]) then
    crossed = i - 1
    count = c
  end
end
if crossed >= 0 then
  local blockms = tonumber(ARGV[2 + crossed * 4 + 3])
  if blockms > 0 then redis.call('SET', KEYS[1], (now + blockms) .. ':' .. blockms, 'PXAT', now + blockms) end
end
return {0, crossed, count}
`;

export class RedisStore implements CounterStore {
  private readonly redis: Redis;

  constructor(url: string, private readonly prefix = 'mmsguard:') {
    // Commands wait for the first connection (offline queue) but give up after one retry, so an
    // unreachable Redis costs a request about two seconds at most, then the fail-open/closed policy.
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000, retryStrategy: (n) => Math.min(n * 200, 2000) });
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
    const r = await (this.redis as unknown as { mmsguardHit(k: string, now: number, win: number, m: string, cap: number): Promise<number> }).mmsguardHit(this.prefix + key, now, windowMs, member, Number.isFinite(cap) ? cap : 0);
    return Number(r);
  }

  async checkAll(blockKey: string, countKeys: readonly string[], thresholds: readonly { limit: number; windowMs: number; blockMs: number }[], now: number): Promise<{ duringBlock: boolean; crossed: number; count: number }> {
    const member = `${now}-${randomBytes(6).toString('hex')}`;
    const args = [String(now), String(thresholds.length), ...thresholds.flatMap((t) => [String(t.windowMs), String(t.limit), String(t.blockMs), member])];
    const keys = [blockKey, ...countKeys].map((k) => this.prefix + k);
    const r = (await (this.redis as unknown as { mmsguardCheck(n: number, ...a: string[]): Promise<[number, number, number]> }).mmsguardCheck(keys.length, ...keys, ...args));
    return { duringBlock: Number(r[0]) === 1, crossed: Number(r[1]), count: Number(r[2]) };
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
