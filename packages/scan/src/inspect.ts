/**
 * One part in, one report out: archives opened, every target scanned by every
 * engine, file types detected and checked against the filter. The report lists
 * findings; deciding what to do with them (block, pass, replace) is policy.
 * Content we could not open is an `unscannable` finding, never clean.
 */
import { expandArchives, type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS } from './archive.js';
import { ExpansionBudget } from './expansion-budget.js';
import { detectFileType, type FileTypeInfo } from './filetype.js';
import { mismatchName } from './mismatch.js';
import { scanWithEngine } from './orchestrator.js';
import type { ScanEngine, ScanTarget } from './types.js';

export type Finding =
  | { readonly kind: 'infected'; readonly path: string; readonly engine: string; readonly name: string }
  | { readonly kind: 'file-type'; readonly path: string; readonly type: string }
  | { readonly kind: 'unscannable'; readonly path: string; readonly reason: string }
  | {
    readonly kind: 'error'; readonly path: string; readonly engine: string; readonly code: string;
    readonly message: string;
  };

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
  /**
   * Types to block (FILE_FILTER), in FileTypeInfo vocabulary, plus `mismatch`: a target declared harmless media or
   * text whose content is an executable, script or archive (mismatch.ts), reported as type `declared→detected`.
   */
  readonly fileFilter?: ReadonlySet<string>;
  readonly archiveLimits?: ArchiveLimits;
  /**
   * The message's expansion budget: pass one `new ExpansionBudget()` for all parts (and decoded forms) of a message
   * to bound what the whole message expands. Default: a budget for this call alone (archiveLimits.maxTotalBytes).
   * Either way the expanded bytes are held in the budget's pool (default: the process-wide DEFAULT_EXPANSION_POOL)
   * until this call returns.
   */
  readonly expansionBudget?: ExpansionBudget;
  readonly signal?: AbortSignal;
}

const ORDER: Verdict[] = ['infected', 'file-type', 'unscannable', 'error'];

/**
 * Containers detectFileType (file-type) recognises that container-kind.ts has no detector for. Found and not opened,
 * they are unscannable: a belt to the archive walk's braces, so a format the detector knows never passes as clean.
 * Formats we detect ourselves (zip, gzip, tar, 7z, rar, bzip2, xz, zstd, Z, cab, arj, lzh, cpio, ar/deb, rpm, chm,
 * lzip, lz4, ACE) are judged by our stricter checks: file-type takes any text starting "070707" for cpio, and a
 * phone number in an MMS text part must not be refused as an archive.
 */
const OTHER_CONTAINER_TYPES: ReadonlySet<string> = new Set(['dmg', 'asar', 'pgp', 'crx', 'xpi', 'epub', 'apk', 'jar']);

export function verdictOf(findings: readonly Finding[]): Verdict {
  for (const v of ORDER) if (findings.some((f) => f.kind === v)) return v;
  return 'clean';
}

export async function inspectTarget(target: ScanTarget, opts: InspectOptions): Promise<InspectReport> {
  const findings: Finding[] = [];
  const engineMs: Record<string, number> = {};
  const limits = opts.archiveLimits ?? DEFAULT_ARCHIVE_LIMITS;
  const budget = opts.expansionBudget ?? new ExpansionBudget({ maxBytes: limits.maxTotalBytes });
  const expansion = await expandArchives(target, limits, { budget });
  try {
    const { targets, unscannable, containers } = expansion;
    for (const u of unscannable) findings.push({ kind: 'unscannable', path: u.path, reason: u.reason });
    const accounted = new Set([...containers.map((c) => c.path), ...unscannable.map((u) => u.path)]);
    const mismatch = opts.fileFilter?.has('mismatch') === true;
    let fileType: FileTypeInfo | null = null;
    for (const t of targets) {
      const isPart = t === target;
      const ft = await detectFileType(t.data, t.name ?? null, isPart ? target.declaredType : null);
      if (isPart) fileType = ft;
      if (ft.type !== null && opts.fileFilter?.has(ft.type) === true) {
        findings.push({ kind: 'file-type', path: t.path, type: ft.type });
      }
      if (mismatch) {
        const embedded = containers.find((c) => c.path === t.path && c.embedded)?.kind ?? null;
        const m = mismatchName(t.name, isPart ? target.declaredType : null, ft.type, embedded);
        if (m !== null) findings.push({ kind: 'file-type', path: t.path, type: m });
      }
      if (ft.type !== null && OTHER_CONTAINER_TYPES.has(ft.type) && !accounted.has(t.path)) {
        findings.push({ kind: 'unscannable', path: t.path, reason: `${ft.type} content was not opened` });
      }
      const results = await Promise.all(opts.engines.map((e) => scanWithEngine(e, t, opts.timeoutMs, opts.signal)));
      for (const r of results) {
        engineMs[r.engine] = (engineMs[r.engine] ?? 0) + r.ms;
        const o = r.outcome;
        if (o.kind === 'infected') findings.push({ kind: 'infected', path: t.path, engine: r.engine, name: o.name });
        else if (o.kind === 'error') {
          findings.push({ kind: 'error', path: t.path, engine: r.engine, code: o.code, message: o.message });
        }
      }
    }
    return {
      verdict: verdictOf(findings),
      findings,
      fileType: fileType ?? { type: null, mime: null, declared: null },
      targets: targets.length,
      engineMs,
    };
  } finally {
    expansion.release();
  }
}

export type { ScanTarget };
