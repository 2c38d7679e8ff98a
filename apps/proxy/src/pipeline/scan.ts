/**
 * Codec output -> scan targets -> findings per part. Every leaf part is a
 * target (nested multiparts are walked); a part with a Content-Transfer-
 * Encoding is scanned both as carried and decoded; octets no part owns are
 * scanned as a pseudo-part; a non-multipart body is one part.
 */
import { createHash } from 'node:crypto';
import { inspectTarget, type Finding, type ScanEngine, type InspectReport } from '@mmsguard/scan';
import { partInfo, type MmsPart, type MmsPdu } from 'wap-mms-decoder';
import { decodedBody } from '@mmsguard/mm7';

export interface ScannedPart {
  /** Position path, "2" or "2.1" for a part inside part 2. */
  readonly id: string;
  /** Path of indices for reencodeWithParts; null for pseudo-parts (unparsed octets, single body). */
  readonly path: readonly number[] | null;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  /** SHA-256 of the part as carried; computed on first use (only blocked/monitored parts are logged with it). */
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
  readonly path: readonly number[] | null;
  readonly data: Uint8Array;
  readonly name: string | null;
  readonly contentType: string;
  readonly encoding: string | null;
}

function leaves(parts: readonly MmsPart[], prefix: number[], out: Leaf[]): void {
  parts.forEach((p, i) => {
    const path = [...prefix, i];
    if (p.children !== null) {
      leaves(p.children, path, out);
      return;
    }
    const info = partInfo(p);
    out.push({
      id: path.map((x) => x + 1).join('.'), path, data: p.data,
      name: info.name ?? info.filename ?? info.contentLocation, contentType: p.contentType.mediaType, encoding: info.transferEncoding,
    });
  });
}

function mergeFindings(a: InspectReport, b: InspectReport | null): Finding[] {
  if (b === null) return [...a.findings];
  const seen = new Set(a.findings.map((f) => JSON.stringify(f)));
  return [...a.findings, ...b.findings.filter((f) => !seen.has(JSON.stringify(f)))];
}

export async function scanPdu(pdu: MmsPdu, s: ScanSettings): Promise<ScannedPart[]> {
  return scanLeaves(pduLeaves(pdu), s);
}

export function pduLeaves(pdu: MmsPdu): Leaf[] {
  const list: Leaf[] = [];
  if (pdu.parts !== null) leaves(pdu.parts, [], list);
  else if (pdu.body !== null && pdu.body.length > 0) {
    list.push({ id: '1', path: null, data: pdu.body, name: null, contentType: pdu.contentType?.mediaType ?? '', encoding: null });
  }
  for (const u of pdu.unparsed) {
    if (pdu.body === null && u.offset < pdu.bodyOffset) continue;
    list.push({ id: `unparsed@${u.offset}`, path: null, data: (pdu.body ?? new Uint8Array(0)).subarray(u.offset - pdu.bodyOffset, u.offset - pdu.bodyOffset + u.length), name: null, contentType: 'application/octet-stream', encoding: null });
  }
  return list;
}

/** Every leaf through inspectTarget (and its transfer-decoded form), in order. */
export async function scanLeaves(list: readonly Leaf[], s: ScanSettings): Promise<ScannedPart[]> {
  const out: ScannedPart[] = [];
  for (const leaf of list) {
    const filename = leaf.name ?? `part-${leaf.id}`;
    const opts = { engines: s.engines, timeoutMs: s.timeoutMs, fileFilter: s.fileFilter, ...(s.signal ? { signal: s.signal } : {}) };
    const report = await inspectTarget({ path: filename, data: leaf.data, name: leaf.name, declaredType: leaf.contentType }, opts);
    const decoded = leaf.encoding === 'base64' || leaf.encoding === 'quoted-printable' ? decodedBody({ raw: leaf.data, transferEncoding: leaf.encoding }) : null;
    const second = decoded === null ? null : await inspectTarget({ path: `${filename} (${leaf.encoding ?? ''}-decoded)`, data: decoded, name: leaf.name, declaredType: leaf.contentType }, opts);
    out.push({
      id: leaf.id, path: leaf.path, filename, contentType: leaf.contentType, size: leaf.data.length,
      sha256: lazyHash(leaf.data),
      fileType: second?.fileType.type ?? report.fileType.type, findings: mergeFindings(report, second), engineMs: report.engineMs,
    });
  }
  return out;
}
