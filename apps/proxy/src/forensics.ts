/**
 * Forensics (CONTRACT §7): what happened to each message, kept for VERDICT_RETENTION so an operator
 * can ask by Transaction-ID, and the bytes of every blocked or removed part in the quarantine.
 *
 * Both are fed from one place, `Exchange.finish` (the records are written once, from the final
 * outcome), and neither may slow or fail the reply: the verdict store's put is never awaited (Redis
 * may be away), the quarantine's put only copies into a bounded queue that one worker drains off the
 * request path. Failures are counted as metrics and logged once per code, so a dead disk or store
 * neither floods the log nor goes unseen.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import {
  VerdictStoreError, type DeliveredPart, type VerdictFinding, type VerdictPart, type VerdictRecord, type VerdictStore,
} from '@mmsguard/policy';
import {
  Quarantine, QuarantineError, QuarantineErrorCode, type PutInput, type QuarantineStats, type Sidecar,
} from '@mmsguard/quarantine';
import type { Finding } from '@mmsguard/scan';
import { ConfigError, type Config } from './config.js';
import type { Metrics } from './metrics.js';
import { localStores } from './stores.js';
import type { ScannedPart } from './pipeline/scan.js';
import type { Verdict } from './pipeline/inspection.js';

/** What `finish` knows of the message when it writes the records. */
export interface FinishedMessage {
  readonly service: 'MM1' | 'MM7';
  readonly transactionId: string | null;
  readonly messageId: string | null;
  /** Already pseudonymised, as the logs name them. */
  readonly from: string | null;
  readonly to: readonly string[];
  /** The verdict record's action (`forwarded`, `blocked`, `attachment-removed`, `monitored`, `error` …). */
  readonly action: string;
  readonly verdict: Verdict;
}

/** A finding as the verdict lookup and the quarantine sidecar show it (`{kind, engine, name}`, kind the subtype). */
export function findingOf(f: Finding): VerdictFinding {
  switch (f.kind) {
    case 'infected':
      return { kind: 'virus', engine: f.engine, name: f.name };
    case 'file-type':
      return { kind: 'file-filter', engine: null, name: f.type };
    case 'unscannable':
      return { kind: 'unscannable', engine: null, name: f.reason };
    case 'error':
      return { kind: 'scan-error', engine: f.engine, name: f.code };
  }
}

/** Whose bytes the quarantine keeps: the parts a content refusal blocked or a rewrite removed. */
export function quarantinable(v: Verdict): boolean {
  const o = v.outcome;
  return o.kind === 'rewrite' || (o.kind === 'refuse' && o.reason === 'content');
}

/** The parts that reached the recipient: all for forwarded/monitored, the kept ones for attachment-removed. */
export function deliveredParts(action: string, parts: readonly ScannedPart[], blocked: ReadonlySet<number>): number[] {
  if (action === 'forwarded' || action === 'monitored') return parts.map((_p, i) => i);
  if (action === 'attachment-removed') return parts.map((_p, i) => i).filter((i) => !blocked.has(i));
  return [];
}

/** Opens a quarantine; a directory that cannot be used is a ConfigError naming the variable (and the directory). */
export async function openQuarantine(dir: string, maxBytes: number): Promise<Quarantine> {
  try {
    return await Quarantine.open({ dir, maxBytes });
  } catch (e) {
    const code = e instanceof QuarantineError ? e.code : 'MMS_ERR_QUARANTINE_OPEN';
    const variable = code === QuarantineErrorCode.CONFIG ? 'QUARANTINE_DIR or QUARANTINE_MAX_BYTES' : 'QUARANTINE_DIR';
    throw new ConfigError(
      `invalid configuration: ${variable}: ${code}: ${(e as Error).message}`,
      code === QuarantineErrorCode.CONFIG ? 'QUARANTINE_MAX_BYTES' : 'QUARANTINE_DIR', dir,
    );
  }
}

/**
 * What the forensics, the admin routes and the retro-hunt use of a quarantine: this process's own, or
 * with WORKERS the primary's (cluster/quarantine.ts), whose `put` answers later.
 */
export interface QuarantineAccess {
  put(input: PutInput): boolean | Promise<boolean>;
  stats(): QuarantineStats | null;
  list(opts?: { readonly limit?: number }): Promise<Sidecar[]>;
  stream(sha256: string): Promise<{ meta: Sidecar; size: number; stream: Readable } | null>;
  delete(sha256: string): Promise<boolean>;
  /** Resolves once every part queued so far is on disk (or counted as failed). */
  flush(): Promise<void>;
  entries(opts?: { readonly signal?: AbortSignal }): AsyncGenerator<{ meta: Sidecar; data: Buffer }>;
  close(): Promise<void>;
}

export class Forensics {
  readonly store: VerdictStore;
  private quarantineValue: QuarantineAccess | null = null;
  private readonly logged = new Set<string>();

  /** `shared`: the primary's quarantine (a worker of WORKERS), used instead of opening QUARANTINE_DIR here. */
  constructor(
    private config: Config, private readonly log: Logger, private readonly metrics: Metrics,
    store: VerdictStore = localStores(config.bulk.store).verdicts(),
    private readonly shared: QuarantineAccess | null = null,
  ) {
    this.store = store;
    metrics.quarantineStats = () => this.quarantineValue?.stats() ?? null;
  }

  get quarantine(): QuarantineAccess | null {
    return this.quarantineValue;
  }

  /**
   * Opens the quarantine (QUARANTINE_DIR), before the listeners: a directory that cannot be created or
   * read stops the start, naming the variable (main.ts exits 2 on it).
   */
  async open(): Promise<void> {
    const { quarantineDir: dir, quarantineMaxBytes: maxBytes } = this.config.forensics;
    if (dir === null || this.quarantineValue !== null) return;
    this.quarantineValue = this.shared ?? await openQuarantine(dir, maxBytes);
  }

  /**
   * A SIGHUP reload's QUARANTINE_DIR, QUARANTINE_MAX_BYTES and VERDICT_RETENTION (CONTRACT §6). A changed
   * quarantine is opened first — a directory that cannot be used refuses the reload (the error names the
   * variable) and changes nothing; `commit` then makes the new settings the ones in force, and the previous
   * quarantine finishes its queued writes and closes. `abort` undoes the preparation of a refused reload.
   */
  async prepare(next: Config): Promise<{ commit(): void; abort(): Promise<void> }> {
    const [cur, want] = [this.config.forensics, next.forensics];
    let q = this.quarantineValue;
    const opened = this.quarantineValue !== null || cur.quarantineDir === null;
    if (opened && (cur.quarantineDir !== want.quarantineDir || cur.quarantineMaxBytes !== want.quarantineMaxBytes)) {
      if (this.shared !== null) {
        // The primary opened it for every worker at start; one worker cannot move it for the others.
        throw new ConfigError('invalid configuration: QUARANTINE_DIR: changing the quarantine needs a restart with ' +
          'WORKERS > 1', 'QUARANTINE_DIR');
      }
      q = want.quarantineDir === null ? null : await openQuarantine(want.quarantineDir, want.quarantineMaxBytes);
    }
    return {
      commit: () => {
        const old = this.quarantineValue;
        this.config = next;
        this.quarantineValue = q;
        if (old !== q) void old?.close();
      },
      abort: async () => {
        if (q !== this.quarantineValue) await q?.close();
      },
    };
  }

  /**
   * The message's forensics, from `finish`: blocked or removed parts into the quarantine, then the
   * verdict record (with their `quarantined` flags) into the lookup store. Neither is awaited.
   */
  record(m: FinishedMessage, now = Date.now()): void {
    const v = m.verdict;
    const q = this.quarantineValue;
    const keep = q !== null && quarantinable(v);
    const puts: (boolean | Promise<boolean>)[] = [];
    const parts: VerdictPart[] = v.scanned.map((p, index) => {
      const findings = p.findings.map(findingOf);
      const sha256 = p.sha256();
      // put copies the bytes at once: the body buffer may be reused once the reply is out.
      puts[index] = keep && v.blockedParts.has(index) && q.put({
        sha256, data: p.leaf.data, transactionId: m.transactionId, service: m.service, findings, time: now,
      });
      return {
        index, content_type: p.contentType || null, filename: p.filename, size: p.size, sha256,
        findings, quarantined: false,
      };
    });
    const tid = m.transactionId;
    if (tid === null || tid === '') return;
    const settle = (took: readonly boolean[]): void =>
      this.remember(m, tid, parts.map((p, i) => ({ ...p, quarantined: took[i] === true })), now);
    if (puts.every((x): x is boolean => typeof x === 'boolean')) settle(puts);
    // The primary's quarantine (WORKERS) answers later: the record says what it took.
    else void Promise.all(puts.map((x) => Promise.resolve(x))).then(settle);
  }

  /** The verdict record into the lookup store (not awaited: a slow store must not hold the message). */
  private remember(m: FinishedMessage, tid: string, parts: VerdictPart[], now: number): void {
    const v = m.verdict;
    const time = new Date(now).toISOString();
    const rec: VerdictRecord = {
      service: m.service, time, action: m.action, transaction_id: tid, message_id: m.messageId,
      from: m.from, to: m.to, parts,
    };
    const delivered: DeliveredPart[] = deliveredParts(m.action, v.scanned, v.blockedParts).map((index) => ({ index }));
    const retention = this.config.forensics.verdictRetentionMs;
    void this.store.put(rec, retention, now, delivered).catch((e: unknown) => this.failed(e));
  }

  /** Counted always, logged once per code: a store that is down fails every message the same way. */
  private failed(e: unknown): void {
    const code = e instanceof VerdictStoreError ? e.code : 'MMS_ERR_VERDICT_UNAVAILABLE';
    this.metrics.verdictStoreErrors.inc({ code });
    if (this.logged.has(code)) return;
    this.logged.add(code);
    this.log.error({ event: 'verdict-store-error', code, err: (e as Error).message }, 'verdict record not stored');
  }

  async close(): Promise<void> {
    await this.quarantineValue?.close();
    await this.store.close();
  }
}
