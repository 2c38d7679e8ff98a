#!/usr/bin/env node
/**
 * mmsguard-scan FILE...: scans files with the engines the proxy would use
 * (same environment variables: builtin, clamd, icap) and prints one line per file:
 *   <verdict> <file> [details]
 * Exit 0 all clean, 1 something found or unscannable, 2 usage/config error.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { inspectTarget, type Finding, type ScanEngine } from '@mmsguard/scan';
import { ConfigError, parseScanConfig, type ScanConfig } from '@mmsguard/proxy/config';
import { buildEngines } from '@mmsguard/proxy/engines';

function describe(f: Finding): string {
  switch (f.kind) {
    case 'infected':
      return `${f.path}: ${f.name} (${f.engine})`;
    case 'file-type':
      return `${f.path}: blocked type ${f.type}`;
    case 'unscannable':
      return `${f.path}: ${f.reason}`;
    case 'error':
      return `${f.path}: ${f.code} (${f.engine})`;
  }
}

async function main(files: string[]): Promise<number> {
  if (files.length === 0 || files[0] === '--help') {
    process.stderr.write('usage: mmsguard-scan FILE...  (engines from SCAN_ENGINES=builtin,clamd,icap, ' +
      'CLAMD_ADDRESS, ICAP_URL, SIGNATURE_FILES, FILE_FILTER, SCAN_TIMEOUT)\n');
    return 2;
  }
  let engines: ScanEngine[];
  let cfg: ScanConfig;
  try {
    cfg = parseScanConfig(process.env);
    engines = await buildEngines(cfg);
  } catch (e) {
    process.stderr.write(`mmsguard-scan: ${e instanceof ConfigError || e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  let worst = 0;
  for (const file of files) {
    let data: Uint8Array;
    try {
      data = await readFile(file);
    } catch (e) {
      process.stdout.write(`error ${file} cannot read: ${(e as NodeJS.ErrnoException).code ?? 'error'}\n`);
      worst = Math.max(worst, 1);
      continue;
    }
    const target = { path: basename(file), data, name: basename(file) };
    const r = await inspectTarget(target, { engines, timeoutMs: cfg.scanTimeoutMs, fileFilter: cfg.fileFilter });
    const details = r.findings.map(describe).join('; ');
    const type = r.fileType.type !== null ? ` type=${r.fileType.type}` : '';
    process.stdout.write(`${r.verdict} ${file}${type}${details ? ` ${details}` : ''}\n`);
    if (r.verdict !== 'clean') worst = Math.max(worst, 1);
  }
  await Promise.all(engines.map((e) => e.close()));
  return worst;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`mmsguard-scan: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
