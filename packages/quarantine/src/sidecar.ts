/**
 * The JSON sidecar beside each quarantined part: what it is (sha256, size), when it was seen, in which
 * transactions and services, and why it was blocked. Parsing is strict (a sidecar is only trusted when
 * every field has its type); merging keeps every list bounded. No file access here.
 */
import type { QuarantineLimits } from './limits.js';
import { isSha256 } from './sha256.js';

/** One reason a part was blocked; the shape of CONTRACT §7's verdict findings. */
export interface QuarantineFinding {
  readonly kind: string;
  /** The engine that found it (`builtin`, `clamd`), null for findings no engine made (file type). */
  readonly engine: string | null;
  readonly name: string;
}

export interface Sidecar {
  readonly sha256: string;
  readonly size: number;
  /** ISO 8601 UTC. */
  readonly first_seen: string;
  readonly last_seen: string;
  /** How many times the content was quarantined; `transaction_ids` keeps only a bounded selection. */
  readonly count: number;
  /** The first transaction id, then the newest ones. */
  readonly transaction_ids: readonly string[];
  readonly services: readonly string[];
  readonly findings: readonly QuarantineFinding[];
}

export interface Sighting {
  readonly transactionId: string | null;
  readonly service: string;
  readonly findings: readonly QuarantineFinding[];
  /** ms since the epoch. */
  readonly time: number;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isTime = (v: unknown): v is string => isStr(v) && !Number.isNaN(Date.parse(v));

function isFinding(v: unknown): v is QuarantineFinding {
  if (typeof v !== 'object' || v === null) return false;
  const f = v as Record<string, unknown>;
  return isStr(f['kind']) && isStr(f['name']) && (f['engine'] === null || isStr(f['engine']));
}

/** The sidecar of `sha256`, or null when the text is not one (damaged, edited, or another file's). */
export function parseSidecar(text: string, sha256: string): Sidecar | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const ok = o['sha256'] === sha256 && isSha256(o['sha256'])
    && Number.isSafeInteger(o['size']) && (o['size'] as number) >= 0
    && Number.isSafeInteger(o['count']) && (o['count'] as number) >= 0
    && isTime(o['first_seen']) && isTime(o['last_seen'])
    && Array.isArray(o['transaction_ids']) && o['transaction_ids'].every(isStr)
    && Array.isArray(o['services']) && o['services'].every(isStr)
    && Array.isArray(o['findings']) && o['findings'].every(isFinding);
  if (!ok) return null;
  const f = o['findings'] as QuarantineFinding[];
  return {
    sha256, size: o['size'] as number, first_seen: o['first_seen'] as string, last_seen: o['last_seen'] as string,
    count: o['count'] as number, transaction_ids: o['transaction_ids'] as string[], services: o['services'] as string[],
    findings: f.map((x) => ({ kind: x.kind, engine: x.engine, name: x.name })),
  };
}

/** A sidecar for bytes found without one (a crash between the two renames): the file's time, no ids. */
export function recoveredSidecar(sha256: string, size: number, mtimeMs: number): Sidecar {
  const t = new Date(mtimeMs).toISOString();
  return { sha256, size, first_seen: t, last_seen: t, count: 0, transaction_ids: [], services: [], findings: [] };
}

const findingKey = (f: QuarantineFinding): string => `${f.kind}\u0000${f.engine ?? ''}\u0000${f.name}`;

/** `old` (or nothing) plus one sighting, every list deduplicated and bounded by `limits`. */
export function mergeSidecar(
  old: Sidecar | null, sha256: string, size: number, s: Sighting, limits: QuarantineLimits,
): Sidecar {
  const cut = (x: string): string => x.slice(0, limits.maxStringLength);
  const iso = new Date(s.time).toISOString();
  const first = old === null || iso < old.first_seen ? iso : old.first_seen;
  const last = old === null || iso > old.last_seen ? iso : old.last_seen;

  let tids = [...(old?.transaction_ids ?? [])];
  if (s.transactionId !== null) {
    const tid = cut(s.transactionId);
    // A retried message keeps its place: an id is listed once.
    if (!tids.includes(tid)) tids.push(tid);
    // Keep the first id (where the wave started) and the newest ones.
    const max = limits.maxTransactionIds;
    if (tids.length > max) tids = [tids[0] as string, ...tids.slice(tids.length - max + 1)];
  }

  const services = [...(old?.services ?? [])];
  const service = cut(s.service);
  if (!services.includes(service) && services.length < limits.maxServices) services.push(service);

  // The findings that blocked it first are the reason it is here: later ones are added while room remains.
  const findings = [...(old?.findings ?? [])];
  const seen = new Set(findings.map(findingKey));
  for (const f of s.findings) {
    const engine = f.engine === null ? null : cut(f.engine);
    const c: QuarantineFinding = { kind: cut(f.kind), engine, name: cut(f.name) };
    if (findings.length >= limits.maxFindings) break;
    if (seen.has(findingKey(c))) continue;
    seen.add(findingKey(c));
    findings.push(c);
  }
  return {
    sha256, size, first_seen: first, last_seen: last, count: (old?.count ?? 0) + 1,
    transaction_ids: tids, services, findings,
  };
}
