/**
 * The proxy's configuration: every variable of CONTRACT §2 plus ours,
 * validated once at start, frozen, passed in. Nothing else reads
 * process.env. docs/config.md lists every variable (kept true by a test).
 */
import { z } from 'zod';
import { parseClamdAddresses } from '@mmsguard/scan-clamd';
import { parsePrefixRules, parseThresholds, type PrefixRule, type Threshold } from '@mmsguard/policy';
import { parseWindow, type WindowRule } from './schedule.js';

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?$/i;
const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** "10MiB", "300KB", "1048576" -> bytes. KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024. */
export function parseSize(s: string): number | null {
  const m = SIZE.exec(s.trim());
  if (m === null) return null;
  const n = Math.round(Number(m[1]) * (UNITS[(m[2] ?? 'b').toLowerCase()] ?? 1));
  return Number.isSafeInteger(n) ? n : null;
}

const size = (def: string) =>
  z
    .string()
    .default(def)
    .transform((s, ctx) => {
      const n = parseSize(s);
      if (n === null || n <= 0) {
        ctx.addIssue({ code: 'custom', message: `'${s}' is not a size (bytes, or KB/MB/KiB/MiB)` });
        return z.NEVER;
      }
      return n;
    });

const seconds = (def: string, max = 86_400) =>
  z
    .string()
    .default(def)
    .transform((s, ctx) => {
      const n = Number(s);
      if (s.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max) {
        ctx.addIssue({ code: 'custom', message: `'${s}' is not a number of seconds in (0, ${max}]` });
        return z.NEVER;
      }
      return Math.round(n * 1000);
    });

const port = (def: string) => z.string().default(def).transform(Number).pipe(z.number().int().min(0).max(65535));
const onOff = (def: 'on' | 'off') => z.enum(['on', 'off']).default(def).transform((v) => v === 'on');
const list = (s: string | undefined): string[] => (s ?? '').split(',').map((x) => x.trim()).filter((x) => x.length > 0);
const url = z
  .string()
  .optional()
  .refine((s) => s === undefined || s === '' || /^https?:\/\/[^/\s]+/i.test(s), 'must be an http:// or https:// URL')
  .transform((s) => (s === undefined || s === '' ? null : s.replace(/\/+$/, '')));

/** A variable read by one of our parsers; its RangeError becomes the variable's one-line message. */
function parsedWith<T>(parse: (spec: string) => T) {
  return z.string().default('').transform((x, ctx): T => {
    try {
      return parse(x);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });
}

const scanSchema = {
  SCAN_ENGINES: z.string().default('builtin').transform(list).pipe(z.array(z.enum(['builtin', 'clamd'])).min(1, 'at least one engine')),
  CLAMD_ADDRESS: z.string().optional(),
  SCAN_TIMEOUT: seconds('30', 3600),
  SCAN_ERROR_ACTION: z.enum(['block', 'pass']).default('block'),
  SIGNATURE_FILES: z.string().optional().transform(list),
  FILE_FILTER: z.string().optional().transform((s) => list(s).map((x) => x.toLowerCase())),
};

function checkClamd(v: { SCAN_ENGINES: string[]; CLAMD_ADDRESS?: string | undefined }, ctx: z.RefinementCtx): void {
  if (!v.SCAN_ENGINES.includes('clamd')) return;
  if (v.CLAMD_ADDRESS === undefined || v.CLAMD_ADDRESS.trim() === '') {
    ctx.addIssue({ code: 'custom', path: ['CLAMD_ADDRESS'], message: 'required when SCAN_ENGINES lists clamd' });
    return;
  }
  try {
    parseClamdAddresses(v.CLAMD_ADDRESS);
  } catch (e) {
    ctx.addIssue({ code: 'custom', path: ['CLAMD_ADDRESS'], message: (e as Error).message });
  }
}

const objectSchema = z.object({
    HOST: z.string().default('0.0.0.0'),
    MM1_PORT: port('8080'),
    MM1_UPSTREAM_URL: url,
    MM7_PORT: port('8081'),
    MM7_UPSTREAM_URL: url,
    ADMIN_PORT: port('9090'),
    ADMIN_HOST: z.string().default('127.0.0.1'),
    MM1_OVERSIZE_LIMIT: size('10MiB'),
    MM7_OVERSIZE_LIMIT: size('10MiB'),
    MM1_OVERSIZE_ACTION: z.enum(['block', 'pass']).default('block'),
    MM7_OVERSIZE_ACTION: z.enum(['block', 'pass']).default('block'),
    MM1_CLIENT_COMFORT: onOff('off'),
    MM7_CLIENT_COMFORT: onOff('off'),
    MM1_SERVER_COMFORT: onOff('off'),
    MM7_SERVER_COMFORT: onOff('off'),
    MM1_COMFORT_INTERVAL: seconds('10', 3600),
    MM7_COMFORT_INTERVAL: seconds('10', 3600),
    MM1_COMFORT_AMOUNT: size('1'),
    MM7_COMFORT_AMOUNT: size('1'),
    ...scanSchema,
    UNSCANNABLE_ACTION: z.enum(['block', 'pass']).default('block'),
    REMOVE_BLOCKED: onOff('off'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LOG_FORMAT: z.enum(['json', 'kv']).default('json'),
    MSISDN_HASH_KEY: z.string().optional().transform((s) => (s === undefined || s === '' ? null : s)),
    INFLIGHT_LIMIT: size('256MiB'),
    UPSTREAM_TIMEOUT: seconds('60', 3600),
    UPSTREAM_CONNECTIONS: z.string().default('1024').transform(Number).pipe(z.number().int().min(1).max(65536)),
    REQUEST_TIMEOUT: seconds('300', 86_400),
    SHUTDOWN_TIMEOUT: seconds('10', 600),
    SIM_PORT: port('8090'),
    TRUSTED_GATEWAYS: z.string().optional().transform((x) => list(x).map((a) => a.replace(/^::ffff:/, ''))),
    MSISDN_HEADER: z.string().default('x-wap-network-client-msisdn').transform((x) => x.trim().toLowerCase()),
    ADMIN_TOKEN: z.string().optional().transform((x) => (x === undefined || x === '' ? null : x)),
    HEADERS_TIMEOUT: seconds('30', 600),
    FLOOD_THRESHOLDS: parsedWith(parseThresholds),
    DUPE_THRESHOLDS: parsedWith(parseThresholds),
    STATE_STORE: z.string().default('memory').refine((x) => x === 'memory' || /^rediss?:\/\/[^\s]+$/.test(x), 'must be memory or redis://host:port'),
    STATE_STORE_FAILURE: z.enum(['open', 'closed']).default('open'),
    BULK_BLOCK_REPLY: z.enum(['deny', 'hide']).default('deny'),
    NOTIFY_URL: url,
    NOTIFY_INTERVAL: seconds('60', 86_400),
    NOTIFY_RATE: z.string().default('5').transform(Number).pipe(z.number().positive().max(1000)),
    MSISDN_LIST: z.string().optional().transform((x) => (x === undefined || x.trim() === '' ? null : x.trim())),
    REPLY_TEMPLATES: z.string().optional().transform((x) => (x === undefined || x.trim() === '' ? null : x.trim())),
    MSISDN_HEADER_ENCODING: z.enum(['plain', 'hex']).default('plain'),
    MSISDN_PREFIX_RULES: parsedWith(parsePrefixRules),
    MM7_FLOOD_THRESHOLDS: parsedWith(parseThresholds),
    MM7_DUPE_THRESHOLDS: parsedWith(parseThresholds),
    NOTIFY_WINDOW: parsedWith(parseWindow),
    SENDER_NOTICE_URL: url,
    SENDER_NOTICE_FROM: z.string().optional().transform((x) => (x === undefined || x.trim() === '' ? null : x.trim())),
    SENDER_NOTICE_INTERVAL: seconds('3600', 30 * 86_400),
});

const schema = objectSchema
  .superRefine(checkClamd)
  .superRefine((v, ctx) => {
    if (v.MM1_PORT !== 0 && (v.MM1_PORT === v.ADMIN_PORT || v.MM1_PORT === v.MM7_PORT)) {
      ctx.addIssue({ code: 'custom', path: ['MM1_PORT'], message: 'MM1_PORT, MM7_PORT and ADMIN_PORT must differ' });
    }
    for (const p of ['MM1', 'MM7'] as const) {
      if (!v[`${p}_CLIENT_COMFORT`] && !v[`${p}_SERVER_COMFORT`]) continue;
      const interval = v[`${p}_COMFORT_INTERVAL`];
      // A comfort interval at or above a timeout would let that timeout fire between two comfort bytes.
      if (interval >= v.REQUEST_TIMEOUT) ctx.addIssue({ code: 'custom', path: [`${p}_COMFORT_INTERVAL`], message: 'must be shorter than REQUEST_TIMEOUT' });
      else if (interval >= v.UPSTREAM_TIMEOUT) ctx.addIssue({ code: 'custom', path: [`${p}_COMFORT_INTERVAL`], message: 'must be shorter than UPSTREAM_TIMEOUT' });
    }
  });

export type Action = 'block' | 'pass';

export interface ProtocolConfig {
  readonly port: number;
  readonly upstreamUrl: string | null;
  readonly oversizeLimit: number;
  readonly oversizeAction: Action;
  readonly clientComfort: boolean;
  readonly serverComfort: boolean;
  readonly comfortIntervalMs: number;
  readonly comfortAmount: number;
}

export interface ScanConfig {
  readonly engines: readonly ('builtin' | 'clamd')[];
  readonly clamdAddress: string | null;
  readonly scanTimeoutMs: number;
  readonly scanErrorAction: Action;
  readonly signatureFiles: readonly string[];
  readonly fileFilter: ReadonlySet<string>;
}

export interface Config {
  readonly host: string;
  readonly adminHost: string;
  readonly adminPort: number;
  readonly mm1: ProtocolConfig;
  readonly mm7: ProtocolConfig;
  readonly scan: ScanConfig;
  readonly unscannableAction: Action;
  readonly removeBlocked: boolean;
  readonly logLevel: string;
  readonly logFormat: 'json' | 'kv';
  readonly msisdnHashKey: string | null;
  readonly inflightLimit: number;
  readonly upstreamTimeoutMs: number;
  readonly upstreamConnections: number;
  readonly requestTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly simPort: number;
  /** Addresses whose MSISDN header is believed (the WAP gateways); from anyone else it is stripped. */
  readonly trustedGateways: ReadonlySet<string>;
  readonly msisdnHeader: string;
  /** `hex`: the gateway sends the MSISDN as hex-encoded ASCII (some WAP gateways do). */
  readonly msisdnEncoding: 'plain' | 'hex';
  /** Rewrites applied to numbers before counting and list matching (00 → +, 0 → +47). */
  readonly msisdnPrefixes: readonly PrefixRule[];
  /** Path of the reply template file, or null (defaults). */
  readonly replyTemplates: string | null;
  /** MMS notices to blocked senders: where to post them (an MMSC's MM1 URL), From, one per sender per interval. */
  readonly senderNotice: { readonly url: string | null; readonly from: string | null; readonly intervalMs: number };
  readonly adminToken: string | null;
  readonly headersTimeoutMs: number;
  readonly notify: { readonly url: string | null; readonly intervalMs: number; readonly perSecond: number; readonly window: readonly WindowRule[] };
  readonly bulk: {
    readonly flood: readonly Threshold[];
    readonly dupe: readonly Threshold[];
    /** Per VASP (VASPID, else SenderAddress) and per content on MM7 submits. */
    readonly mm7Flood: readonly Threshold[];
    readonly mm7Dupe: readonly Threshold[];
    /** 'memory' or a redis:// URL. */
    readonly store: string;
    readonly failure: 'open' | 'closed';
    readonly reply: 'deny' | 'hide';
    /** Path of the MSISDN list file, or null. */
    readonly msisdnList: string | null;
  };
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function firstIssue(e: z.ZodError): string {
  const i = e.issues[0];
  const name = String(i?.path[0] ?? '');
  return `invalid configuration: ${name}: ${i?.message ?? 'invalid'}`;
}

/** The whole configuration; throws ConfigError with one line naming the variable. */
export function parseConfig(env: Env): Config {
  const r = schema.safeParse(env);
  if (!r.success) throw new ConfigError(firstIssue(r.error));
  const v = r.data;
  const proto = (p: 'MM1' | 'MM7'): ProtocolConfig => ({
    port: v[`${p}_PORT`],
    upstreamUrl: v[`${p}_UPSTREAM_URL`],
    oversizeLimit: v[`${p}_OVERSIZE_LIMIT`],
    oversizeAction: v[`${p}_OVERSIZE_ACTION`],
    clientComfort: v[`${p}_CLIENT_COMFORT`],
    serverComfort: v[`${p}_SERVER_COMFORT`],
    comfortIntervalMs: v[`${p}_COMFORT_INTERVAL`],
    comfortAmount: v[`${p}_COMFORT_AMOUNT`],
  });
  return Object.freeze({
    host: v.HOST,
    adminHost: v.ADMIN_HOST,
    adminPort: v.ADMIN_PORT,
    mm1: Object.freeze(proto('MM1')),
    mm7: Object.freeze(proto('MM7')),
    scan: scanConfigOf(v),
    unscannableAction: v.UNSCANNABLE_ACTION,
    removeBlocked: v.REMOVE_BLOCKED,
    logLevel: v.LOG_LEVEL,
    logFormat: v.LOG_FORMAT,
    msisdnHashKey: v.MSISDN_HASH_KEY,
    inflightLimit: v.INFLIGHT_LIMIT,
    upstreamTimeoutMs: v.UPSTREAM_TIMEOUT,
    upstreamConnections: v.UPSTREAM_CONNECTIONS,
    requestTimeoutMs: v.REQUEST_TIMEOUT,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT,
    simPort: v.SIM_PORT,
    trustedGateways: new Set(v.TRUSTED_GATEWAYS),
    msisdnHeader: v.MSISDN_HEADER,
    msisdnEncoding: v.MSISDN_HEADER_ENCODING,
    msisdnPrefixes: v.MSISDN_PREFIX_RULES,
    replyTemplates: v.REPLY_TEMPLATES,
    senderNotice: Object.freeze({ url: v.SENDER_NOTICE_URL, from: v.SENDER_NOTICE_FROM, intervalMs: v.SENDER_NOTICE_INTERVAL }),
    adminToken: v.ADMIN_TOKEN,
    headersTimeoutMs: v.HEADERS_TIMEOUT,
    notify: Object.freeze({ url: v.NOTIFY_URL, intervalMs: v.NOTIFY_INTERVAL, perSecond: v.NOTIFY_RATE, window: v.NOTIFY_WINDOW }),
    bulk: Object.freeze({ flood: v.FLOOD_THRESHOLDS, dupe: v.DUPE_THRESHOLDS, mm7Flood: v.MM7_FLOOD_THRESHOLDS, mm7Dupe: v.MM7_DUPE_THRESHOLDS, store: v.STATE_STORE, failure: v.STATE_STORE_FAILURE, reply: v.BULK_BLOCK_REPLY, msisdnList: v.MSISDN_LIST }),
  });
}

/** Only the scan variables (the operators' scan CLI). */
export function parseScanConfig(env: Env): ScanConfig {
  const r = z.object(scanSchema).superRefine(checkClamd).safeParse(env);
  if (!r.success) throw new ConfigError(firstIssue(r.error));
  return scanConfigOf(r.data);
}

function scanConfigOf(v: z.output<z.ZodObject<typeof scanSchema>>): ScanConfig {
  return Object.freeze({
    engines: v.SCAN_ENGINES,
    clamdAddress: v.CLAMD_ADDRESS?.trim() ?? null,
    scanTimeoutMs: v.SCAN_TIMEOUT,
    scanErrorAction: v.SCAN_ERROR_ACTION,
    signatureFiles: v.SIGNATURE_FILES,
    fileFilter: new Set(v.FILE_FILTER),
  });
}

/** Every variable name the proxy reads (for docs/config.md's test). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(objectSchema.shape);

/** What a start (or a SIGHUP reload) gets: the configuration, lines for stderr, the files read. */
export interface LoadedConfig {
  readonly config: Config;
  /** One line each (typo hints, risky settings); main prints them on stderr. */
  readonly warnings: readonly string[];
  /** Every file read to build this configuration (CONFIG_FILE), so a reload knows what to re-read. */
  readonly files: readonly string[];
}

/**
 * The configuration from an environment. Callable again on reload: it reads files but changes
 * nothing. Throws ConfigError with one line naming the variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv): LoadedConfig {
  return { config: parseConfig(env), warnings: [], files: [] };
}
