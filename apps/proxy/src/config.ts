/**
 * The proxy's configuration: every variable of CONTRACT §2, §6, §7 plus ours, validated once at
 * start (and again on each SIGHUP reload), frozen, passed in. Nothing else reads process.env.
 * docs/config.md lists every variable (kept true by a test). A refused setting is one line naming
 * the variable; settings that work but are risky become warnings, which main prints on stderr.
 * This module reads no file except CONFIG_FILE (config-file.ts); the files the settings name
 * (signatures, lists, templates) are read by their owners.
 */
import { BlockList, isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseClamdAddresses } from '@mmsguard/scan-clamd';
import { parseIcapUrls } from '@mmsguard/scan-icap';
import { parsePrefixRules, parseThresholds, type PrefixRule, type Threshold } from '@mmsguard/policy';
import { ConfigFileError, readConfigFile, type FileEntry } from './config-file.js';
import { parseWindow, type WindowRule } from './schedule.js';
import { didYouMean, editDistance, suggest, typoHints } from './typo-hints.js';

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?$/i;
const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** "10MiB", "300KB", "1048576" -> bytes. KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024. */
export function parseSize(s: string): number | null {
  const m = SIZE.exec(s.trim());
  if (m === null) return null;
  const n = Math.round(Number(m[1]) * (UNITS[(m[2] ?? 'b').toLowerCase()] ?? 1));
  return Number.isSafeInteger(n) ? n : null;
}

/** A size; `zeroIsOff`: 0 is allowed and means the feature is off. */
const size = (def: string, zeroIsOff = false) =>
  z
    .string()
    .default(def)
    .transform((s, ctx) => {
      const n = parseSize(s);
      if (n === null || (n <= 0 && !(zeroIsOff && n === 0))) {
        const what = zeroIsOff ? 'a size (bytes, or KB/MB/KiB/MiB; 0 = off)' : 'a size (bytes, or KB/MB/KiB/MiB)';
        ctx.addIssue({ code: 'custom', message: `'${s}' is not ${what}` });
        return z.NEVER;
      }
      return n;
    });

/** Seconds (decimals allowed) -> milliseconds. */
const seconds = (def: string, max = 86_400) =>
  z
    .string()
    .default(def)
    .transform((s, ctx) => {
      const n = Number(s);
      if (!/^\s*\d*\.?\d+\s*$/.test(s) || !Number.isFinite(n) || n <= 0 || n > max) {
        ctx.addIssue({ code: 'custom', message: `'${s}' is not a number of seconds in (0, ${max}]` });
        return z.NEVER;
      }
      const ms = Math.round(n * 1000);
      // A timer of 0 ms fires at once: such a timeout ended requests with HTTP 500 and no verdict record.
      if (ms === 0) {
        ctx.addIssue({ code: 'custom', message: `'${s}' seconds rounds to 0 ms` });
        return z.NEVER;
      }
      return ms;
    });

/** A decimal integer (no hex, no exponent, not empty: Number() would take '0x50', '1e3' and ''). */
const integer = (def: string, min: number, max: number, what: string) =>
  z
    .string()
    .default(def)
    .transform((s, ctx) => {
      const n = /^\s*\d{1,9}\s*$/.test(s) ? Number(s) : NaN;
      if (!(n >= min && n <= max)) {
        ctx.addIssue({ code: 'custom', message: `'${s}' is not ${what} (a decimal integer in ${min}–${max})` });
        return z.NEVER;
      }
      return n;
    });

const port = (def: string) => integer(def, 0, 65535, 'a port number');

/**
 * WORKERS: processes serving the listeners (node:cluster). `auto` is one per core the process may use.
 * Capped: each worker holds its own INFLIGHT_LIMIT budget and upstream pool, so a typo like 1000 would
 * reserve memory and connections for a thousand processes.
 */
export const MAX_WORKERS = 64;
const workers = z.preprocess(
  (s) => (typeof s === 'string' && s.trim().toLowerCase() === 'auto'
    ? String(Math.min(MAX_WORKERS, availableParallelism())) : s),
  integer('1', 1, MAX_WORKERS, 'a number of workers (or auto)'),
);
const onOff = (def: 'on' | 'off') => z.enum(['on', 'off']).default(def).transform((v) => v === 'on');
const list = (s: string | undefined): string[] =>
  (s ?? '').split(',').map((x) => x.trim()).filter((x) => x.length > 0);
const optionalText = z.string().optional().transform((x) => (x === undefined || x.trim() === '' ? null : x.trim()));

/** A listening address: an IP literal (a host name would bind to whatever DNS says at start). */
const ipAddress = (def: string) =>
  z
    .string()
    .default(def)
    .transform((s, ctx) => {
      const v = s.trim();
      if (isIP(v) === 0 || v.includes('%')) {
        ctx.addIssue({ code: 'custom', message: `'${s}' is not an IP address (e.g. 0.0.0.0, 127.0.0.1, ::)` });
        return z.NEVER;
      }
      return v;
    });

/** The port in a URL's authority, checked ourselves so the message can say what is wrong with it. */
function urlPortProblem(s: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?/i.exec(s);
  const p = m?.[2];
  if (p === undefined || p === '') return null;
  if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) return `port '${p}' is not a number in 1–65535`;
  return null;
}

/** An http(s) base URL, trailing slashes dropped; '' or unset -> null. */
const url = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const s = raw?.trim() ?? '';
    if (s === '') return null;
    const problem = (message: string): never => {
      ctx.addIssue({ code: 'custom', message: `'${s}': ${message}` });
      return z.NEVER;
    };
    if (!/^https?:\/\//i.test(s)) return problem('must be an http:// or https:// URL');
    const portProblem = urlPortProblem(s);
    if (portProblem !== null) return problem(portProblem);
    try {
      if (new URL(s).hostname === '') return problem('has no host');
    } catch {
      return problem('is not a valid URL');
    }
    return s.replace(/\/+$/, '');
  });

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

/**
 * Every type FILE_FILTER can name: what @mmsguard/scan's detectFileType returns (its own names, and
 * file-type 21's extensions with gz → gzip, cfb → ole/msi), plus `mismatch` (CONTRACT §8). A type
 * outside it can never match, so the filter would look active and block nothing. The scan package
 * does not export this list yet; test/config*.test.ts checks it against file-type's own list.
 */
export const FILE_FILTER_TYPES: ReadonlySet<string> = new Set([
  'exe', 'dll', 'elf', 'macho', 'msi', 'ole', 'apk', 'jar', 'zip', 'gzip', 'tar', '7z', 'rar', 'pdf',
  'sh', 'bat', 'cmd', 'vbs', 'js', 'ps1', 'mismatch',
  'jpg', 'png', 'apng', 'gif', 'webp', 'flif', 'xcf', 'cr2', 'cr3', 'orf', 'arw', 'dng', 'nef', 'rw2', 'raf', 'tif',
  'bmp', 'icns', 'jxr', 'psd', 'indd', 'bz2', 'dmg', 'mp4', 'mid', 'mkv', 'webm', 'mov', 'avi', 'mpg', 'mp2', 'mp3',
  'm4a', 'oga', 'ogg', 'ogv', 'opus', 'flac', 'wav', 'spx', 'amr', 'epub', 'swf', 'rtf', 'wasm', 'woff', 'woff2',
  'eot', 'ttf', 'otf', 'ttc', 'ico', 'flv', 'ps', 'xz', 'sqlite', 'nes', 'crx', 'xpi', 'cab', 'deb', 'ar', 'rpm',
  'lz', 'mxf', 'mts', 'blend', 'bpg', 'docx', 'pptx', 'xlsx', '3gp', '3g2', 'j2c', 'jp2', 'jpm', 'jpx', 'mj2', 'aif',
  'qcp', 'odt', 'ods', 'odp', 'xml', 'mobi', 'heic', 'cur', 'ktx', 'ape', 'wv', 'dcm', 'ics', 'glb', 'pcap', 'dsf',
  'lnk', 'alias', 'voc', 'ac3', 'm4v', 'm4p', 'm4b', 'f4v', 'f4p', 'f4b', 'f4a', 'mie', 'asf', 'ogm', 'ogx', 'mpc',
  'arrow', 'shp', 'aac', 'mp1', 'it', 's3m', 'xm', 'skp', 'avif', 'eps', 'lzh', 'pgp', 'asar', 'stl', 'chm', '3mf',
  'zst', 'jxl', 'vcf', 'jls', 'pst', 'dwg', 'parquet', 'class', 'arj', 'cpio', 'ace', 'avro', 'icc', 'fbx', 'vsdx',
  'vtt', 'drc', 'lz4', 'potx', 'xltx', 'dotx', 'xltm', 'ott', 'ots', 'otp', 'odg', 'otg', 'xlsm', 'docm', 'dotm',
  'potm', 'pptm', 'jmp', 'rm', 'sav', 'ppsm', 'ppsx', 'tar.gz', 'reg', 'dat',
]);

const fileFilter = z
  .string()
  .optional()
  .transform((s, ctx) => {
    const types = list(s).map((x) => x.toLowerCase());
    for (const t of types) {
      if (FILE_FILTER_TYPES.has(t)) continue;
      const near = [...FILE_FILTER_TYPES].filter((k) => editDistance(t, k) <= 1).slice(0, 3);
      const hint = near.length > 0 ? `; did you mean ${didYouMean(near)}?` : ' (types are detected from content)';
      ctx.addIssue({ code: 'custom', message: `unknown file type '${t}'${hint}` });
      return z.NEVER;
    }
    return types;
  });

/** An IPv4 or IPv6 address (already checked by isIP) as a number, to test a block's host bits. */
function ipBits(ip: string): bigint {
  if (isIP(ip) === 4) return ip.split('.').reduce((n, o) => (n << 8n) | BigInt(o), 0n);
  const words = (part: string): number[] =>
    part === '' ? [] : part.split(':').flatMap((w) => {
      if (!w.includes('.')) return [parseInt(w, 16)];
      const v4 = Number(ipBits(w));
      return [v4 >>> 16, v4 & 0xffff];
    });
  const [head = '', tail = ''] = ip.includes('::') ? ip.split('::') : [ip, ''];
  const h = words(head);
  const t = words(tail);
  const all = [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.reduce((n, w) => (n << 16n) | BigInt(w), 0n);
}

/** `::ffff:10.0.0.1` (how a dual-stack socket shows an IPv4 peer) -> `10.0.0.1`. */
const unmapped = (a: string): string => (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a) ? a.slice(7) : a);

/**
 * TRUSTED_GATEWAYS: IPv4/IPv6 addresses and CIDR blocks. Host names are refused: a trust list
 * must not change with DNS. A block with host bits set (10.0.0.5/24) is refused too: it trusts
 * 256 addresses where the operator probably meant one. Throws RangeError naming the entry.
 */
/** Peer addresses whose TRUSTED_GATEWAYS answer is remembered (memory bound: any peer brings its own address). */
const TRUSTED_MEMO_MAX = 4096;

export function parseTrustedGateways(spec: string): { entries: string[]; matches: (address: string) => boolean } {
  const blocks = new BlockList();
  const entries: string[] = [];
  for (const raw of list(spec)) {
    const [addr = '', prefix, extra] = raw.split('/');
    const ip = unmapped(addr.trim());
    const family = isIP(ip);
    if (family === 0 || ip.includes('%') || extra !== undefined) {
      throw new RangeError(`'${raw}' is not an IP address or CIDR block (host names are not resolved)`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      blocks.addAddress(ip, type);
      entries.push(ip);
      continue;
    }
    const width = family === 4 ? 32 : 128;
    const len = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (!(len >= 0 && len <= width)) throw new RangeError(`'${raw}': prefix length must be 0–${width}`);
    const hostBits = width - len;
    if ((ipBits(ip) & ((1n << BigInt(hostBits)) - 1n)) !== 0n) {
      throw new RangeError(`'${raw}' has host bits set (a block starts at its network address)`);
    }
    blocks.addSubnet(ip, len, type);
    entries.push(`${ip}/${len}`);
  }
  if (entries.length === 0) return { entries, matches: () => false };
  // Asked two or three times per message (exchange, upstream headers, MSISDN header), mostly for the same
  // few gateway addresses: a BlockList check builds a SocketAddress each time. Bounded: any peer can
  // connect from a new address, and the map is dropped whole when full.
  const seen = new Map<string, boolean>();
  const matches = (address: string): boolean => {
    const known = seen.get(address);
    if (known !== undefined) return known;
    const a = unmapped(address);
    const family = isIP(a);
    const ok = family !== 0 && blocks.check(a, family === 4 ? 'ipv4' : 'ipv6');
    if (seen.size >= TRUSTED_MEMO_MAX) seen.clear();
    seen.set(address, ok);
    return ok;
  };
  return { entries, matches };
}

/** RFC 9110 `token`: what an HTTP header name may be. */
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export const SCAN_ENGINE_NAMES = ['builtin', 'clamd', 'icap'] as const;
export type ScanEngineName = (typeof SCAN_ENGINE_NAMES)[number];

const scanSchema = {
  SCAN_ENGINES: z
    .string()
    .default('builtin')
    .transform(list)
    .pipe(z.array(z.enum(SCAN_ENGINE_NAMES)).min(1, 'at least one engine')),
  CLAMD_ADDRESS: z.string().optional(),
  ICAP_URL: z.string().optional(),
  SCAN_TIMEOUT: seconds('30', 3600),
  SCAN_ERROR_ACTION: z.enum(['block', 'pass']).default('block'),
  SIGNATURE_FILES: z.string().optional().transform(list),
  FILE_FILTER: fileFilter,
};

type EngineAddresses = { SCAN_ENGINES: string[]; CLAMD_ADDRESS?: string | undefined; ICAP_URL?: string | undefined };

/** The address of each listed engine that needs one: present and parseable, so a bad one stops the start. */
function checkEngineAddresses(v: EngineAddresses, ctx: z.RefinementCtx): void {
  const needs = [
    ['clamd', 'CLAMD_ADDRESS', v.CLAMD_ADDRESS, parseClamdAddresses],
    ['icap', 'ICAP_URL', v.ICAP_URL, parseIcapUrls],
  ] as const;
  for (const [engine, name, value, parse] of needs) {
    if (!v.SCAN_ENGINES.includes(engine)) continue;
    if (value === undefined || value.trim() === '') {
      ctx.addIssue({ code: 'custom', path: [name], message: `required when SCAN_ENGINES lists ${engine}` });
      return;
    }
    try {
      parse(value);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: [name], message: (e as Error).message });
      return;
    }
  }
}

const objectSchema = z.object({
  CONFIG_FILE: optionalText,
  HOST: ipAddress('0.0.0.0'),
  MM1_PORT: port('8080'),
  MM1_UPSTREAM_URL: url,
  MM7_PORT: port('8081'),
  MM7_UPSTREAM_URL: url,
  ADMIN_PORT: port('9090'),
  ADMIN_HOST: ipAddress('127.0.0.1'),
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
  MM1_SCAN_MODE: z.enum(['block', 'monitor']).default('block'),
  MM7_SCAN_MODE: z.enum(['block', 'monitor']).default('block'),
  ...scanSchema,
  UNSCANNABLE_ACTION: z.enum(['block', 'pass']).default('block'),
  REMOVE_BLOCKED: onOff('off'),
  REPLACEMENT_SIZE: z.enum(['template', 'original']).default('template'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'kv']).default('json'),
  MSISDN_HASH_KEY: z.string().optional().transform((s) => (s === undefined || s === '' ? null : s)),
  INFLIGHT_LIMIT: size('256MiB'),
  MIN_UPLOAD_RATE: size('1KiB', true),
  MIN_UPLOAD_RATE_GRACE: seconds('10', 3600),
  UPSTREAM_TIMEOUT: seconds('60', 3600),
  UPSTREAM_CONNECTIONS: integer('1024', 1, 65536, 'a number of connections'),
  REQUEST_TIMEOUT: seconds('300', 86_400),
  SHUTDOWN_TIMEOUT: seconds('10', 600),
  WORKERS: workers,
  SIM_PORT: port('8090'),
  TRUSTED_GATEWAYS: parsedWith(parseTrustedGateways),
  MSISDN_HEADER: z
    .string()
    .default('x-wap-network-client-msisdn')
    .transform((x) => x.trim().toLowerCase())
    .refine((x) => HEADER_TOKEN.test(x), 'is not an HTTP header name (letters, digits and !#$%&\'*+-.^_`|~)'),
  ADMIN_TOKEN: z.string().optional().transform((x) => (x === undefined || x === '' ? null : x)),
  HEADERS_TIMEOUT: seconds('30', 600),
  FLOOD_THRESHOLDS: parsedWith(parseThresholds),
  DUPE_THRESHOLDS: parsedWith(parseThresholds),
  STATE_STORE: z
    .string()
    .default('memory')
    .refine((x) => x === 'memory' || /^rediss?:\/\/[^\s]+$/.test(x), 'must be memory or redis://host:port')
    .refine((x) => x === 'memory' || urlPortProblem(x) === null, 'the port is not a number in 1–65535'),
  STATE_STORE_FAILURE: z.enum(['open', 'closed']).default('open'),
  BULK_BLOCK_REPLY: z.enum(['deny', 'hide']).default('deny'),
  NOTIFY_URL: url,
  NOTIFY_INTERVAL: seconds('60', 86_400),
  NOTIFY_RATE: z
    .string()
    .default('5')
    .refine((x) => /^\s*\d*\.?\d+\s*$/.test(x), 'is not a number')
    .transform(Number)
    .pipe(z.number().positive().max(1000)),
  MSISDN_LIST: optionalText,
  REPLY_TEMPLATES: optionalText,
  MSISDN_HEADER_ENCODING: z.enum(['plain', 'hex']).default('plain'),
  MSISDN_PREFIX_RULES: parsedWith(parsePrefixRules),
  MM7_FLOOD_THRESHOLDS: parsedWith(parseThresholds),
  MM7_DUPE_THRESHOLDS: parsedWith(parseThresholds),
  MM7_VASP_LIMITS: optionalText,
  NOTIFY_WINDOW: parsedWith(parseWindow),
  SENDER_NOTICE_URL: url,
  SENDER_NOTICE_FROM: optionalText,
  SENDER_NOTICE_INTERVAL: seconds('3600', 30 * 86_400),
  QUARANTINE_DIR: optionalText,
  QUARANTINE_MAX_BYTES: size('1GiB'),
  VERDICT_RETENTION: seconds('86400', 365 * 86_400),
});

type Parsed = z.output<typeof objectSchema>;
const LISTENERS = ['MM1_PORT', 'MM7_PORT', 'ADMIN_PORT', 'SIM_PORT'] as const;
const THRESHOLDS = ['FLOOD_THRESHOLDS', 'DUPE_THRESHOLDS', 'MM7_FLOOD_THRESHOLDS', 'MM7_DUPE_THRESHOLDS'] as const;

function checkAcross(v: Parsed, ctx: z.RefinementCtx): void {
  // Two listeners on one port: the second bind fails after the first is already serving. Port 0 is
  // "any free port" (tests). As main.ts starts them: the simulator only when MM1_UPSTREAM_URL is
  // unset, MM7 when MM7_UPSTREAM_URL is set or the simulator stands in for both.
  const simulated = v.MM1_UPSTREAM_URL === null;
  const seen = new Map<number, string>();
  for (const name of LISTENERS) {
    if (name === 'SIM_PORT' && !simulated) continue;
    if (name === 'MM7_PORT' && !simulated && v.MM7_UPSTREAM_URL === null) continue;
    const p = v[name];
    const other = seen.get(p);
    if (p !== 0 && other !== undefined) {
      const message = `${p} is also ${other} (every listener needs its own port)`;
      ctx.addIssue({ code: 'custom', path: [name], message });
      return;
    }
    seen.set(p, name);
  }
  for (const p of ['MM1', 'MM7'] as const) {
    if (!v[`${p}_CLIENT_COMFORT`] && !v[`${p}_SERVER_COMFORT`]) continue;
    const interval = v[`${p}_COMFORT_INTERVAL`];
    const path = [`${p}_COMFORT_INTERVAL`];
    // A comfort interval at or above a timeout would let that timeout fire between two comfort bytes.
    const limit =
      interval >= v.REQUEST_TIMEOUT ? 'REQUEST_TIMEOUT' : interval >= v.UPSTREAM_TIMEOUT ? 'UPSTREAM_TIMEOUT' : null;
    if (limit !== null) ctx.addIssue({ code: 'custom', path, message: `must be shorter than ${limit}` });
  }
  for (const name of THRESHOLDS) {
    // parseThresholds takes `:0.0001` as a block time: a block that ends before the next message.
    if (v[name].some((t) => t.actions.has('block') && t.blockMs <= 0)) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'a block time rounds to 0 ms' });
    }
  }
}

const schema = objectSchema.superRefine(checkEngineAddresses).superRefine(checkAcross);

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
  /** `monitor`: findings are logged `action=monitored` and the message is forwarded unchanged (CONTRACT §7). */
  readonly scanMode: 'block' | 'monitor';
}

export interface ScanConfig {
  readonly engines: readonly ScanEngineName[];
  readonly clamdAddress: string | null;
  /** ICAP_URL as written (`icap://host:port/service`, comma list = failover); checked, parsed again by the engine. */
  readonly icapUrl: string | null;
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
  /** `original`: a replacement part is padded or cut to the byte length of the part it replaces. */
  readonly replacementSize: 'template' | 'original';
  readonly logLevel: string;
  readonly logFormat: 'json' | 'kv';
  readonly msisdnHashKey: string | null;
  readonly inflightLimit: number;
  /** Bytes per second below which an upload is cut once the grace period is over; 0 = off. */
  readonly minUploadRate: number;
  readonly minUploadRateGraceMs: number;
  readonly upstreamTimeoutMs: number;
  readonly upstreamConnections: number;
  readonly requestTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  /** Processes serving the listeners (WORKERS); 1: this process alone, no cluster. */
  readonly workers: number;
  readonly simPort: number;
  /** The TRUSTED_GATEWAYS entries as written (addresses, and CIDR blocks as `net/len`). Match with isTrustedGateway. */
  readonly trustedGateways: ReadonlySet<string>;
  /** Whether a peer address (IPv4, IPv6, or IPv4-mapped IPv6) is one whose MSISDN header is believed. */
  readonly isTrustedGateway: (address: string) => boolean;
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
  readonly notify: {
    readonly url: string | null;
    readonly intervalMs: number;
    readonly perSecond: number;
    readonly window: readonly WindowRule[];
  };
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
    /** Path of the per-VASP quota file (MM7_VASP_LIMITS), or null: no quotas. */
    readonly vaspLimits: string | null;
  };
  /** CONTRACT §7. */
  readonly forensics: {
    /** Directory of the content-addressed quarantine, or null (off). */
    readonly quarantineDir: string | null;
    readonly quarantineMaxBytes: number;
    readonly verdictRetentionMs: number;
  };
  /** CONFIG_FILE as given (null: none). */
  readonly configFile: string | null;
}

/** A refused setting. `message` is the one stderr line; the fields let a reload record name the place. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly variable?: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

type Env = Record<string, string | undefined>;
/** Where a value came from, when not the environment: the CONFIG_FILE line. */
type Origins = ReadonlyMap<string, { readonly file: string; readonly line: number }>;

function firstIssue(e: z.ZodError, origins: Origins = new Map()): ConfigError {
  const i = e.issues[0];
  const name = String(i?.path[0] ?? '');
  const from = origins.get(name);
  const where = from === undefined ? '' : ` (${from.file}:${from.line})`;
  const message = `invalid configuration: ${name}${where}: ${i?.message ?? 'invalid'}`;
  return new ConfigError(message, name, from?.file, from?.line);
}

/** The whole configuration from variables alone (no file read); throws ConfigError naming the variable. */
export function parseConfig(env: Env, origins?: Origins): Config {
  const r = schema.safeParse(env);
  if (!r.success) throw firstIssue(r.error, origins);
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
    scanMode: v[`${p}_SCAN_MODE`],
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
    replacementSize: v.REPLACEMENT_SIZE,
    logLevel: v.LOG_LEVEL,
    logFormat: v.LOG_FORMAT,
    msisdnHashKey: v.MSISDN_HASH_KEY,
    inflightLimit: v.INFLIGHT_LIMIT,
    minUploadRate: v.MIN_UPLOAD_RATE,
    minUploadRateGraceMs: v.MIN_UPLOAD_RATE_GRACE,
    upstreamTimeoutMs: v.UPSTREAM_TIMEOUT,
    upstreamConnections: v.UPSTREAM_CONNECTIONS,
    requestTimeoutMs: v.REQUEST_TIMEOUT,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT,
    workers: v.WORKERS,
    simPort: v.SIM_PORT,
    trustedGateways: new Set(v.TRUSTED_GATEWAYS.entries),
    isTrustedGateway: v.TRUSTED_GATEWAYS.matches,
    msisdnHeader: v.MSISDN_HEADER,
    msisdnEncoding: v.MSISDN_HEADER_ENCODING,
    msisdnPrefixes: v.MSISDN_PREFIX_RULES,
    replyTemplates: v.REPLY_TEMPLATES,
    senderNotice: Object.freeze({
      url: v.SENDER_NOTICE_URL,
      from: v.SENDER_NOTICE_FROM,
      intervalMs: v.SENDER_NOTICE_INTERVAL,
    }),
    adminToken: v.ADMIN_TOKEN,
    headersTimeoutMs: v.HEADERS_TIMEOUT,
    notify: Object.freeze({
      url: v.NOTIFY_URL,
      intervalMs: v.NOTIFY_INTERVAL,
      perSecond: v.NOTIFY_RATE,
      window: v.NOTIFY_WINDOW,
    }),
    bulk: Object.freeze({
      flood: v.FLOOD_THRESHOLDS,
      dupe: v.DUPE_THRESHOLDS,
      mm7Flood: v.MM7_FLOOD_THRESHOLDS,
      mm7Dupe: v.MM7_DUPE_THRESHOLDS,
      store: v.STATE_STORE,
      failure: v.STATE_STORE_FAILURE,
      reply: v.BULK_BLOCK_REPLY,
      msisdnList: v.MSISDN_LIST,
      vaspLimits: v.MM7_VASP_LIMITS,
    }),
    forensics: Object.freeze({
      quarantineDir: v.QUARANTINE_DIR,
      quarantineMaxBytes: v.QUARANTINE_MAX_BYTES,
      verdictRetentionMs: v.VERDICT_RETENTION,
    }),
    configFile: v.CONFIG_FILE,
  });
}

/** Only the scan variables (the operators' scan CLI). */
export function parseScanConfig(env: Env): ScanConfig {
  const r = z.object(scanSchema).superRefine(checkEngineAddresses).safeParse(env);
  if (!r.success) throw firstIssue(r.error);
  return scanConfigOf(r.data);
}

function scanConfigOf(v: z.output<z.ZodObject<typeof scanSchema>>): ScanConfig {
  return Object.freeze({
    engines: v.SCAN_ENGINES,
    clamdAddress: v.CLAMD_ADDRESS?.trim() ?? null,
    icapUrl: v.ICAP_URL?.trim() ?? null,
    scanTimeoutMs: v.SCAN_TIMEOUT,
    scanErrorAction: v.SCAN_ERROR_ACTION,
    signatureFiles: v.SIGNATURE_FILES,
    fileFilter: new Set(v.FILE_FILTER),
  });
}

/** Every variable name the proxy reads (for docs/config.md's test, and the typo hints). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(objectSchema.shape);

const isLoopback = (a: string): boolean => a === '::1' || /^(::ffff:)?127\./i.test(a);

/** Settings that work but are probably not what the operator wants: one line each. */
export function configWarnings(c: Config): string[] {
  const out: string[] = [];
  if (!isLoopback(c.adminHost) && c.adminToken === null) {
    out.push(`warning: ADMIN_HOST is ${c.adminHost} (not loopback) and ADMIN_TOKEN is unset: ` +
      '/readyz and /metrics answer anyone who can reach the port');
  }
  if (c.bulk.flood.length > 0 && c.trustedGateways.size === 0) {
    out.push('warning: FLOOD_THRESHOLDS is set but TRUSTED_GATEWAYS is empty: senders are unattributed (only the ' +
      'From a handset writes is counted: insert-address From counts nothing, a forged one counts for someone else)');
  }
  for (const g of c.trustedGateways) {
    if (g.endsWith('/0')) out.push(`warning: TRUSTED_GATEWAYS ${g} trusts every address to vouch for an MSISDN`);
  }
  return out;
}

/** What a start (or a SIGHUP reload) gets: the configuration, lines for stderr, the files read. */
export interface LoadedConfig {
  readonly config: Config;
  /** One line each (typo hints, overridden file values, risky settings); main prints them on stderr. */
  readonly warnings: string[];
  /** Every file read to build this configuration (CONFIG_FILE, absolute), so a reload knows what to re-read. */
  readonly files: string[];
}

/**
 * The configuration from an environment and the CONFIG_FILE it names; the environment overrides
 * the file (a variable set in the environment, even to '', wins). Callable again on reload: it
 * reads the file but changes nothing. Throws ConfigError: one line naming the variable, and for a
 * file problem file:line.
 */
export function loadConfig(env: NodeJS.ProcessEnv): LoadedConfig {
  const warnings = typoHints(Object.keys(env), CONFIG_VARIABLES, 'the environment');
  const path = env['CONFIG_FILE']?.trim() ?? '';
  if (path === '') {
    const config = parseConfig(env);
    return { config, warnings: [...warnings, ...configWarnings(config)], files: [] };
  }
  const file = resolve(path);
  let entries: Map<string, FileEntry>;
  try {
    entries = readConfigFile(file);
  } catch (e) {
    if (!(e instanceof ConfigFileError)) throw e;
    throw new ConfigError(`invalid configuration: CONFIG_FILE: ${e.message}`, 'CONFIG_FILE', e.file, e.line);
  }
  const merged: Env = {};
  const origins = new Map<string, { file: string; line: number }>();
  for (const [name, { value, line }] of entries) {
    const where = `${file}:${line}`;
    if (name === 'CONFIG_FILE' || !CONFIG_VARIABLES.includes(name)) {
      const hint = name === 'CONFIG_FILE' ? ' (it names this file; set it in the environment)' : hintFor(name);
      const what = name === 'CONFIG_FILE' ? 'CONFIG_FILE cannot be set here' : `unknown variable ${name}`;
      throw new ConfigError(`invalid configuration: CONFIG_FILE: ${where}: ${what}${hint}`, 'CONFIG_FILE', file, line);
    }
    if (env[name] !== undefined) {
      // The usual surprise on reload: the file was edited, but the environment still has the old value.
      warnings.push(`warning: ${name} in ${where} is overridden by the environment`);
      continue;
    }
    merged[name] = value;
    origins.set(name, { file, line });
  }
  const config = parseConfig({ ...merged, ...env }, origins);
  return { config, warnings: [...warnings, ...configWarnings(config)], files: [file] };
}

function hintFor(name: string): string {
  const s = suggest(name, CONFIG_VARIABLES);
  return s.length > 0 ? ` (did you mean ${didYouMean(s)}?)` : '';
}
