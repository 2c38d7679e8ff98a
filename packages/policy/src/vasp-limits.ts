/**
 * Per-VASP quotas on MM7 (MM7_VASP_LIMITS): a token bucket (N messages per second, minute or hour,
 * with a burst) and a daily quota per VASP, decided in one atomic step on a QuotaStore, so instances
 * sharing one store (Redis: @mmsguard/state-redis) share each VASP's bucket exactly. Here: the file
 * parser, the bucket arithmetic both stores follow, the in-memory store (the single-instance default)
 * and the pure step from a store's answer to what the proxy replies. Nothing here knows MM7, HTTP or
 * where the VASPID comes from; a denial is a verdict, not an error.
 *
 * The file, one VASP per line, `#` comments (whole line, or after whitespace):
 *   VASP1   rate=10/s burst=50 daily=100000 over=reject
 *   *       rate=2/s daily=5000                 the rule of every VASP not listed (each its own bucket)
 *   inhouse unlimited                           listed, so the `*` rule does not apply to it
 * rate=N/s|m|h (burst defaults to one second's worth, at least 1); daily=N per UTC day; over=transient
 * (the default: retry later, like a busy server) or reject (MM7 4007 Service denied). VASPIDs match
 * exactly (case-sensitive). Days are UTC: every count restarts at 00:00 UTC, whatever the local time.
 */
import { createHash } from 'node:crypto';
import type { ListProblem } from './msisdn-list.js';

/**
 * Rules in one file. A generated file gone wrong (a VASP per subscriber) would cost memory and reload
 * time on every SIGHUP and make /bulk/vasps unbounded; no operator has ten thousand content providers.
 */
export const MAX_VASP_RULES = 10_000;
/**
 * Longest VASPID a rule names or a message is keyed by as written. The VASPID comes off the wire: an
 * attacker's 64 KiB VASPID must not become a 64 KiB store key per message. Longer ones are keyed by
 * their SHA-256 and can only fall under `*`.
 */
export const MAX_VASP_ID_LENGTH = 256;
/** A rate above any MMSC's throughput is no limit at all: a typo (extra zeros) is refused, not obeyed. */
export const MAX_RATE_PER_SEC = 100_000;
/** Same for the burst: a burst this large would let one VASP through unthrottled for minutes. */
export const MAX_BURST = 1_000_000;
/** Keeps daily counts exact integers in every store (Lua numbers are doubles) and catches typos. */
export const MAX_DAILY = 1_000_000_000;
/**
 * A key's day count is kept this long past its day's end, and a day only moves forward: instances
 * whose clocks differ by less than this around midnight still count against one day, never reset it.
 */
export const DAY_GRACE_MS = 3_600_000;
/** The MM7 StatusCode of `over=reject` (Service denied); policy does not depend on the mm7 package. */
export const MM7_SERVICE_DENIED = 4007;
/** Every quota key starts with this: `usage(VASP_QUOTA_PREFIX)` lists them all. */
export const VASP_QUOTA_PREFIX = 'vasp-quota:';

export type VaspOver = 'reject' | 'transient';

export interface VaspRule {
  readonly line: number;
  /** The VASPID as written, or `*` (every VASP not listed). */
  readonly vasp: string;
  /** Tokens per second (10/m is 1/6); null: no rate limit. */
  readonly ratePerSec: number | null;
  /** The rate as written (`10/s`), for the admin view; null when there is none. */
  readonly rate: string | null;
  /** Bucket size (0 when there is no rate). */
  readonly burst: number;
  /** Messages per UTC day; null: no daily quota. */
  readonly daily: number | null;
  readonly over: VaspOver;
  /** `unlimited`: listed so that `*` does not apply; nothing is counted. */
  readonly unlimited: boolean;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

export function parseVaspLimits(text: string): { rules: VaspRule[]; problems: ListProblem[] } {
  const rules: VaspRule[] = [];
  const problems: ListProblem[] = [];
  const seen = new Map<string, number>();
  let full = false;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const body = raw.replace(/(^|\s)#.*$/, '').trim();
    if (body === '') return;
    const bad = (reason: string): void => void problems.push({ line, reason });
    if (rules.length === MAX_VASP_RULES) {
      if (!full) bad(`more than ${MAX_VASP_RULES} VASP rules`);
      full = true;
      return;
    }
    const [vasp = '', ...fields] = body.split(/\s+/);
    const before = problems.length;
    if (vasp.length > MAX_VASP_ID_LENGTH) bad(`VASPID longer than ${MAX_VASP_ID_LENGTH} characters`);
    else if (seen.has(vasp)) bad(`'${vasp}' already has a rule on line ${seen.get(vasp) ?? 0}`);
    const v = new Map<string, string>();
    let unlimited = false;
    for (const f of fields) {
      if (f === 'unlimited') {
        unlimited = true;
        continue;
      }
      const eq = f.indexOf('=');
      const key = eq < 0 ? f : f.slice(0, eq);
      if (eq < 0 || !['rate', 'burst', 'daily', 'over'].includes(key)) {
        bad(`unknown setting '${key}' (rate, burst, daily, over, unlimited)`);
      } else if (v.has(key)) {
        bad(`'${key}' given twice`);
      } else {
        v.set(key, f.slice(eq + 1));
      }
    }
    let ratePerSec: number | null = null;
    const rate = v.get('rate') ?? null;
    if (rate !== null) {
      const m = /^(\d{1,10})\/([smh])$/.exec(rate);
      const n = m === null ? NaN : Number(m[1]) / (UNIT_SECONDS[m[2] ?? ''] ?? NaN);
      if (m === null || !(n > 0)) bad(`rate '${rate}' is not N/s, N/m or N/h with N >= 1`);
      else if (n > MAX_RATE_PER_SEC) bad(`rate '${rate}' is over ${MAX_RATE_PER_SEC}/s`);
      else ratePerSec = n;
    }
    const count = (key: string, max: number): number | null => {
      const s = v.get(key);
      if (s === undefined) return null;
      const n = /^\d{1,10}$/.test(s) ? Number(s) : NaN;
      if (!(n >= 1 && n <= max)) bad(`${key} '${s}' is not a whole number from 1 to ${max}`);
      return n;
    };
    const burst = count('burst', MAX_BURST);
    const daily = count('daily', MAX_DAILY);
    const over = v.get('over') ?? 'transient';
    if (over !== 'reject' && over !== 'transient') bad(`over '${over}' is not reject or transient`);
    if (burst !== null && rate === null) bad('burst needs a rate');
    if (unlimited && v.size > 0) bad('unlimited takes no other setting');
    const quiet = problems.length === before;
    if (quiet && !unlimited && rate === null && daily === null) bad('no limit: give rate= and/or daily=, or unlimited');
    if (problems.length > before) return;
    seen.set(vasp, line);
    rules.push({
      line, vasp, ratePerSec, rate, daily, over: over as VaspOver, unlimited,
      burst: ratePerSec === null ? 0 : burst ?? Math.max(1, Math.ceil(ratePerSec)),
    });
  });
  return { rules, problems };
}

export interface VaspLimits {
  readonly byVasp: ReadonlyMap<string, VaspRule>;
  /** The `*` rule, or null: VASPs not listed are not limited. */
  readonly fallback: VaspRule | null;
}

export function indexVaspRules(rules: readonly VaspRule[]): VaspLimits {
  return {
    byVasp: new Map(rules.filter((r) => r.vasp !== '*').map((r) => [r.vasp, r])),
    fallback: rules.find((r) => r.vasp === '*') ?? null,
  };
}

/** The rule of a VASP (null or '' when the message names none: the `*` rule), or null when none applies. */
export function vaspRuleFor(limits: VaspLimits, vaspId: string | null): VaspRule | null {
  const own = vaspId === null || vaspId.length > MAX_VASP_ID_LENGTH ? undefined : limits.byVasp.get(vaspId);
  return own ?? limits.fallback;
}

/**
 * The store key of a VASP. Escaped so that no VASPID an attacker writes can name another key: `id:`
 * as written, `sha256:` for over-long ones, `none` for messages naming no VASP (one shared bucket).
 */
export function vaspQuotaKey(vaspId: string | null): string {
  if (vaspId === null || vaspId === '') return `${VASP_QUOTA_PREFIX}none`;
  if (vaspId.length > MAX_VASP_ID_LENGTH) {
    return `${VASP_QUOTA_PREFIX}sha256:${createHash('sha256').update(vaspId).digest('hex')}`;
  }
  return `${VASP_QUOTA_PREFIX}id:${vaspId}`;
}

/** The VASPID of a key (null for `none` and hashed ones), and how the admin view names it. */
export function vaspOfKey(key: string): { vasp: string | null; label: string } {
  const k = key.startsWith(VASP_QUOTA_PREFIX) ? key.slice(VASP_QUOTA_PREFIX.length) : key;
  return k.startsWith('id:') ? { vasp: k.slice(3), label: k.slice(3) } : { vasp: null, label: `(${k})` };
}

const DAY_MS = 86_400_000;

/** The UTC day of `now`: its name (`2024-05-01`) and the instant it ends (next 00:00 UTC). */
export function utcDay(now: number): { key: string; endsAt: number } {
  const start = Math.floor(now / DAY_MS) * DAY_MS;
  return { key: new Date(start).toISOString().slice(0, 10), endsAt: start + DAY_MS };
}

/** One take from a VASP's bucket. `ratePerSec` null: no bucket (burst ignored); `daily` null: no quota. */
export interface QuotaSpec {
  readonly ratePerSec: number | null;
  readonly burst: number;
  readonly daily: number | null;
  readonly dayKey: string;
  readonly dayEndsAt: number;
}

export interface QuotaResult {
  readonly allowed: boolean;
  /** What refused it; 'daily' when both would (waiting for a token would not help). */
  readonly reason: 'rate' | 'daily' | null;
  /** Tokens left after this take; null without a rate. */
  readonly tokens: number | null;
  /** Messages allowed today, this one included. */
  readonly usedToday: number;
  /** 0 when allowed; else the wait after which the same take is allowed (a token, or the next day). */
  readonly retryAfterMs: number;
}

export interface QuotaUsage {
  readonly key: string;
  /** Tokens at `now` (refilled), null without a rate. */
  readonly tokens: number | null;
  readonly usedToday: number;
  readonly dayKey: string;
}

/**
 * Token bucket + daily quota per key. `take` is atomic per key on the store (two instances on one
 * Redis share the bucket), and a refused take consumes neither a token nor the daily quota.
 * Stores throw QuotaStoreError: MMS_ERR_QUOTA_INVALID (a caller's bug), MMS_ERR_QUOTA_UNAVAILABLE.
 */
export interface QuotaStore {
  take(key: string, spec: QuotaSpec, now: number): Promise<QuotaResult>;
  /** Keys under `prefix` with their usage at `now` (for /bulk/vasps), at most `limit` of them. */
  usage(prefix: string, now: number, limit?: number): Promise<QuotaUsage[]>;
  close(): Promise<void>;
}

/** Rows `usage` returns at most: the admin view of a store flooded with invented VASPIDs stays small. */
export const MAX_USAGE_ROWS = 10_000;

export const QuotaStoreErrorCode = {
  /** A key, spec or time the store cannot take: a caller's bug, never a message's fault. */
  INVALID: 'MMS_ERR_QUOTA_INVALID',
  /** The shared store (Redis) did not answer: the caller applies STATE_STORE_FAILURE. */
  UNAVAILABLE: 'MMS_ERR_QUOTA_UNAVAILABLE',
} as const;
export type QuotaStoreErrorCode = (typeof QuotaStoreErrorCode)[keyof typeof QuotaStoreErrorCode];

export class QuotaStoreError extends Error {
  override readonly name = 'QuotaStoreError';
  readonly code: QuotaStoreErrorCode;
  constructor(code: QuotaStoreErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Throws MMS_ERR_QUOTA_INVALID unless the store can take this; both stores call it first. */
export function assertQuotaTake(key: string, spec: QuotaSpec, now: number): void {
  const invalid = (what: string): never => {
    throw new QuotaStoreError(QuotaStoreErrorCode.INVALID, what);
  };
  const whole = (n: number, min: number, max: number): boolean => Number.isSafeInteger(n) && n >= min && n <= max;
  if (typeof key !== 'string' || key.length === 0 || key.length > 1024) invalid('quota key is empty or over 1024');
  if (!Number.isSafeInteger(now) || !Number.isSafeInteger(spec.dayEndsAt)) invalid('times are not whole ms');
  if (typeof spec.dayKey !== 'string' || !/^[\w-]{1,32}$/.test(spec.dayKey)) invalid('dayKey is not a short name');
  const r = spec.ratePerSec;
  if (r !== null && !(r > 0 && r <= MAX_RATE_PER_SEC && ticksPerMs(r) !== null)) {
    invalid('ratePerSec is not a whole number per hour up to MAX_RATE_PER_SEC');
  }
  if (r !== null && !whole(spec.burst, 1, MAX_BURST)) invalid('burst is not a whole number from 1 to MAX_BURST');
  if (spec.daily !== null && !whole(spec.daily, 1, MAX_DAILY)) invalid('daily is not a whole number in range');
}

/**
 * The bucket counts in ticks: a token is TICKS_PER_TOKEN ticks and a rate of N per hour refills N
 * ticks per millisecond, so every rate the file can write (N/s, N/m, N/h) refills a whole number of
 * ticks per ms and the bucket is integer arithmetic, exact in doubles (burst * ticks <= 3.6e12): no
 * drift over many refills, and the same answer from JavaScript and from Redis's Lua.
 */
export const TICKS_PER_TOKEN = 3_600_000;

/** Ticks per ms of a rate (its count per hour), or null when that is not a whole number. */
export function ticksPerMs(ratePerSec: number): number | null {
  const perHour = ratePerSec * 3600;
  const whole = Math.round(perHour);
  return whole >= 1 && Math.abs(perHour - whole) <= 1e-6 * perHour ? whole : null;
}

/** What a store keeps per key; `rate` is in ticks per ms. */
export interface BucketState {
  readonly ticks: number | null;
  readonly ts: number;
  readonly used: number;
  readonly dayKey: string;
  readonly dayEndsAt: number;
  readonly rate: number | null;
  readonly burst: number;
}

/** Ticks in a bucket `elapsed` ms after it held `ticks`; exact (the product is taken only below the cap). */
export function refill(ticks: number, elapsed: number, rate: number, burst: number): number {
  const cap = burst * TICKS_PER_TOKEN;
  return elapsed > (cap - ticks) / rate + 1 ? cap : Math.min(cap, ticks + elapsed * rate);
}

/**
 * The arithmetic of one take, for stores: @mmsguard/state-redis runs the same steps in Lua, and the
 * conformance suite checks they agree. Time and day only move forward: a take stamped earlier than the
 * last one (another instance's slower clock) neither refills nor reopens yesterday. A reloaded rule
 * applies from the next take on. `expiresAt`: from then on the state equals a fresh key's under any
 * rule, and may be dropped. Call assertQuotaTake first.
 */
export function takeToken(
  prev: BucketState | null, spec: QuotaSpec, now: number,
): { state: BucketState; result: QuotaResult; expiresAt: number } {
  let used = 0;
  let { dayKey, dayEndsAt } = spec;
  if (prev !== null && prev.dayEndsAt >= spec.dayEndsAt) ({ used, dayKey, dayEndsAt } = prev);
  const rate = spec.ratePerSec === null ? null : ticksPerMs(spec.ratePerSec);
  let ticks: number | null = null;
  let ts = now;
  if (rate !== null) {
    const cap = spec.burst * TICKS_PER_TOKEN;
    ticks = cap;
    if (prev !== null && prev.ticks !== null && prev.rate !== null) {
      ts = Math.max(prev.ts, now);
      // The time since the last take passed under that take's rule; a bucket full under it is full under
      // a reloaded rule too (so a key dropped once full loses nothing), and a smaller burst caps it.
      const was = refill(prev.ticks, ts - prev.ts, prev.rate, prev.burst);
      ticks = was >= prev.burst * TICKS_PER_TOKEN ? cap : Math.min(cap, was);
    }
  }
  let reason: QuotaResult['reason'] = null;
  let retryAfterMs = 0;
  if (spec.daily !== null && used >= spec.daily) {
    reason = 'daily';
    retryAfterMs = Math.max(0, dayEndsAt - now);
  } else if (rate !== null && ticks !== null && ticks < TICKS_PER_TOKEN) {
    reason = 'rate';
    const deficit = TICKS_PER_TOKEN - ticks;
    let wait = Math.ceil(deficit / rate);
    // Never promise a token that is not there yet.
    if (wait * rate < deficit) wait += 1;
    retryAfterMs = ts - now + wait;
  } else {
    if (ticks !== null) ticks -= TICKS_PER_TOKEN;
    used += 1;
  }
  const fullAt = rate !== null && ticks !== null
    ? ts + Math.max(0, Math.ceil((spec.burst * TICKS_PER_TOKEN - ticks) / rate))
    : now;
  return {
    state: { ticks, ts, used, dayKey, dayEndsAt, rate, burst: spec.burst },
    result: {
      allowed: reason === null, reason, tokens: ticks === null ? null : ticks / TICKS_PER_TOKEN,
      usedToday: used, retryAfterMs,
    },
    expiresAt: Math.max(fullAt, dayEndsAt + DAY_GRACE_MS),
  };
}

/** A stored state as seen at `now`: tokens refilled, today's count 0 once its day is over. */
export function bucketAt(s: BucketState, now: number): { tokens: number | null; usedToday: number } {
  const tokens = s.ticks === null || s.rate === null
    ? null
    : refill(s.ticks, Math.max(0, now - s.ts), s.rate, s.burst) / TICKS_PER_TOKEN;
  return { tokens, usedToday: now < s.dayEndsAt ? s.used : 0 };
}

export interface MemoryQuotaStoreOptions {
  /**
   * Keys held at most. VASPIDs come off the wire and each one under `*` gets its own bucket: a flood
   * of invented VASPIDs must cost a bounded map, not the heap. Past it the least recently used key is
   * dropped (lossless if it was idle; else that VASP's bucket refills and its day count restarts,
   * counted in `evicted`).
   */
  readonly maxKeys?: number;
}

export const DEFAULT_QUOTA_MAX_KEYS = 100_000;

/** QuotaStore in process memory: one instance's exact buckets; idle keys are swept. */
export class MemoryQuotaStore implements QuotaStore {
  private readonly buckets = new Map<string, { state: BucketState; expiresAt: number }>();
  private readonly maxKeys: number;
  private takes = 0;
  /** Keys dropped while still holding state (the bound was reached). */
  evicted = 0;

  constructor(opts: MemoryQuotaStoreOptions = {}) {
    this.maxKeys = opts.maxKeys ?? DEFAULT_QUOTA_MAX_KEYS;
  }

  get size(): number {
    return this.buckets.size;
  }

  take(key: string, spec: QuotaSpec, now: number): Promise<QuotaResult> {
    // A bad spec rejects (thrown in the executor), as from every store.
    return new Promise((resolve) => resolve(this.takeNow(key, spec, now)));
  }

  private takeNow(key: string, spec: QuotaSpec, now: number): QuotaResult {
    assertQuotaTake(key, spec, now);
    const e = this.buckets.get(key);
    const prev = e === undefined || e.expiresAt <= now ? null : e.state;
    const { state, result, expiresAt } = takeToken(prev, spec, now);
    // Re-inserted last: the map's first key is always the least recently used.
    this.buckets.delete(key);
    this.buckets.set(key, { state, expiresAt });
    if (++this.takes % 1024 === 0) this.sweep(now);
    while (this.buckets.size > this.maxKeys) {
      const [oldest, o] = this.buckets.entries().next().value as [string, { expiresAt: number }];
      if (o.expiresAt > now) this.evicted++;
      this.buckets.delete(oldest);
    }
    return result;
  }

  private sweep(now: number): void {
    for (const [k, v] of this.buckets) if (v.expiresAt <= now) this.buckets.delete(k);
  }

  usage(prefix: string, now: number, limit = MAX_USAGE_ROWS): Promise<QuotaUsage[]> {
    const out: QuotaUsage[] = [];
    for (const [key, { state, expiresAt }] of this.buckets) {
      if (out.length >= limit) break;
      if (key.startsWith(prefix) && expiresAt > now) out.push({ key, ...bucketAt(state, now), dayKey: state.dayKey });
    }
    return Promise.resolve(out);
  }

  close(): Promise<void> {
    this.buckets.clear();
    return Promise.resolve();
  }
}

export type VaspQuotaOutcome =
  | { readonly action: 'pass' }
  | { readonly action: 'refuse'; readonly status: typeof MM7_SERVICE_DENIED; readonly reason: 'rate' | 'daily' }
  | { readonly action: 'transient'; readonly retryAfterSeconds: number; readonly reason: 'rate' | 'daily' };

/** What a take means for the message: `over=` picks 4007 or a retry later (Retry-After in whole seconds, >= 1). */
export function vaspQuotaOutcome(rule: VaspRule, r: QuotaResult): VaspQuotaOutcome {
  if (r.allowed || r.reason === null) return { action: 'pass' };
  if (rule.over === 'reject') return { action: 'refuse', status: MM7_SERVICE_DENIED, reason: r.reason };
  return { action: 'transient', retryAfterSeconds: Math.max(1, Math.ceil(r.retryAfterMs / 1000)), reason: r.reason };
}

/** The store's spec for a rule at `now` (its UTC day). */
export function vaspQuotaSpec(rule: VaspRule, now: number): QuotaSpec {
  const day = utcDay(now);
  return { ratePerSec: rule.ratePerSec, burst: rule.burst, daily: rule.daily, dayKey: day.key, dayEndsAt: day.endsAt };
}

/** Looks up the VASP's rule and takes from its bucket; null when no rule limits it (nothing counted). */
export async function checkVaspQuota(
  store: QuotaStore, limits: VaspLimits, vaspId: string | null, now: number,
): Promise<{ rule: VaspRule; result: QuotaResult; outcome: VaspQuotaOutcome } | null> {
  const rule = vaspRuleFor(limits, vaspId);
  if (rule === null || rule.unlimited) return null;
  const result = await store.take(vaspQuotaKey(vaspId), vaspQuotaSpec(rule, now), now);
  return { rule, result, outcome: vaspQuotaOutcome(rule, result) };
}

/** One row of `GET /bulk/vasps` (field names are the API's). */
export interface VaspUsageRow {
  readonly vasp: string;
  /** The rule that applies: the VASPID or `*`, and its line in the file. */
  readonly rule: string;
  readonly line: number;
  readonly rate: string | null;
  readonly burst: number | null;
  readonly daily: number | null;
  readonly over: VaspOver;
  readonly tokens: number | null;
  readonly used_today: number;
  readonly remaining_today: number | null;
}

/**
 * The payload of `GET /bulk/vasps`: every listed VASP (fresh if it sent nothing yet) and every VASP
 * the store holds under `*`, most used today first, at most `limit` rows.
 */
export async function vaspUsageReport(
  store: QuotaStore, limits: VaspLimits, now: number, limit = 100,
): Promise<{ day: string; day_ends: string; vasps: VaspUsageRow[] }> {
  const day = utcDay(now);
  const row = (label: string, rule: VaspRule, tokens: number | null, used: number): VaspUsageRow => ({
    vasp: label, rule: rule.vasp, line: rule.line, rate: rule.rate, burst: rule.ratePerSec === null ? null : rule.burst,
    daily: rule.daily, over: rule.over, tokens: tokens === null ? null : Math.floor(tokens), used_today: used,
    remaining_today: rule.daily === null ? null : Math.max(0, rule.daily - used),
  });
  const rows = new Map<string, VaspUsageRow>();
  for (const r of limits.byVasp.values()) {
    if (!r.unlimited) rows.set(r.vasp, row(r.vasp, r, r.ratePerSec === null ? null : r.burst, 0));
  }
  for (const u of await store.usage(VASP_QUOTA_PREFIX, now)) {
    const { vasp, label } = vaspOfKey(u.key);
    const rule = vaspRuleFor(limits, vasp);
    if (rule !== null && !rule.unlimited) rows.set(label, row(label, rule, u.tokens, u.usedToday));
  }
  const vasps = [...rows.values()].sort((a, b) => b.used_today - a.used_today || (a.vasp < b.vasp ? -1 : 1));
  return { day: day.key, day_ends: new Date(day.endsAt).toISOString(), vasps: vasps.slice(0, limit) };
}
