/** What the routes need at run time; built once in main.ts (or by tests), passed in. */
import type { Logger } from 'pino';
import type { ScanEngine } from '@mmsguard/scan';
import { ComfortScheduler } from '@mmsguard/comfort';
import {
  MemoryStore, parseMsisdnList, type CounterStore, type ListRule, type QuotaStore, type VaspLimits,
} from '@mmsguard/policy';
import { RedisStore } from '@mmsguard/state-redis';
import { VerdictCache } from './verdict-cache.js';
import { parseVaspFile, quotaStoreFor } from './pipeline/quota.js';
import { WatchedFile } from './watched-file.js';
import { Templates, parseTemplates, type TemplateName, type TemplateVars } from './templates.js';
import { Notifier } from './notifier.js';
import { SenderNotices } from './sender-notice.js';
import { ByteBudget } from './budget.js';
import type { Config } from './config.js';
import { addressRedactor } from './log.js';
import { Metrics } from './metrics.js';
import { Forensics } from './forensics.js';
import type { Upstream } from './upstream.js';

export interface ProxyContext {
  readonly config: Config;
  readonly engines: readonly ScanEngine[];
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
  /** Recent blocked verdicts, so a handset's retries are refused at once. */
  readonly verdicts: VerdictCache;
  /** Flood/duplicate state; null when no threshold is configured. */
  readonly bulkStore: CounterStore | null;
  /** The MSISDN list (hot-reloaded), or null. */
  readonly msisdnList: WatchedFile<readonly ListRule[]> | null;
  /** MM7_VASP_LIMITS (per-VASP quotas, pipeline/quota.ts), or null: none. */
  readonly vaspLimits: { readonly path: string; readonly value: VaspLimits } | null;
  /** The VASP buckets (STATE_STORE); null when MM7_VASP_LIMITS is not set. */
  readonly quotaStore: QuotaStore | null;
  /** The reply templates file (REPLY_TEMPLATES, hot-reloaded), or null: the defaults. */
  readonly templates: WatchedFile<Templates> | null;
  /** A reply text from the templates. */
  text(name: TemplateName, vars?: TemplateVars): string;
  readonly notifier: Notifier | null;
  /** MMS notices to blocked senders (SENDER_NOTICE_URL), or null. */
  readonly senderNotices: SenderNotices | null;
  /**
   * Logs one UTM record and hands it to the notifier: blocking events by default; `alert` overrides
   * that for flood and duplicate records, whose thresholds say themselves whether to alert.
   */
  utm(record: Record<string, unknown>, alert?: boolean): void;
  /** The next `sessionid`: one counter for MM1 and MM7, so an id names one message in this process. */
  nextSessionId(): number;
  /** Verdict lookup (VERDICT_RETENTION) and quarantine (QUARANTINE_DIR, opened by proxy.listen). */
  readonly forensics: Forensics;
}

export function createContext(
  config: Config, engines: readonly ScanEngine[], log: Logger,
  mm1Upstream: Upstream, mm7Upstream: Upstream = mm1Upstream,
): ProxyContext {
  const metrics = new Metrics();
  const notifier = config.notify.url === null ? null : new Notifier({
    url: config.notify.url, intervalMs: config.notify.intervalMs, perSecond: config.notify.perSecond,
    window: config.notify.window,
    onResult: (result) => metrics.notifications.inc({ result }),
  }, log);
  const { bulk } = config;
  const templates = config.replyTemplates === null ? null : templateFile(config.replyTemplates, log);
  const defaults = Templates.defaults();
  const counted = bulk.flood.length + bulk.dupe.length + bulk.mm7Flood.length + bulk.mm7Dupe.length > 0;
  const store = config.bulk.store;
  const bulkStore = !counted ? null : store === 'memory' ? new MemoryStore() : new RedisStore(store);
  let sessions = 0;
  if (bulkStore !== null) {
    metrics.countBlocksWith(async (prefix) => (await bulkStore.listBlocks(prefix, Date.now())).length);
  }
  const { senderNotice } = config;
  return {
    notifier, metrics, bulkStore,
    senderNotices: senderNotice.url === null
      ? null
      : new SenderNotices(
        { ...senderNotice, url: senderNotice.url, timeoutMs: config.upstreamTimeoutMs }, metrics, log, bulkStore,
      ),
    utm: (record, alert) => {
      log.warn(record);
      if (alert !== false) notifier?.onUtm(record, alert === true);
    },
    nextSessionId: () => ++sessions,
    forensics: new Forensics(config, log, metrics),
    config, engines, log, mm1Upstream, mm7Upstream,
    budget: new ByteBudget(config.inflightLimit),
    redact: addressRedactor(config.msisdnHashKey),
    comfort: new ComfortScheduler(),
    verdicts: new VerdictCache(),
    msisdnList: config.bulk.msisdnList === null ? null : msisdnListFile(config.bulk.msisdnList, log),
    vaspLimits: config.bulk.vaspLimits === null
      ? null
      : new WatchedFile('MM7_VASP_LIMITS', config.bulk.vaspLimits, parseVaspFile, log, (l) => l.byVasp.size),
    quotaStore: config.bulk.vaspLimits === null ? null : quotaStoreFor(config.bulk.store),
    templates,
    // {date} is always known: when the reply was written (UTC).
    text: (name, vars) => {
      const date = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      return (templates?.value ?? defaults).render(name, { date, ...vars });
    },
  };
}

export function msisdnListFile(path: string, log: Logger | null): WatchedFile<readonly ListRule[]> {
  return new WatchedFile<readonly ListRule[]>('MSISDN_LIST', path, (t) => {
    const { rules, problems } = parseMsisdnList(t);
    return { value: rules, problems };
  }, log, (r) => r.length);
}

export function templateFile(path: string, log: Logger | null): WatchedFile<Templates> {
  return new WatchedFile('REPLY_TEMPLATES', path, parseTemplates, log, (t) => t.size);
}
