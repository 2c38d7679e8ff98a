/**
 * Scan engines from the configuration, in SCAN_ENGINES order. Addresses were checked by config.ts;
 * this module only builds (and for the built-in engine, loads signature files). It opens no
 * connection: clamd and ICAP servers are first reached by a scan or a readiness probe.
 */
import { BuiltinEngine, type EngineInfo, type ScanEngine } from '@mmsguard/scan';
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

export async function buildEngines(cfg: ScanConfig): Promise<ScanEngine[]> {
  const engines: ScanEngine[] = [];
  for (const name of cfg.engines) {
    if (name === 'builtin') engines.push(await BuiltinEngine.fromFiles(cfg.signatureFiles));
    else if (name === 'clamd') engines.push(ClamdEngine.fromAddressList(cfg.clamdAddress ?? ''));
    else engines.push(icapEngine(cfg));
  }
  return engines;
}
