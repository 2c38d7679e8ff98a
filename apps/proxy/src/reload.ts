/**
 * Reloads (CONTRACT §6, issue 12). On SIGHUP everything the proxy loaded is read again — CONFIG_FILE
 * (through loadConfig, with the process environment), SIGNATURE_FILES (a new built-in engine; clamd
 * and ICAP engines whose address did not change are kept), MSISDN_LIST, REPLY_TEMPLATES,
 * MM7_VASP_LIMITS — and validated, all of it, before anything changes. Then one new generation is
 * swapped in for the messages that arrive afterwards; messages in flight finish under the generation
 * they pinned. A bad file changes nothing: the previous generation stays whole and one
 * `{"event":"reload","ok":false,"file","line"}` record says why; a good one logs
 * `{"event":"reload","ok":true,"generation","changed"}`. Nothing listening is closed; nothing exits.
 *
 * Settings bound to something made once at start (listeners, upstream pools, the budget, the stores,
 * the logger's format, the notifier) cannot change live: a reload keeps their running values and
 * logs one `reload-restart-required` warning naming them (RESTART_ONLY).
 *
 * The watched files' own polls (a changed MSISDN list or template file) swap a generation too,
 * replacing only that file; every swap goes through one queue, so two never interleave.
 *
 * After a swap that adds built-in hash signatures the retro-hunt runs in the background: parts
 * delivered within VERDICT_RETENTION and the quarantine are checked against the new signatures; each
 * match is one `"event":"retrohunt"` record and an administrator notification. The next swap or the
 * shutdown aborts it (the next hunt then covers what it had not finished).
 */
import type { Logger } from 'pino';
import { newHashSignatures, runRetroHunt, type RetroHuntMatch } from '@mmsguard/quarantine';
import { ScanError, ScanErrorCode, type HashSignature, type ScanEngine } from '@mmsguard/scan';
import { ConfigError, type Config, type LoadedConfig } from './config.js';
import {
  FILE_SETTINGS, loadFile, type FileKey, type FilePoller, type FileSetting, type ProxyRuntime,
} from './context.js';
import { buildEngines, hashSignaturesOf } from './engines.js';
import type { Generation, LoadedFile } from './generation.js';
import { FileProblem } from './watched-file.js';

export type ReloadResult =
  | {
    readonly ok: true;
    readonly generation: number;
    /** Variables whose value (or, for a file setting, whose file's contents) changed. */
    readonly changed: readonly string[];
    /** Variables that changed but keep their running value until a restart. */
    readonly restartRequired: readonly string[];
  }
  | {
    readonly ok: false;
    /** The generation still in force. */
    readonly generation: number;
    readonly file: string | null;
    readonly line: number | null;
    readonly variable: string | null;
    readonly msg: string;
  };

/** Each variable and where the configuration keeps it: what a reload compares. */
export const SETTINGS: Readonly<Record<string, (c: Config) => unknown>> = {
  CONFIG_FILE: (c) => c.configFile,
  HOST: (c) => c.host,
  MM1_PORT: (c) => c.mm1.port,
  MM1_UPSTREAM_URL: (c) => c.mm1.upstreamUrl,
  MM7_PORT: (c) => c.mm7.port,
  MM7_UPSTREAM_URL: (c) => c.mm7.upstreamUrl,
  ADMIN_PORT: (c) => c.adminPort,
  ADMIN_HOST: (c) => c.adminHost,
  MM1_OVERSIZE_LIMIT: (c) => c.mm1.oversizeLimit,
  MM7_OVERSIZE_LIMIT: (c) => c.mm7.oversizeLimit,
  MM1_OVERSIZE_ACTION: (c) => c.mm1.oversizeAction,
  MM7_OVERSIZE_ACTION: (c) => c.mm7.oversizeAction,
  MM1_CLIENT_COMFORT: (c) => c.mm1.clientComfort,
  MM7_CLIENT_COMFORT: (c) => c.mm7.clientComfort,
  MM1_SERVER_COMFORT: (c) => c.mm1.serverComfort,
  MM7_SERVER_COMFORT: (c) => c.mm7.serverComfort,
  MM1_COMFORT_INTERVAL: (c) => c.mm1.comfortIntervalMs,
  MM7_COMFORT_INTERVAL: (c) => c.mm7.comfortIntervalMs,
  MM1_COMFORT_AMOUNT: (c) => c.mm1.comfortAmount,
  MM7_COMFORT_AMOUNT: (c) => c.mm7.comfortAmount,
  MM1_SCAN_MODE: (c) => c.mm1.scanMode,
  MM7_SCAN_MODE: (c) => c.mm7.scanMode,
  SCAN_ENGINES: (c) => c.scan.engines,
  CLAMD_ADDRESS: (c) => c.scan.clamdAddress,
  ICAP_URL: (c) => c.scan.icapUrl,
  SCAN_TIMEOUT: (c) => c.scan.scanTimeoutMs,
  SCAN_ERROR_ACTION: (c) => c.scan.scanErrorAction,
  SIGNATURE_FILES: (c) => c.scan.signatureFiles,
  FILE_FILTER: (c) => c.scan.fileFilter,
  UNSCANNABLE_ACTION: (c) => c.unscannableAction,
  REMOVE_BLOCKED: (c) => c.removeBlocked,
  REPLACEMENT_SIZE: (c) => c.replacementSize,
  LOG_LEVEL: (c) => c.logLevel,
  LOG_FORMAT: (c) => c.logFormat,
  MSISDN_HASH_KEY: (c) => c.msisdnHashKey,
  INFLIGHT_LIMIT: (c) => c.inflightLimit,
  MIN_UPLOAD_RATE: (c) => c.minUploadRate,
  MIN_UPLOAD_RATE_GRACE: (c) => c.minUploadRateGraceMs,
  UPSTREAM_TIMEOUT: (c) => c.upstreamTimeoutMs,
  UPSTREAM_CONNECTIONS: (c) => c.upstreamConnections,
  REQUEST_TIMEOUT: (c) => c.requestTimeoutMs,
  SHUTDOWN_TIMEOUT: (c) => c.shutdownTimeoutMs,
  SIM_PORT: (c) => c.simPort,
  WORKERS: (c) => c.workers,
  TRUSTED_GATEWAYS: (c) => c.trustedGateways,
  MSISDN_HEADER: (c) => c.msisdnHeader,
  ADMIN_TOKEN: (c) => c.adminToken,
  HEADERS_TIMEOUT: (c) => c.headersTimeoutMs,
  FLOOD_THRESHOLDS: (c) => c.bulk.flood,
  DUPE_THRESHOLDS: (c) => c.bulk.dupe,
  STATE_STORE: (c) => c.bulk.store,
  STATE_STORE_FAILURE: (c) => c.bulk.failure,
  BULK_BLOCK_REPLY: (c) => c.bulk.reply,
  NOTIFY_URL: (c) => c.notify.url,
  NOTIFY_INTERVAL: (c) => c.notify.intervalMs,
  NOTIFY_RATE: (c) => c.notify.perSecond,
  MSISDN_LIST: (c) => c.bulk.msisdnList,
  REPLY_TEMPLATES: (c) => c.replyTemplates,
  MSISDN_HEADER_ENCODING: (c) => c.msisdnEncoding,
  MSISDN_PREFIX_RULES: (c) => c.msisdnPrefixes,
  MM7_FLOOD_THRESHOLDS: (c) => c.bulk.mm7Flood,
  MM7_DUPE_THRESHOLDS: (c) => c.bulk.mm7Dupe,
  MM7_VASP_LIMITS: (c) => c.bulk.vaspLimits,
  NOTIFY_WINDOW: (c) => c.notify.window,
  SENDER_NOTICE_URL: (c) => c.senderNotice.url,
  SENDER_NOTICE_FROM: (c) => c.senderNotice.from,
  SENDER_NOTICE_INTERVAL: (c) => c.senderNotice.intervalMs,
  QUARANTINE_DIR: (c) => c.forensics.quarantineDir,
  QUARANTINE_MAX_BYTES: (c) => c.forensics.quarantineMaxBytes,
  VERDICT_RETENTION: (c) => c.forensics.verdictRetentionMs,
};

/**
 * Settings a reload cannot apply: each is bound to something made once at start — a listener
 * (HOST, ports, the server timeouts), an upstream connection pool, the in-flight budget, the state
 * store, the logger's format, the address pseudonymiser, the notifier, the sender-notice client,
 * the admin listener's token. A reload keeps their running values. (QUARANTINE_* and
 * VERDICT_RETENTION do apply: Forensics.prepare opens a changed quarantine before the swap.)
 */
export const RESTART_ONLY: readonly string[] = [
  'HOST', 'MM1_PORT', 'MM7_PORT', 'ADMIN_PORT', 'ADMIN_HOST', 'ADMIN_TOKEN', 'SIM_PORT',
  'MM1_UPSTREAM_URL', 'MM7_UPSTREAM_URL', 'UPSTREAM_TIMEOUT', 'UPSTREAM_CONNECTIONS', 'REQUEST_TIMEOUT',
  'HEADERS_TIMEOUT', 'INFLIGHT_LIMIT', 'STATE_STORE', 'LOG_FORMAT', 'MSISDN_HASH_KEY', 'WORKERS',
  'NOTIFY_URL', 'NOTIFY_INTERVAL', 'NOTIFY_RATE', 'NOTIFY_WINDOW',
  'SENDER_NOTICE_URL', 'SENDER_NOTICE_FROM', 'SENDER_NOTICE_INTERVAL',
];

/** `next` with every restart-only setting as `running` has it. */
export function keepRunning(running: Config, next: Config): Config {
  const proto = (p: 'mm1' | 'mm7'): Config['mm1'] =>
    Object.freeze({ ...next[p], port: running[p].port, upstreamUrl: running[p].upstreamUrl });
  return Object.freeze({
    ...next,
    host: running.host, adminHost: running.adminHost, adminPort: running.adminPort, adminToken: running.adminToken,
    simPort: running.simPort, workers: running.workers, upstreamTimeoutMs: running.upstreamTimeoutMs,
    upstreamConnections: running.upstreamConnections, requestTimeoutMs: running.requestTimeoutMs,
    headersTimeoutMs: running.headersTimeoutMs, inflightLimit: running.inflightLimit, logFormat: running.logFormat,
    msisdnHashKey: running.msisdnHashKey, notify: running.notify, senderNotice: running.senderNotice,
    mm1: proto('mm1'), mm7: proto('mm7'),
    bulk: Object.freeze({ ...next.bulk, store: running.bulk.store }),
  });
}

/** A value as comparable text: Sets sorted, functions and RegExps by their source. */
function canonical(v: unknown): unknown {
  if (v instanceof Set) return [...v].map(canonical).map((x) => JSON.stringify(x)).sort();
  if (v instanceof Map) return [...v].map(([k, x]) => [String(k), canonical(x)]).sort();
  if (Array.isArray(v)) return v.map(canonical);
  if (v instanceof RegExp || typeof v === 'function') return String(v);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

/** The variables whose values differ between two configurations. */
export function changedSettings(a: Config, b: Config): string[] {
  return Object.entries(SETTINGS).filter(([, get]) => !same(get(a), get(b))).map(([name]) => name);
}

/** Where a refused reload went wrong, for its record. */
function problemOf(e: unknown): { file: string | null; line: number | null; variable: string | null; msg: string } {
  const msg = e instanceof Error ? e.message : String(e);
  const line = (n: number | undefined): number | null => (n === undefined || n <= 0 ? null : n);
  if (e instanceof ConfigError) return { file: e.file ?? null, line: line(e.line), variable: e.variable ?? null, msg };
  if (e instanceof FileProblem) return { file: e.file, line: line(e.line), variable: e.variable, msg };
  if (e instanceof ScanError && e.code === ScanErrorCode.SIGNATURE) {
    // "N bad signature line(s): FILE:LINE: reason; …" — the first one is named.
    const m = /bad signature line\(s\): (.+?):(\d+): /.exec(msg);
    return { file: m?.[1] ?? null, line: m === null ? null : line(Number(m[2])), variable: 'SIGNATURE_FILES', msg };
  }
  if (e instanceof ScanError && e.code === ScanErrorCode.SIGNATURE_IO) {
    const m = /cannot read signature file (.+): [A-Z0-9_]+$/.exec(msg);
    return { file: m?.[1] ?? null, line: null, variable: 'SIGNATURE_FILES', msg };
  }
  return { file: null, line: null, variable: null, msg };
}

/** The built-in engine's signature files as loaded (path and SHA-256), to tell whether a reload changed them. */
async function signatureFiles(engines: readonly ScanEngine[]): Promise<string> {
  const builtin = engines.find((e) => e.name === 'builtin');
  const info = await builtin?.describe?.(AbortSignal.timeout(2000)).catch(() => null);
  return JSON.stringify((info?.files ?? []).map((f) => [f.path, f.sha256]));
}

export interface ReloaderOptions {
  readonly runtime: ProxyRuntime;
  readonly log: Logger;
  /** Reads the configuration again: `loadConfig(process.env)` in main.ts. */
  readonly load: () => LoadedConfig;
  /** How often watched files are polled (ms; default 1 s). */
  readonly watchIntervalMs?: number;
  /** Where warning lines go (main.ts: stderr); each distinct line once per process. */
  readonly warn?: (line: string) => void;
  /** Warning lines already shown (at start). */
  readonly shown?: readonly string[];
  /**
   * Whether this process runs the retro-hunt (default true). With WORKERS only one worker does: the
   * verdict store is shared, and N hunts would report each match N times.
   */
  readonly retroHunt?: boolean;
}

export class Reloader {
  private readonly rt: ProxyRuntime;
  private readonly log: Logger;
  private readonly watchers = new Map<FileKey, FilePoller>();
  private queue: Promise<unknown> = Promise.resolve();
  /** A SIGHUP reload waiting for its turn: more SIGHUPs meanwhile join it. */
  private waiting: Promise<ReloadResult> | null = null;
  private readonly shown: Set<string>;
  private hunt: { readonly abort: AbortController; readonly base: readonly HashSignature[]; done: boolean } | null =
    null;
  private huntDone: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly o: ReloaderOptions) {
    this.rt = o.runtime;
    this.log = o.log;
    this.shown = new Set(o.shown ?? []);
    const { metrics } = this.rt.current;
    metrics.configGeneration.set(this.rt.generations.current.id);
    metrics.lastReloadSuccess.set(Date.now() / 1000);
  }

  /** Starts polling the watched files of the generation in force. */
  watch(): void {
    const gen = this.rt.generations.current;
    for (const f of FILE_SETTINGS) {
      const loaded = gen[f.key];
      if (loaded !== null) this.follow(f, loaded);
    }
  }

  /** A SIGHUP: reload everything (queued behind a reload already running; SIGHUPs meanwhile share one). */
  reload(): Promise<ReloadResult> {
    if (this.closed) {
      const generation = this.rt.generations.current.id;
      return Promise.resolve({ ok: false, generation, file: null, line: null, variable: null, msg: 'shutting down' });
    }
    if (this.waiting !== null) return this.waiting;
    const p = this.enqueue(async () => {
      this.waiting = null;
      return this.reloadNow();
    });
    this.waiting = p;
    return p;
  }

  /** Stops the polls and any retro-hunt (shutdown). Resolves when the hunt has stopped. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.hunt?.abort.abort();
    await this.huntDone;
  }

  /** Resolves when the retro-hunt started by the last swap (if any) is over. */
  huntFinished(): Promise<void> {
    return this.huntDone;
  }

  private enqueue<T>(f: () => Promise<T>): Promise<T> {
    const p = this.queue.then(f, f);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async reloadNow(): Promise<ReloadResult> {
    const { metrics } = this.rt.current;
    const old = this.rt.generations.current;
    let built: readonly ScanEngine[] = [];
    let forensics: Awaited<ReturnType<ProxyRuntime['current']['forensics']['prepare']>> | null = null;
    let next: Generation;
    let loaded: LoadedConfig;
    let restartRequired: string[];
    try {
      // 1. Everything is read and validated; nothing in force changes until all of it is good.
      loaded = this.o.load();
      restartRequired = RESTART_ONLY.filter((v) => !same(SETTINGS[v]?.(old.config), SETTINGS[v]?.(loaded.config)));
      const config = keepRunning(old.config, loaded.config);
      checkKept(config);
      const files: Partial<Record<FileKey, LoadedFile<unknown> | null>> = {};
      for (const f of FILE_SETTINGS) {
        const path = f.path(config);
        files[f.key] = path === null ? null : loadFile(f, path);
      }
      // 2. Engines off the request path: a new built-in engine from the files; clamd/ICAP kept when unchanged.
      const engines = await buildEngines(config.scan, { scan: old.config.scan, engines: old.engines });
      built = engines.filter((e) => !old.engines.includes(e));
      // 3. A changed QUARANTINE_DIR / QUARANTINE_MAX_BYTES: the new quarantine opens (or refuses) now.
      forensics = await this.rt.current.forensics.prepare(config);
      next = Object.freeze({
        ...old, ...files, id: old.id + 1, config, engines: Object.freeze(engines),
        hashSignatures: hashSignaturesOf(engines), files: Object.freeze([...loaded.files]),
      }) as Generation;
    } catch (e) {
      await Promise.all(built.map((x) => x.close().catch(() => undefined)));
      await forensics?.abort().catch(() => undefined);
      const p = problemOf(e);
      metrics.reloads.inc({ result: 'failed' });
      this.log.error({
        event: 'reload', ok: false, generation: old.id, file: p.file, line: p.line, variable: p.variable,
        msg: `${p.msg}; configuration ${old.id} kept`,
      });
      return { ok: false, generation: old.id, ...p };
    }
    // 4. The swap: messages arriving from now on get `next`.
    const changed = changedSettings(old.config, next.config);
    for (const f of FILE_SETTINGS) {
      if (!changed.includes(f.variable) && old[f.key]?.sha256 !== next[f.key]?.sha256) changed.push(f.variable);
    }
    if (!changed.includes('SIGNATURE_FILES')
      && (await signatureFiles(old.engines)) !== (await signatureFiles(next.engines))) {
      changed.push('SIGNATURE_FILES');
    }
    this.swap(next);
    forensics.commit();
    this.log.level = next.config.logLevel;
    for (const f of FILE_SETTINGS) this.refollow(f, next[f.key]);
    metrics.reloads.inc({ result: 'ok' });
    metrics.lastReloadSuccess.set(Date.now() / 1000);
    this.log.info({
      event: 'reload', ok: true, generation: next.id, changed,
      msg: `configuration ${next.id} in force for new messages` +
        `${changed.length > 0 ? ` (changed: ${changed.join(', ')})` : ' (nothing changed)'}`,
    });
    if (restartRequired.length > 0) {
      this.log.warn({
        event: 'reload-restart-required', generation: next.id, variables: restartRequired,
        msg: `${restartRequired.join(', ')} changed but cannot change while running: the running values stay ` +
          'until a restart',
      });
    }
    for (const w of loaded.warnings) {
      if (this.shown.has(w)) continue;
      this.shown.add(w);
      this.o.warn?.(w);
    }
    this.retroHunt(old, next);
    return { ok: true, generation: next.id, changed, restartRequired };
  }

  /** Every generation change goes through here (SIGHUP and watched files). */
  private swap(next: Generation): void {
    const { metrics } = this.rt.current;
    this.rt.swap(next);
    metrics.configGeneration.set(next.id);
  }

  /** Polls a file setting's file; a good change becomes a generation holding it. */
  private follow(f: FileSetting, loaded: LoadedFile<unknown>): void {
    if (this.closed) return;
    const w = f.watcher(loaded.path, this.log, loaded);
    w.onChange((l) => void this.enqueue(async () => this.fileChanged(f, loaded.path, l)));
    w.watch(this.o.watchIntervalMs);
    this.watchers.set(f.key, w);
  }

  /** After a reload: the poll follows the generation's file (same path: its contents; new path: a new poll). */
  private refollow(f: FileSetting, loaded: LoadedFile<unknown> | null): void {
    const w = this.watchers.get(f.key);
    if (w !== undefined && loaded !== null && w.path === loaded.path) {
      w.set(loaded);
      return;
    }
    w?.close();
    this.watchers.delete(f.key);
    if (loaded !== null) this.follow(f, loaded);
  }

  private fileChanged(f: FileSetting, path: string, l: { value: unknown; sha256: string }): Promise<void> {
    const cur = this.rt.generations.current;
    // A reload moved the setting to another file meanwhile: this poll is stale.
    if (this.closed || cur[f.key]?.path !== path) return Promise.resolve();
    const next = Object.freeze({ ...cur, id: cur.id + 1, [f.key]: Object.freeze({ path, ...l }) }) as Generation;
    this.swap(next);
    return Promise.resolve();
  }

  /**
   * The retro-hunt after a swap that added built-in hash signatures: off the request path, one at a
   * time; a hunt still running is aborted and the new one hunts what it had not finished as well.
   */
  private retroHunt(old: Generation, next: Generation): void {
    const prev = this.hunt;
    prev?.abort.abort();
    const before = prev !== null && !prev.done ? prev.base : old.hashSignatures;
    if (this.closed || this.o.retroHunt === false || before === null || next.hashSignatures === null) {
      this.hunt = null;
      return;
    }
    const signatures = newHashSignatures(before, next.hashSignatures);
    if (signatures.length === 0) {
      this.hunt = null;
      return;
    }
    const ctx = this.rt.current;
    const store = ctx.forensics.store;
    const quarantine = ctx.forensics.quarantine;
    const builtin = next.engines.find((e) => e.name === 'builtin') ?? null;
    const hunt = { abort: new AbortController(), base: before, done: false };
    this.hunt = hunt;
    const { signal } = hunt.abort;
    // Pinned: the new built-in engine must not be closed under the quarantine re-scan.
    const pin = this.rt.generations.pin();
    const scan = builtin === null ? null : async (data: Buffer, meta: { sha256: string }): Promise<string[]> => {
      const o = await builtin.scan({ path: `quarantine/${meta.sha256}`, data }, signal);
      return o.kind === 'infected' ? [o.name] : [];
    };
    const onMatch = (m: RetroHuntMatch): void => this.matched(m, next.id);
    const previous = this.huntDone;
    const run = async (): Promise<void> => {
      await previous;
      const started = Date.now();
      try {
        const s = await runRetroHunt({ signatures, now: started, store, quarantine, scan, signal }, onMatch);
        this.log.info({
          event: 'retrohunt-done', generation: next.id, signatures: s.signatures, delivered_matches: s.deliveredMatches,
          quarantine_scanned: s.quarantineScanned, quarantine_matches: s.quarantineMatches, aborted: s.aborted,
          ms: Date.now() - started,
          msg: `retro-hunt for ${signatures.length} new hash signature(s): ` +
            `${s.deliveredMatches + s.quarantineMatches} match(es)${s.aborted ? ' (aborted)' : ''}`,
        });
      } catch (e) {
        const msg = `retro-hunt failed: ${(e as Error).message}`;
        this.log.error({ event: 'retrohunt-failed', generation: next.id, msg });
      } finally {
        hunt.done = !signal.aborted;
        pin.release();
      }
    };
    this.huntDone = run();
  }

  private matched(m: RetroHuntMatch, generation: number): void {
    const ctx = this.rt.current;
    ctx.metrics.retroHuntMatches.inc({ source: m.source });
    const rec = m.source === 'delivered'
      ? {
        event: 'retrohunt', source: m.source, generation, service: m.service, transactionid: m.transactionId,
        messageid: m.messageId, sha256: m.sha256, size: m.size, signature: m.signature, algo: m.algo,
        delivered_at: m.deliveredAt,
        msg: `part ${m.sha256} of ${m.transactionId}, delivered ${m.deliveredAt}, matches new signature ${m.signature}`,
      }
      : {
        event: 'retrohunt', source: m.source, generation, transactionids: m.transactionIds, sha256: m.sha256,
        size: m.size, signature: m.signature, last_seen: m.lastSeen,
        msg: `quarantined part ${m.sha256} now matches ${m.signature}`,
      };
    this.log.warn(rec);
    ctx.notifier?.notify('retrohunt', `${m.source}:${m.sha256}:${m.signature}`, rec);
  }
}

/**
 * The cross-setting rule a kept running value can break: a comfort interval must stay shorter than
 * the timeouts it keeps alive (config.ts checks the new values against each other; a reload keeps
 * the running REQUEST_TIMEOUT and UPSTREAM_TIMEOUT).
 */
function checkKept(c: Config): void {
  for (const p of ['mm1', 'mm7'] as const) {
    const proto = c[p];
    if (!proto.clientComfort && !proto.serverComfort) continue;
    const limit = proto.comfortIntervalMs >= c.requestTimeoutMs ? 'REQUEST_TIMEOUT'
      : proto.comfortIntervalMs >= c.upstreamTimeoutMs ? 'UPSTREAM_TIMEOUT' : null;
    if (limit === null) continue;
    const variable = `${p.toUpperCase()}_COMFORT_INTERVAL`;
    throw new ConfigError(
      `invalid configuration: ${variable}: must be shorter than the running ${limit} (which changes only on restart)`,
      variable, c.configFile ?? undefined,
    );
  }
}
