/**
 * Flood and duplicate protection (FortiOS Carrier's model): up to three
 * escalating thresholds, each with its own window, limit, actions and block
 * time. A sender (flood) or a content checksum (duplicate) over a threshold's
 * limit within its window triggers its actions; `block` blocks the key for the
 * block time, and any attempt during a block restarts the block timer.
 * Decisions only; replies and logs are the proxy's.
 */
import type { CounterStore } from './store.js';

export type BulkAction = 'log' | 'block' | 'alert';

export interface Threshold {
  readonly limit: number;
  readonly windowMs: number;
  readonly actions: ReadonlySet<BulkAction>;
  readonly blockMs: number;
}

export interface BulkVerdict {
  /** The key is blocked (now, or by this very attempt). */
  readonly blocked: boolean;
  /** Index of the highest threshold crossed by this attempt, or -1. */
  readonly threshold: number;
  readonly actions: ReadonlySet<BulkAction>;
  /** Events counted in the crossed threshold's window, at most its limit + 1 (0 when none crossed). */
  readonly count: number;
  /** The attempt fell inside an existing block (whose timer it restarted). */
  readonly duringBlock: boolean;
}

const NONE: ReadonlySet<BulkAction> = new Set();
/** FortiOS's model: up to three escalating thresholds. */
export const MAX_THRESHOLDS = 3;

/** Parses `LIMIT/WINDOW:ACTIONS[:BLOCK]` entries separated by `;`, e.g. `10/60:block+alert:300;5/10:log` (seconds). */
export function parseThresholds(spec: string): Threshold[] {
  const out: Threshold[] = [];
  for (const raw of spec.split(';').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const m = /^(\d+)\s*\/\s*(\d+(?:\.\d+)?)\s*:\s*([a-z+]+)(?:\s*:\s*(\d+(?:\.\d+)?))?$/i.exec(raw);
    if (m === null) throw new RangeError(`threshold '${raw}' is not LIMIT/WINDOW:ACTIONS[:BLOCKTIME]`);
    const actions = new Set(m[3]!.toLowerCase().split('+'));
    for (const a of actions) {
      if (a !== 'log' && a !== 'block' && a !== 'alert') throw new RangeError(`unknown action '${a}' in '${raw}'`);
    }
    const limit = Number(m[1]);
    const windowMs = Math.round(Number(m[2]) * 1000);
    if (limit < 1 || windowMs <= 0) throw new RangeError(`threshold '${raw}' needs a limit >= 1 and a window > 0`);
    if (actions.has('block') && m[4] === undefined) {
      throw new RangeError(`threshold '${raw}' blocks but has no block time`);
    }
    out.push({ limit, windowMs, actions: actions as Set<BulkAction>, blockMs: Math.round(Number(m[4] ?? 0) * 1000) });
  }
  if (out.length > MAX_THRESHOLDS) throw new RangeError('at most three thresholds');
  return out;
}

/** One key to count: the sender (flood) or the content checksum (duplicate), with its thresholds. */
export interface BulkKey {
  readonly kind: 'flood' | 'dupe';
  readonly key: string;
  readonly thresholds: readonly Threshold[];
}

/** Counts the attempt against every threshold of `key` and decides. */
export async function checkBulk(
  store: CounterStore, kind: 'flood' | 'dupe', key: string, thresholds: readonly Threshold[], now: number,
): Promise<BulkVerdict> {
  return (await checkBulkMany(store, [{ kind, key, thresholds }], now))[0] as BulkVerdict;
}

/**
 * Checks keys in order (flood before duplicates) and stops after the first that blocks: later keys
 * are not counted for a message that is refused anyway. One verdict per key checked. A store with
 * `checkAll` does it in one atomic step (one round trip to Redis per message).
 */
export async function checkBulkMany(
  store: CounterStore, keys: readonly BulkKey[], now: number,
): Promise<BulkVerdict[]> {
  if (store.checkAll !== undefined) {
    const rs = await store.checkAll(keys.map((k) => ({
      blockKey: `${k.kind}:block:${k.key}`,
      countKeys: k.thresholds.map((_, i) => `${k.kind}:${i}:${k.key}`),
      thresholds: k.thresholds.map((t) => ({
        limit: t.limit, windowMs: t.windowMs, blockMs: t.actions.has('block') ? t.blockMs : 0,
      })),
    })), now);
    return rs.map((r, i) => (r.duringBlock ? DURING_BLOCK : verdict(keys[i]?.thresholds ?? [], r.crossed, r.count)));
  }
  const out: BulkVerdict[] = [];
  for (const k of keys) {
    const v = await checkOne(store, k, now);
    out.push(v);
    if (v.blocked) break;
  }
  return out;
}

async function checkOne(store: CounterStore, { kind, key, thresholds }: BulkKey, now: number): Promise<BulkVerdict> {
  const blockKey = `${kind}:block:${key}`;
  const existing = await store.blocked(blockKey, now);
  if (existing !== null) {
    // FortiOS: any attempt during a block restarts the block timer.
    await store.block(blockKey, now + existing.blockMs, existing.blockMs);
    return DURING_BLOCK;
  }
  const counts = await Promise.all(
    thresholds.map((t, i) => store.hit(`${kind}:${i}:${key}`, t.windowMs, now, t.limit + 1)),
  );
  let crossed = -1;
  thresholds.forEach((t, i) => {
    if ((counts[i] ?? 0) > t.limit) crossed = i;
  });
  const t = thresholds[crossed];
  if (t?.actions.has('block') === true) await store.block(blockKey, now + t.blockMs, t.blockMs);
  return verdict(thresholds, crossed, counts[crossed] ?? 0);
}

const DURING_BLOCK: BulkVerdict = {
  blocked: true, threshold: -1, actions: new Set<BulkAction>(['block']), count: 0, duringBlock: true,
};

function verdict(thresholds: readonly Threshold[], crossed: number, count: number): BulkVerdict {
  const t = thresholds[crossed];
  if (t === undefined) return { blocked: false, threshold: -1, actions: NONE, count: 0, duringBlock: false };
  return { blocked: t.actions.has('block'), threshold: crossed, actions: t.actions, count, duringBlock: false };
}

/** Releases a block and forgets the counts behind it under every threshold (the admin's "release"). */
export async function releaseBulk(store: CounterStore, kind: 'flood' | 'dupe', key: string): Promise<boolean> {
  const released = await store.release(`${kind}:block:${key}`);
  await Promise.all(Array.from({ length: MAX_THRESHOLDS }, (_, i) => store.reset(`${kind}:${i}:${key}`)));
  return released;
}

/**
 * The keys counted in threshold `index`'s window right now, most events first (the admin's view of senders and
 * fingerprints).
 */
export async function topCounts(
  store: CounterStore, kind: 'flood' | 'dupe', thresholds: readonly Threshold[], now: number, limit = 100,
): Promise<{ key: string; count: number }[]> {
  const t = thresholds[0];
  if (t === undefined) return [];
  const prefix = `${kind}:0:`;
  const rows = await store.listCounts(prefix, t.windowMs, now);
  return rows.map((r) => ({ key: r.key.slice(prefix.length), count: r.count }))
    .filter((r) => r.count > 0)
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
    .slice(0, limit);
}
