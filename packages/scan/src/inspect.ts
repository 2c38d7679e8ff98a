/**
 * One part in, one report out: archives opened, every target scanned by every
 * engine, file types detected and checked against the filter. The report lists
 * findings; deciding what to do with them (block, pass, replace) is policy.
 */
import { expandArchives, type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS } from './archive.js';
import { detectFileType, type FileTypeInfo } from './filetype.js';
import { scanWithEngine } from './orchestrator.js';
import type { ScanEngine, ScanTarget } from './types.js';

export type Finding =
  | { readonly kind: 'infected'; readonly path: string; readonly engine: string; readonly name: string }
  | { readonly kind: 'file-type'; readonly path: string; readonly type: string }
  | { readonly kind: 'unscannable'; readonly path: string; readonly reason: string }
  | { readonly kind: 'error'; readonly path: string; readonly engine: string; readonly code: string; readonly message: string };

export type Verdict = 'clean' | 'infected' | 'file-type' | 'unscannable' | 'error';

export interface InspectReport {
  readonly verdict: Verdict;
  readonly findings: readonly Finding[];
  /** File type of the part itself. */
  readonly fileType: FileTypeInfo;
  /** Targets scanned (the part plus archive members). */
  readonly targets: number;
  /** Milliseconds per engine, summed over targets. */
  readonly engineMs: Readonly<Record<string, number>>;
}

export interface InspectOptions {
  readonly engines: readonly ScanEngine[];
  readonly timeoutMs: number;
  /** Types to block (FILE_FILTER), in FileTypeInfo vocabulary. */
  readonly fileFilter?: ReadonlySet<string>;
  readonly archiveLimits?: ArchiveLimits;
  readonly signal?: AbortSignal;
}

const ORDER: Verdict[] = ['infected', 'file-type', 'unscannable', 'error'];

export function verdictOf(findings: readonly Finding[]): Verdict {
  for (const v of ORDER) if (findings.some((f) => f.kind === v)) return v;
  return 'clean';
}

export async function inspectTarget(target: ScanTarget, opts: InspectOptions): Promise<InspectReport> {
  const findings: Finding[] = [];
  const engineMs: Record<string, number> = {};
  const { targets, unscannable } = await expandArchives(target, opts.archiveLimits ?? DEFAULT_ARCHIVE_LIMITS);
  for (const u of unscannable) findings.push({ kind: 'unscannable', path: u.path, reason: u.reason });
  let fileType: FileTypeInfo | null = null;
  for (const t of targets) {
    const ft = await detectFileType(t.data, t.name ?? (t === target ? target.name : null), t === target ? target.declaredType : null);
    if (t === target) fileType = ft;
    if (ft.type !== null && opts.fileFilter?.has(ft.type) === true) findings.push({ kind: 'file-type', path: t.path, type: ft.type });
    const results = await Promise.all(opts.engines.map((e) => scanWithEngine(e, t, opts.timeoutMs, opts.signal)));
    for (const r of results) {
      engineMs[r.engine] = (engineMs[r.engine] ?? 0) + r.ms;
      const o = r.outcome;
      if (o.kind === 'infected') findings.push({ kind: 'infected', path: t.path, engine: r.engine, name: o.name });
      else if (o.kind === 'error') findings.push({ kind: 'error', path: t.path, engine: r.engine, code: o.code, message: o.message });
    }
  }
  return {
    verdict: verdictOf(findings),
    findings,
    fileType: fileType ?? { type: null, mime: null, declared: null },
    targets: targets.length,
    engineMs,
  };
}

export type { ScanTarget };
