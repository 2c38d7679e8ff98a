/**
 * The scan variables of CONTRACT §2 (SCAN_ENGINES, CLAMD_ADDRESS,
 * SCAN_TIMEOUT, SIGNATURE_FILES, FILE_FILTER), validated once. Invalid values
 * are reported as one line naming the variable.
 */
import { z } from 'zod';
import { parseClamdAddresses } from '@mmsguard/scan-clamd';

const KNOWN_ENGINES = ['builtin', 'clamd'] as const;

const list = (s: string | undefined): string[] => (s ?? '').split(',').map((x) => x.trim()).filter((x) => x.length > 0);

export interface ScanConfig {
  readonly engines: readonly (typeof KNOWN_ENGINES)[number][];
  readonly clamdAddress: string | null;
  readonly scanTimeoutMs: number;
  readonly signatureFiles: readonly string[];
  readonly fileFilter: ReadonlySet<string>;
}

const schema = z
  .object({
    SCAN_ENGINES: z.string().default('builtin').transform(list).pipe(z.array(z.enum(KNOWN_ENGINES)).min(1, 'at least one engine')),
    CLAMD_ADDRESS: z.string().optional(),
    SCAN_TIMEOUT: z.string().default('30').transform(Number).pipe(z.number().positive().max(3600)),
    SIGNATURE_FILES: z.string().optional().transform(list),
    FILE_FILTER: z.string().optional().transform((s) => list(s).map((x) => x.toLowerCase())),
  })
  .superRefine((v, ctx) => {
    if (v.SCAN_ENGINES.includes('clamd')) {
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
  });

export class ConfigError extends Error {}

export function parseScanConfig(env: Record<string, string | undefined>): ScanConfig {
  const r = schema.safeParse(env);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ConfigError(`invalid configuration: ${String(i?.path[0] ?? '')}: ${i?.message ?? 'invalid'}`);
  }
  const v = r.data;
  return Object.freeze({
    engines: v.SCAN_ENGINES,
    clamdAddress: v.CLAMD_ADDRESS?.trim() ?? null,
    scanTimeoutMs: Math.round(v.SCAN_TIMEOUT * 1000),
    signatureFiles: v.SIGNATURE_FILES,
    fileFilter: new Set(v.FILE_FILTER),
  });
}
