/**
 * Scan targets -> findings per target. A target is a leaf part, or bytes no
 * part owns (a pseudo-part); one with a base64/quoted-printable transfer
 * encoding is scanned both as carried and decoded. Which targets a message
 * has is the protocol adapter's business (protocols/mm1.ts, protocols/mm7.ts).
 */
import { createHash } from 'node:crypto';
import { inspectTarget, type Finding, type ScanEngine, type InspectReport } from '@mmsguard/scan';
import { decodedBody } from '@mmsguard/mm7';

export interface ScannedPart {
  /** Position path, "2" or "2.1" for a part inside part 2. */
  readonly id: string;
  /** Path of indices for reencodeWithParts; null for pseudo-parts (unparsed octets, single body). */
  readonly path: readonly number[] | null;
  /** The target this part was scanned from (the adapter finds the part again by it). */
  readonly leaf: Leaf;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  /** SHA-256 of the part as carried; computed on first use (only logged parts need it). */
  sha256(): string;
  readonly fileType: string | null;
  readonly findings: readonly Finding[];
  readonly engineMs: Readonly<Record<string, number>>;
}

export interface ScanSettings {
  readonly engines: readonly ScanEngine[];
  readonly timeoutMs: number;
  readonly fileFilter: ReadonlySet<string>;
  readonly signal?: AbortSignal;
}

function lazyHash(data: Uint8Array): () => string {
  let hex: string | null = null;
  return () => (hex ??= createHash('sha256').update(data).digest('hex'));
}

export interface Leaf {
  readonly id: string;
  /**
   * Where the adapter finds the part again to replace it: MMS part indices, or the MIME part's offset.
   * null for pseudo-parts (bytes no part owns, a single body), which cannot be replaced.
   */
  readonly path: readonly number[] | null;
  readonly data: Uint8Array;
  readonly name: string | null;
  readonly contentType: string;
  readonly encoding: string | null;
}

function mergeFindings(a: InspectReport, b: InspectReport | null): Finding[] {
  if (b === null) return [...a.findings];
  const seen = new Set(a.findings.map((f) => JSON.stringify(f)));
  return [...a.findings, ...b.findings.filter((f) => !seen.has(JSON.stringify(f)))];
}

/** Every leaf through inspectTarget (and its transfer-decoded form), in order. */
export async function scanLeaves(list: readonly Leaf[], s: ScanSettings): Promise<ScannedPart[]> {
  const out: ScannedPart[] = [];
  for (const leaf of list) {
    const filename = leaf.name ?? `part-${leaf.id}`;
    const opts = {
      engines: s.engines, timeoutMs: s.timeoutMs, fileFilter: s.fileFilter, ...(s.signal ? { signal: s.signal } : {}),
    };
    const target = { path: filename, data: leaf.data, name: leaf.name, declaredType: leaf.contentType };
    const report = await inspectTarget(target, opts);
    const encoded = leaf.encoding === 'base64' || leaf.encoding === 'quoted-printable';
    const decoded = encoded ? decodedBody({ raw: leaf.data, transferEncoding: leaf.encoding }) : null;
    const second = decoded === null
      ? null
      : await inspectTarget({ ...target, path: `${filename} (${leaf.encoding ?? ''}-decoded)`, data: decoded }, opts);
    out.push({
      id: leaf.id, path: leaf.path, leaf, filename, contentType: leaf.contentType, size: leaf.data.length,
      sha256: lazyHash(leaf.data), fileType: second?.fileType.type ?? report.fileType.type,
      findings: mergeFindings(report, second), engineMs: report.engineMs,
    });
  }
  return out;
}
