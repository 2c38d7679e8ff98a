/** Scan engines from the configuration (SCAN_ENGINES order). */
import { BuiltinEngine, type ScanEngine } from '@mmsguard/scan';
import { ClamdEngine } from '@mmsguard/scan-clamd';
import type { ScanConfig } from './config.js';

export async function buildEngines(cfg: ScanConfig): Promise<ScanEngine[]> {
  const engines: ScanEngine[] = [];
  for (const name of cfg.engines) {
    if (name === 'builtin') engines.push(await BuiltinEngine.fromFiles(cfg.signatureFiles));
    else engines.push(ClamdEngine.fromAddressList(cfg.clamdAddress ?? ''));
  }
  return engines;
}
