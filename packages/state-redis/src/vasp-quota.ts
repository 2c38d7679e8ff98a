/**
 * QuotaStore on Redis: each VASP's token bucket and day count in one hash, `<prefix>vasp-quota:…`,
 * updated by one Lua script per take, so every proxy instance on the Redis shares each bucket exactly
 * (two instances never both take the last token). The script is `takeToken` of @mmsguard/policy step
 * for step on whole numbers of ticks (exact in Lua's doubles), so both stores decide alike; the shared
 * conformance suite holds them to it.
 *
 * The hash expires when it holds nothing a fresh key would not: once the bucket has refilled and its
 * UTC day (plus DAY_GRACE_MS) is over. The expiry is relative (PEXPIRE from the caller's `now`), so a
 * proxy whose clock differs from Redis's neither loses a day count early nor keeps keys forever.
 * Commands fail within about two seconds when Redis is unreachable, as MMS_ERR_QUOTA_UNAVAILABLE.
 * One key per script: fine for Redis Cluster too.
 */
import { Redis } from 'ioredis';
import {
  DAY_GRACE_MS, MAX_USAGE_ROWS, QuotaStoreError, QuotaStoreErrorCode, TICKS_PER_TOKEN, assertQuotaTake, bucketAt,
  ticksPerMs,
  type QuotaResult, type QuotaSpec, type QuotaStore, type QuotaUsage,
} from '@mmsguard/policy';

// KEYS[1]: the bucket. ARGV: now, rate in ticks per ms ('' = none), burst, daily ('' = none), day key,
// day end, grace, ticks per token. Fields: ticks, ts (last refill), used, day, dayends, rate, burst.
// Returns {reason ('' when allowed), ticks ('' without a rate), used, retry ms} as strings (Redis turns a
// Lua number into an integer reply). Every value is a whole number below 2^53: exact in Lua's doubles.
const TAKE = `
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local daily = tonumber(ARGV[4])
local per = tonumber(ARGV[8])
local s = redis.call('HMGET', KEYS[1], 'ticks', 'ts', 'used', 'day', 'dayends', 'rate', 'burst')
local used, day, dayends = 0, ARGV[5], tonumber(ARGV[6])
local pends = tonumber(s[5])
if pends and pends >= dayends then
  used = tonumber(s[3]) or 0
  day = s[4]
  dayends = pends
end
local cap = burst * per
local ticks = nil
local ts = now
if rate then
  ticks = cap
  local pt, pts, pr, pb = tonumber(s[1]), tonumber(s[2]), tonumber(s[6]), tonumber(s[7])
  if pt and pts and pr and pb then
    ts = math.max(pts, now)
    local pcap = pb * per
    local elapsed = ts - pts
    local was
    if elapsed > (pcap - pt) / pr + 1 then was = pcap else was = math.min(pcap, pt + elapsed * pr) end
    if was >= pcap then ticks = cap else ticks = math.min(cap, was) end
  end
end
local reason = ''
local retry = 0
if daily and used >= daily then
  reason = 'daily'
  retry = math.max(0, dayends - now)
elseif ticks and ticks < per then
  reason = 'rate'
  local deficit = per - ticks
  local wait = math.ceil(deficit / rate)
  if wait * rate < deficit then wait = wait + 1 end
  retry = ts - now + wait
else
  if ticks then ticks = ticks - per end
  used = used + 1
end
local fullat = now
if ticks then fullat = ts + math.max(0, math.ceil((cap - ticks) / rate)) end
local expires = math.max(fullat, dayends + tonumber(ARGV[7]))
local function f(x) if x == nil then return '' end return string.format('%.17g', x) end
redis.call('HSET', KEYS[1], 'ticks', f(ticks), 'ts', f(ts), 'used', f(used), 'day', day, 'dayends', f(dayends),
  'rate', f(rate), 'burst', f(burst))
redis.call('PEXPIRE', KEYS[1], f(math.max(1, expires - now)))
return {reason, f(ticks), f(used), f(retry)}
`;

const FIELDS = ['ticks', 'ts', 'used', 'day', 'dayends', 'rate', 'burst'] as const;

export interface RedisQuotaStoreOptions {
  /** Key prefix (default `mmsguard:`, the CounterStore's; `vasp-quota:` keys do not collide with its). */
  readonly prefix?: string;
}

const unavailable = (e: unknown): QuotaStoreError => new QuotaStoreError(
  QuotaStoreErrorCode.UNAVAILABLE, `quota store: ${e instanceof Error ? e.message : 'redis failed'}`,
);

/** `''` (an empty field) is "none", as the script writes it. */
const num = (s: string | null | undefined): number | null => (s === null || s === undefined || s === '' ? null : +s);

/** SCAN's MATCH is a glob: the prefix is matched literally. */
const globEscape = (s: string): string => s.replace(/[*?[\]\\]/g, '\\$&');

export class RedisQuotaStore implements QuotaStore {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(url: string, opts: RedisQuotaStoreOptions = {}) {
    this.prefix = opts.prefix ?? 'mmsguard:';
    // As RedisStore: wait for the first connection, give up after one retry (about two seconds).
    this.redis = new Redis(url, {
      maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000,
      retryStrategy: (n) => Math.min(n * 200, 2000),
    });
    // Connection errors surface on the commands; this only keeps them from being unhandled.
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('mmsguardQuotaTake', { numberOfKeys: 1, lua: TAKE });
  }

  async ready(): Promise<void> {
    await this.redis.ping().catch((e: unknown) => {
      throw unavailable(e);
    });
  }

  async take(key: string, spec: QuotaSpec, now: number): Promise<QuotaResult> {
    assertQuotaTake(key, spec, now);
    const rate = spec.ratePerSec === null ? null : ticksPerMs(spec.ratePerSec);
    const args = [
      String(now), rate === null ? '' : String(rate), String(spec.burst), spec.daily === null ? '' : String(spec.daily),
      spec.dayKey, String(spec.dayEndsAt), String(DAY_GRACE_MS), String(TICKS_PER_TOKEN),
    ];
    const r = this.redis as unknown as { mmsguardQuotaTake(k: string, ...a: string[]): Promise<string[]> };
    const reply = await r.mmsguardQuotaTake(this.prefix + key, ...args).catch((e: unknown) => {
      throw unavailable(e);
    });
    const [reason = '', ticks, used, retry] = reply;
    const t = num(ticks);
    return {
      allowed: reason === '', reason: reason === 'rate' || reason === 'daily' ? reason : null,
      tokens: t === null ? null : t / TICKS_PER_TOKEN, usedToday: num(used) ?? 0, retryAfterMs: num(retry) ?? 0,
    };
  }

  async usage(prefix: string, now: number, limit = MAX_USAGE_ROWS): Promise<QuotaUsage[]> {
    const out: QuotaUsage[] = [];
    let cursor = '0';
    try {
      do {
        const match = `${globEscape(this.prefix + prefix)}*`;
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', 500);
        cursor = next;
        if (keys.length === 0) continue;
        const p = this.redis.pipeline();
        for (const k of keys) p.hmget(k, ...FIELDS);
        const res = (await p.exec()) ?? [];
        keys.forEach((k, i) => {
          const [err, v] = res[i] ?? [new Error('no reply'), null];
          if (err !== null) throw err;
          const [ticks, ts, used, day, dayends, rate, burst] = v as (string | null)[];
          // A key that expired between SCAN and HMGET is gone: nothing to show.
          if (out.length >= limit || ts === null || ts === undefined) return;
          const state = {
            ticks: num(ticks), ts: Number(ts), used: num(used) ?? 0, dayKey: day ?? '',
            dayEndsAt: num(dayends) ?? 0, rate: num(rate), burst: num(burst) ?? 0,
          };
          out.push({ key: k.slice(this.prefix.length), ...bucketAt(state, now), dayKey: state.dayKey });
        });
      } while (cursor !== '0' && out.length < limit);
    } catch (e) {
      throw unavailable(e);
    }
    return out;
  }

  close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }
}
