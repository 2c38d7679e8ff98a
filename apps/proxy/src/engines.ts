/**
 * Scan engines from the configuration, in SCAN_ENGINES order. Addresses were checked by config.ts;
 * this module only builds (and for the built-in engine, loads signature files). It opens no
 * connection: clamd and ICAP servers are first reached by a scan or a readiness probe.
 */
import {
  BuiltinEngine, loadSignatureFiles, type EngineInfo, type HashSignature, type ScanEngine,
} from '@mmsguard/scan';
import { ClamdEngine } from '@mmsguard/scan-clamd';
import { IcapEngine } from '@mmsguard/scan-icap';
import type { ScanConfig } from './config.js';

/**
 * IcapEngine has no describe() of its own yet: the ISTag (which changes with the server's signature
 * database), the service description and the ICAP_URL entry that answered, from a fresh OPTIONS.
 */
export function describeIcap(engine: IcapEngine, signal: AbortSignal): Promise<EngineInfo> {
  return engine.service(signal).then((s) => ({
    ...(s.istag === null ? {} : { version: s.istag }),
    ...(s.service === null ? {} : { service: s.service }),
    address: s.url,
  }));
}

function icapEngine(cfg: ScanConfig): ScanEngine {
  // The engine's own per-part bound (30 s by default) follows SCAN_TIMEOUT so it never cuts a longer one short.
  const engine = IcapEngine.fromUrlList(cfg.icapUrl ?? '', { timeoutMs: cfg.scanTimeoutMs });
  return Object.assign(engine, { describe: (signal: AbortSignal) => describeIcap(engine, signal) });
}

/** The hash signatures each built-in engine was built with (the retro-hunt compares two sets). */
const hashes = new WeakMap<ScanEngine, readonly HashSignature[]>();

/** The built-in engine's hash signatures among `engines`; null when none of them is one built here. */
export function hashSignaturesOf(engines: readonly ScanEngine[]): readonly HashSignature[] | null {
  for (const e of engines) {
    const h = hashes.get(e);
    if (h !== undefined) return h;
  }
  return null;
}

async function builtinEngine(cfg: ScanConfig): Promise<ScanEngine> {
  const set = await loadSignatureFiles(cfg.signatureFiles);
  // Vectorscan compiles on the thread pool: a reload with 10,000 .ndb signatures took the event loop for seconds.
  const engine = await BuiltinEngine.create(set);
  hashes.set(engine, set.hashes);
  return engine;
}

/** The engines a reload may keep: those of the configuration in force. */
export interface PreviousEngines {
  readonly scan: ScanConfig;
  readonly engines: readonly ScanEngine[];
}

/**
 * Builds the engines SCAN_ENGINES lists. With `previous` (a SIGHUP reload), a clamd or ICAP engine
 * whose address (and, for ICAP, timeout) did not change is the previous one, connections and all;
 * the built-in engine is always built anew from its files. On failure, engines built here are closed.
 */
export async function buildEngines(cfg: ScanConfig, previous?: PreviousEngines): Promise<ScanEngine[]> {
  const engines: ScanEngine[] = [];
  const built: ScanEngine[] = [];
  const keep = (name: string, same: boolean): ScanEngine | null =>
    (same ? previous?.engines.find((e) => e.name === name) ?? null : null);
  try {
    for (const name of cfg.engines) {
      let e: ScanEngine | null = null;
      if (name === 'clamd') e = keep('clamd', previous?.scan.clamdAddress === cfg.clamdAddress);
      else if (name === 'icap') {
        const p = previous?.scan;
        e = keep('icap', p?.icapUrl === cfg.icapUrl && p?.scanTimeoutMs === cfg.scanTimeoutMs);
      }
      if (e === null) {
        e = name === 'builtin' ? await builtinEngine(cfg)
          : name === 'clamd' ? ClamdEngine.fromAddressList(cfg.clamdAddress ?? '') : icapEngine(cfg);
        built.push(e);
      }
      engines.push(e);
    }
  } catch (err) {
    await Promise.all(built.map((e) => e.close().catch(() => undefined)));
    throw err;
  }
  return engines;
}
