/**
 * What the routes need at run time. Two halves:
 * - the shared services (logger, metrics, budget, upstreams, stores, notifier …), made once at start;
 * - the generation (generation.ts): configuration, engines, MSISDN list, templates, swapped whole
 *   by a reload.
 * A message sees one ProxyContext: the shared services and the generation that was in force when it
 * arrived (the route pins it, `ProxyRuntime.run`). Nothing a message can reach reads a newer one.
 */
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import type { ScanEngine } from '@mmsguard/scan';
import { ComfortScheduler } from '@mmsguard/comfort';
import { parseMsisdnList, type CounterStore, type ListRule, type QuotaStore, type VaspLimits } from '@mmsguard/policy';
import { VerdictCache } from './verdict-cache.js';
import { parseVaspFile } from './pipeline/quota.js';
import { localStores, type StateStores } from './stores.js';
import { WatchedFile, type Loaded } from './watched-file.js';
import { Forensics } from './forensics.js';
import { Templates, parseTemplates, type TemplateName, type TemplateVars } from './templates.js';
import { Notifier } from './notifier.js';
import { SenderNotices } from './sender-notice.js';
import { ByteBudget } from './budget.js';
import type { Config } from './config.js';
import { hashSignaturesOf } from './engines.js';
import { Generations, type Generation, type LoadedFile } from './generation.js';
import { addressRedactor } from './log.js';
import { Metrics } from './metrics.js';
import type { Upstream } from './upstream.js';

/** Made once at start, the same for every generation. */
export interface SharedServices {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly budget: ByteBudget;
  readonly mm1Upstream: Upstream;
  /** Where MM7 requests go (MMSC for SubmitReq, VASP for DeliverReq). */
  readonly mm7Upstream: Upstream;
  /** Pseudonymises an address for the logs when MSISDN_HASH_KEY is set. */
  readonly redact: (s: string | null) => string | null;
  /** The one timer behind every comforted transfer. */
  readonly comfort: ComfortScheduler;
  /** Flood/duplicate state; null when no threshold is configured. */
  readonly bulkStore: CounterStore | null;
  /**
   * The VASP buckets (STATE_STORE), made when a generation first sets MM7_VASP_LIMITS (pipeline/quota.ts);
   * null before.
   */
  readonly quotaStore: QuotaStore | null;
  readonly notifier: Notifier | null;
  /** MMS notices to blocked senders (SENDER_NOTICE_URL), or null. */
  readonly senderNotices: SenderNotices | null;
  /**
   * Logs one UTM record and hands it to the notifier: blocking events by default; `alert` overrides
   * that for flood and duplicate records, whose thresholds say themselves whether to alert.
   */
  readonly utm: (record: Record<string, unknown>, alert?: boolean) => void;
  /** The next `sessionid`: one counter for MM1 and MM7, so an id names one message in this process. */
  readonly nextSessionId: () => number;
  /** Verdict lookup (VERDICT_RETENTION) and quarantine (QUARANTINE_DIR, opened by proxy.listen). */
  readonly forensics: Forensics;
}

/** One message's view: the shared services and the generation pinned when it arrived. */
export interface ProxyContext extends SharedServices {
  readonly gen: Generation;
  readonly config: Config;
  readonly engines: readonly ScanEngine[];
  /** The MSISDN list in force (file path and rules), or null. */
  readonly msisdnList: { readonly path: string; readonly value: readonly ListRule[] } | null;
  /** The MM7_VASP_LIMITS rules in force (file path and rules), or null: no per-VASP quotas. */
  readonly vaspLimits: { readonly path: string; readonly value: VaspLimits } | null;
  /** The reply templates in force (REPLY_TEMPLATES, or the defaults). */
  readonly templates: Templates;
  /**
   * Recent blocked verdicts, so a handset's retries are refused at once. One cache per generation:
   * a verdict reached under rules a reload replaced is not replayed to messages judged by the new ones.
   */
  readonly verdicts: VerdictCache;
  /** A reply text from the templates. */
  text(name: TemplateName, vars?: TemplateVars): string;
}

/** The proxy's run-time state: the shared services and its generations. */
export interface ProxyRuntime {
  readonly generations: Generations<ProxyContext>;
  /** The view of the generation in force, unpinned: for what is not a message (admin, shutdown). */
  readonly current: ProxyContext;
  /** Handles a message: `f` gets the generation in force, pinned until its promise settles. */
  run<T>(f: (ctx: ProxyContext) => Promise<T>): Promise<T>;
  /** Makes the next generation current (reload.ts); shared services it needs are made here. */
  swap(next: Generation): Generation;
  /** Closes what the shared services hold (after the listeners closed). */
  close(): Promise<void>;
}

function bulkCounted(c: Config): boolean {
  const { bulk } = c;
  return bulk.flood.length + bulk.dupe.length + bulk.mm7Flood.length + bulk.mm7Dupe.length > 0;
}

/**
 * Session ids are unique among the processes serving at one time: with WORKERS each worker numbers
 * its own messages, interleaved by its cluster id (a replacement worker has a new id), so the same
 * `sessionid` in two UTM records is the same message.
 */
const SESSION_ID_STRIDE = cluster.isWorker ? 128 : 1;
const sessionIdOffset = cluster.isWorker ? (cluster.worker?.id ?? 0) % SESSION_ID_STRIDE : 0;

/** The services every generation shares. */
function createShared(config: Config, log: Logger, mm1Upstream: Upstream, mm7Upstream: Upstream, stores: StateStores) {
  const metrics = new Metrics();
  const notifier = config.notify.url === null ? null : new Notifier({
    url: config.notify.url, intervalMs: config.notify.intervalMs, perSecond: config.notify.perSecond,
    window: config.notify.window,
    onResult: (result) => metrics.notifications.inc({ result }),
  }, log);
  let sessions = 0;
  const { senderNotice } = config;
  const shared = {
    log, metrics, notifier, mm1Upstream, mm7Upstream,
    bulkStore: null as CounterStore | null,
    quotaStore: null as QuotaStore | null,
    senderNotices: null as SenderNotices | null,
    utm: (record: Record<string, unknown>, alert?: boolean) => {
      log.warn(record);
      if (alert !== false) notifier?.onUtm(record, alert === true);
    },
    nextSessionId: () => ++sessions * SESSION_ID_STRIDE + sessionIdOffset,
    forensics: new Forensics(config, log, metrics, stores.verdicts(), stores.quarantine?.() ?? null),
    budget: new ByteBudget(config.inflightLimit),
    redact: addressRedactor(config.msisdnHashKey),
    comfort: new ComfortScheduler(),
    /**
     * The flood/duplicate and quota stores, made when a generation first needs them: at start, or by
     * the first reload that sets a threshold or MM7_VASP_LIMITS (STATE_STORE itself is read at start
     * only; sender notices made before the store keep their per-instance count).
     */
    ensureStores(c: Config): void {
      if (shared.quotaStore === null && c.bulk.vaspLimits !== null) {
        shared.quotaStore = stores.quota();
      }
      if (shared.bulkStore !== null || !bulkCounted(c)) return;
      const store = stores.counter();
      shared.bulkStore = store;
      metrics.countBlocksWith(async (prefix) => (await store.listBlocks(prefix, Date.now())).length);
    },
  };
  metrics.inflightOf = () => shared.budget.inUse;
  shared.ensureStores(config);
  shared.senderNotices = senderNotice.url === null ? null : new SenderNotices(
    { ...senderNotice, url: senderNotice.url, timeoutMs: config.upstreamTimeoutMs }, metrics, log, shared.bulkStore,
  );
  return shared;
}

/** One generation's view for its messages. */
function viewOf(shared: SharedServices, gen: Generation): ProxyContext {
  const templates = gen.replyTemplates?.value ?? DEFAULT_TEMPLATES;
  return Object.freeze({
    log: shared.log, metrics: shared.metrics, budget: shared.budget,
    mm1Upstream: shared.mm1Upstream, mm7Upstream: shared.mm7Upstream, redact: shared.redact,
    comfort: shared.comfort, verdicts: new VerdictCache(), bulkStore: shared.bulkStore, notifier: shared.notifier,
    senderNotices: shared.senderNotices, utm: shared.utm, nextSessionId: shared.nextSessionId,
    forensics: shared.forensics, quotaStore: shared.quotaStore,
    gen, config: gen.config, engines: gen.engines, templates, msisdnList: gen.msisdnList, vaspLimits: gen.vaspLimits,
    // {date} is always known: when the reply was written (UTC).
    text: (name: TemplateName, vars?: TemplateVars) => {
      const date = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      return templates.render(name, { date, ...vars });
    },
  });
}

const DEFAULT_TEMPLATES = Templates.defaults();

/**
 * The files a generation holds besides the configuration: which variable names each, the poller
 * that re-reads it when it changes (it loads the file when made), and where the generation keeps it.
 */
export interface FileSetting {
  readonly variable: string;
  readonly key: FileKey;
  path(c: Config): string | null;
  /** The poller of `path`; it loads the file (throws FileProblem) unless given what was loaded. */
  watcher(path: string, log: Logger | null, initial?: Loaded<unknown>): FilePoller;
}

/** A WatchedFile, whatever it holds. */
export interface FilePoller {
  readonly path: string;
  readonly loaded: Loaded<unknown>;
  set(v: Loaded<unknown>): void;
  onChange(f: (v: Loaded<unknown>) => void): void;
  watch(intervalMs?: number): void;
  close(): void;
}

export type FileKey = 'msisdnList' | 'replyTemplates' | 'vaspLimits';

export const FILE_SETTINGS: readonly FileSetting[] = [
  { variable: 'MSISDN_LIST', key: 'msisdnList', path: (c) => c.bulk.msisdnList, watcher: msisdnListFile },
  { variable: 'REPLY_TEMPLATES', key: 'replyTemplates', path: (c) => c.replyTemplates, watcher: templateFile },
  { variable: 'MM7_VASP_LIMITS', key: 'vaspLimits', path: (c) => c.bulk.vaspLimits, watcher: vaspLimitsFile },
];

/** Reads and validates one file setting; throws FileProblem naming file:line. */
export function loadFile(f: FileSetting, path: string): LoadedFile<unknown> {
  const { value, sha256 } = f.watcher(path, null).loaded;
  return Object.freeze({ path, value, sha256 });
}

/** Each file the configuration names, loaded (throws FileProblem naming file:line). */
export function loadFiles(c: Config): Pick<Generation, FileKey> {
  const out: Record<FileKey, LoadedFile<unknown> | null> = { msisdnList: null, replyTemplates: null, vaspLimits: null };
  for (const f of FILE_SETTINGS) {
    const path = f.path(c);
    if (path !== null) out[f.key] = loadFile(f, path);
  }
  return out as Pick<Generation, FileKey>;
}

/** The start's generation: the configuration, its engines, and the files it names. */
export function firstGeneration(
  config: Config, engines: readonly ScanEngine[], files: readonly string[] = [],
): Generation {
  return Object.freeze({
    id: 1, config, engines: Object.freeze([...engines]), hashSignatures: hashSignaturesOf(engines),
    ...loadFiles(config), files: Object.freeze([...files]),
  });
}

export function createRuntime(
  first: Generation, log: Logger, mm1Upstream: Upstream, mm7Upstream: Upstream = mm1Upstream,
  stores: StateStores = localStores(first.config.bulk.store),
): ProxyRuntime {
  const shared = createShared(first.config, log, mm1Upstream, mm7Upstream, stores);
  const generations = new Generations<ProxyContext>(first, (g) => viewOf(shared, g));
  return {
    generations,
    get current() {
      return generations.currentView;
    },
    run: (f) => generations.run(f),
    swap(next) {
      shared.ensureStores(next.config);
      return generations.swap(next);
    },
    async close() {
      await shared.senderNotices?.drain();
      await shared.bulkStore?.close();
      await shared.forensics.close();
      await shared.quotaStore?.close();
      shared.notifier?.close();
      await generations.close();
    },
  };
}

/** The context of one generation made from a configuration and engines (tests, tools). */
export function createContext(
  config: Config, engines: readonly ScanEngine[], log: Logger,
  mm1Upstream: Upstream, mm7Upstream: Upstream = mm1Upstream,
): ProxyContext {
  return createRuntime(firstGeneration(config, engines), log, mm1Upstream, mm7Upstream).current;
}

function parseList(t: string): { value: readonly ListRule[]; problems: { line: number; reason: string }[] } {
  const { rules, problems } = parseMsisdnList(t);
  return { value: rules, problems };
}

/** MSISDN_LIST: loaded now (throws FileProblem naming file:line); `watch()` re-reads it on change. */
export function msisdnListFile(
  path: string, log: Logger | null, initial?: Loaded<readonly ListRule[]>,
): WatchedFile<readonly ListRule[]> {
  return new WatchedFile<readonly ListRule[]>('MSISDN_LIST', path, parseList, log, (r) => r.length, initial);
}

/** REPLY_TEMPLATES: loaded now; `watch()` re-reads it on change. */
export function templateFile(path: string, log: Logger | null, initial?: Loaded<Templates>): WatchedFile<Templates> {
  return new WatchedFile('REPLY_TEMPLATES', path, parseTemplates, log, (t) => t.size, initial);
}

/** MM7_VASP_LIMITS: loaded now; `watch()` re-reads it on change. */
export function vaspLimitsFile(
  path: string, log: Logger | null, initial?: Loaded<VaspLimits>,
): WatchedFile<VaspLimits> {
  return new WatchedFile<VaspLimits>('MM7_VASP_LIMITS', path, parseVaspFile, log,
    (l) => l.byVasp.size + (l.fallback === null ? 0 : 1), initial);
}
