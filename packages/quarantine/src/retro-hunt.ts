/**
 * The retro-hunt: after a signature reload, which parts already delivered match a new hash signature,
 * and which quarantined parts does the new engine name that it did not before? Reads the verdict
 * store's delivered-digest index and the quarantine; writes nothing, logs nothing: every match is
 * yielded for the caller to log (`event=retrohunt`) and notify.
 *
 * It lives here, above @mmsguard/policy (whose VerdictStore it reads) and beside the quarantine it
 * re-scans, so policy stays free of file access and the quarantine free of decisions.
 */
import type { DigestRef, VerdictStore } from '@mmsguard/policy';
import type { HashSignature } from '@mmsguard/scan';
import type { Quarantine } from './quarantine.js';
import type { Sidecar } from './sidecar.js';

export type RetroHuntMatch =
  | {
    readonly source: 'delivered';
    readonly transactionId: string;
    readonly messageId: string | null;
    readonly service: string;
    readonly sha256: string;
    readonly size: number;
    readonly signature: string;
    /** The algorithm of the signature that matched (`sha256`, or `md5`/`sha1` when those were kept). */
    readonly algo: HashSignature['algo'];
    readonly deliveredAt: string;
  }
  | {
    readonly source: 'quarantine';
    readonly sha256: string;
    readonly size: number;
    readonly signature: string;
    readonly transactionIds: readonly string[];
    readonly lastSeen: string;
  };

export interface RetroHuntInput {
  /** The hash signatures to hunt for: usually `newHashSignatures(before, after)`. */
  readonly signatures: readonly HashSignature[];
  /** ms since the epoch: deliveries older than their retention are not looked at. */
  readonly now: number;
  readonly store?: Pick<VerdictStore, 'findDelivered'> | null;
  readonly quarantine?: Pick<Quarantine, 'entries'> | null;
  /**
   * Scans one quarantined part with the new engines and returns the names found (e.g. the `infected`
   * findings of `inspectTarget` with the reloaded built-in engine). Names already in the sidecar's
   * findings are not reported again: the part was blocked for them.
   */
  readonly scan?: ((data: Buffer, meta: Sidecar) => Promise<readonly string[]>) | null;
  readonly signal?: AbortSignal;
}

export interface RetroHuntSummary {
  /** New hash signatures by algorithm (only digests the store keeps can match deliveries). */
  readonly signatures: Readonly<Record<HashSignature['algo'], number>>;
  readonly deliveredMatches: number;
  readonly quarantineScanned: number;
  readonly quarantineMatches: number;
  readonly aborted: boolean;
}

/** Digests asked of the store per call: bounds one answer's size, whatever the signature update. */
const STORE_BATCH = 1000;

const keyOf = (s: { algo: string; hash: string }): string => `${s.algo}:${s.hash}`;
const identity = (s: HashSignature): string => `${s.algo}:${s.hash}:${s.size ?? '*'}:${s.name}`;

/** The signatures of `after` that `before` did not have (by algorithm, hash, size and name). */
export function newHashSignatures(before: readonly HashSignature[], after: readonly HashSignature[]): HashSignature[] {
  const old = new Set(before.map(identity));
  return after.filter((s) => !old.has(identity(s)));
}

/**
 * Yields every match, delivered parts first (by digest, within retention), then the quarantine
 * (one part in memory at a time); returns the summary. Store and scanner errors propagate.
 */
export async function* retroHunt(input: RetroHuntInput): AsyncGenerator<RetroHuntMatch, RetroHuntSummary> {
  const counts: Record<HashSignature['algo'], number> = { md5: 0, sha1: 0, sha256: 0 };
  const byDigest = new Map<string, HashSignature[]>();
  for (const s of input.signatures) {
    counts[s.algo]++;
    const list = byDigest.get(keyOf(s));
    if (list === undefined) byDigest.set(keyOf(s), [s]);
    else list.push(s);
  }
  let deliveredMatches = 0;
  let quarantineScanned = 0;
  let quarantineMatches = 0;
  const aborted = (): boolean => input.signal?.aborted === true;

  if (input.store != null) {
    const refs: DigestRef[] = [...byDigest.values()].map(([s]) => ({ algo: s!.algo, hash: s!.hash }));
    for (let i = 0; i < refs.length && !aborted(); i += STORE_BATCH) {
      for (const d of await input.store.findDelivered(refs.slice(i, i + STORE_BATCH), input.now)) {
        // As the engine: a signature with a size matches only parts of that size.
        for (const s of byDigest.get(keyOf(d)) ?? []) {
          if (s.size !== null && s.size !== d.size) continue;
          deliveredMatches++;
          yield {
            source: 'delivered', transactionId: d.transactionId, messageId: d.messageId, service: d.service,
            sha256: d.sha256, size: d.size, signature: s.name, algo: s.algo, deliveredAt: d.time,
          };
        }
      }
    }
  }

  if (input.quarantine != null && input.scan != null && !aborted()) {
    const opts = input.signal === undefined ? {} : { signal: input.signal };
    for await (const { meta, data } of input.quarantine.entries(opts)) {
      quarantineScanned++;
      const known = new Set(meta.findings.map((f) => f.name));
      for (const signature of new Set(await input.scan(data, meta))) {
        if (known.has(signature)) continue;
        quarantineMatches++;
        yield {
          source: 'quarantine', sha256: meta.sha256, size: meta.size, signature,
          transactionIds: meta.transaction_ids, lastSeen: meta.last_seen,
        };
      }
    }
  }
  return { signatures: counts, deliveredMatches, quarantineScanned, quarantineMatches, aborted: aborted() };
}

/** Runs the hunt, handing each match to `onMatch` (log it, notify); resolves with the summary. */
export async function runRetroHunt(
  input: RetroHuntInput, onMatch: (m: RetroHuntMatch) => void | Promise<void>,
): Promise<RetroHuntSummary> {
  const it = retroHunt(input);
  for (;;) {
    const r = await it.next();
    if (r.done === true) return r.value;
    await onMatch(r.value);
  }
}
