/**
 * Scan targets -> findings per target. A target (Leaf) is a leaf part, or bytes no part owns (a
 * pseudo-part). Each is scanned as carried, as its adapter's parser decoded it (MM7), and in every
 * form a lenient receiver could decode it into: the transfer encoding each header reader finds, and
 * base64 / quoted-printable / uuencode whenever the bytes are valid in it, whatever the headers say
 * (transferDecodings; issue 14 class 1). Every name any reader gives a part is held against the file
 * filter. All targets of one message draw on one expansion budget, itself counted in the
 * process-wide pool (issue 14 class 11). Which targets a message has is the adapter's business
 * (protocols/mm1.ts, protocols/mm7.ts); what the findings mean is policy's.
 */
import {
  ExpansionBudget, containerKind, detectFileType, digestOf, hasZipStructures, inspectTarget, mismatchName,
  transferDecodings, transferEncodingName, type Finding, type InspectReport, type ScanEngine,
} from '@mmsguard/scan';

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
  /**
   * What the message may expand in archives, across all of its targets and their decoded forms. Default: a
   * fresh budget per call (scan's per-message default, held in scan's process-wide pool), so N parts of one
   * message cannot each use the per-part limit, and concurrent messages share one bound.
   */
  readonly expansion?: ExpansionBudget;
}

/**
 * SHA-256 (hex) of a target's bytes as carried, computed once per target (scan's digest memo): the verdict cache's
 * content key (inspect.ts), the UTM records, the verdict store and the built-in engine's hash signatures all ask.
 */
export function partSha256(data: Uint8Array): string {
  return digestOf(data, 'sha256');
}

export interface Leaf {
  readonly id: string;
  /**
   * Where the adapter finds the part again to replace it: MMS part indices, or the offset of the MIME part
   * that carries it. null for pseudo-parts (bytes no part owns, a single body), which cannot be replaced.
   */
  readonly path: readonly number[] | null;
  /** The bytes as carried. */
  readonly data: Uint8Array;
  /** The content as the adapter's parser already decoded it (MM7's declared encoding undone); null for none. */
  readonly decoded: Uint8Array | null;
  /** Every name any reader gives the part (name, filename, Content-Location), the one to log first. */
  readonly names: readonly string[];
  readonly contentType: string;
  /** Every Content-Transfer-Encoding any header reader applies to the part, as written; empty when none. */
  readonly encodings: readonly string[];
  /** Why (some of) the content cannot be read, `CODE: reason`: an unscannable finding, never clean. */
  readonly unscannable: string | null;
}

/** One form of a target's bytes to scan; `label` null for the bytes as carried. */
interface Form {
  readonly label: string | null;
  readonly data: Uint8Array;
  /**
   * Decoded as a header (or the adapter's parser) says; false for the bytes as carried and for a decoding guessed
   * from the content alone.
   */
  readonly declared: boolean;
}

/**
 * What a form's report adds to the part. A decoding guessed from the content alone that yields something we
 * cannot open is no content anyone receives: binary data holds `=XX` by chance, and its "quoted-printable" form
 * is a broken copy of a zip that every reader opens as carried. Its infections, file types and engine errors
 * count; its `unscannable` findings do not (they blocked every zip of incompressible data).
 */
function counted(form: Form, report: InspectReport): readonly Finding[] {
  const guessed = form.label !== null && !form.declared;
  return guessed ? report.findings.filter((f) => f.kind !== 'unscannable') : report.findings;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length)
    .equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/**
 * The carried bytes, the adapter's decoding, then transferDecodings for each distinct encoding the headers name
 * (each call also adds what the content itself decodes as), each distinct byte string once.
 */
export function formsOf(leaf: Leaf): Form[] {
  const forms: Form[] = [{ label: null, data: leaf.data, declared: false }];
  const add = (label: string, data: Uint8Array, declared: boolean): void => {
    if (!forms.some((f) => sameBytes(f.data, data))) forms.push({ label, data, declared });
  };
  if (leaf.decoded !== null) {
    const named = transferEncodingName(leaf.encodings[0]) ?? 'transfer';
    add(named === 'x-uuencode' ? 'uudecoded' : `${named}-decoded`, leaf.decoded, true);
  }
  // A reader that finds base64 and one that finds quoted-printable each decode once: scan both results.
  const declared = new Set(leaf.encodings.map((e) => transferEncodingName(e)).filter((e) => e !== null));
  for (const enc of declared.size > 0 ? declared : [null]) {
    for (const d of transferDecodings(leaf.data, enc)) add(d.label, d.data, d.reason === 'declared');
  }
  return forms;
}

/**
 * File-type findings for the names inspectTarget did not see (it takes one). A type is detected from content,
 * but a script without magic is known by its name and `mismatch` compares the name with the content, so a
 * receiver that shows another name may see another type: a finding under any name counts.
 */
async function otherNameFindings(
  form: Form, path: string, names: readonly string[], declaredType: string, filter: ReadonlySet<string>,
): Promise<Finding[]> {
  const out: Finding[] = [];
  if (names.length < 2 || filter.size === 0) return out;
  const embedded = containerKind(form.data) !== 'zip' && hasZipStructures(form.data) ? 'zip' : null;
  for (const name of names.slice(1)) {
    const ft = await detectFileType(form.data, name, declaredType);
    if (ft.type !== null && filter.has(ft.type)) out.push({ kind: 'file-type', path, type: ft.type });
    const m = filter.has('mismatch') ? mismatchName(name, declaredType, ft.type, embedded) : null;
    if (m !== null) out.push({ kind: 'file-type', path, type: m });
  }
  return out;
}

/** Every leaf through inspectTarget, in each of its forms, in order; one expansion budget for them all. */
export async function scanLeaves(list: readonly Leaf[], s: ScanSettings): Promise<ScannedPart[]> {
  const expansionBudget = s.expansion ?? new ExpansionBudget();
  const opts = {
    engines: s.engines, timeoutMs: s.timeoutMs, fileFilter: s.fileFilter, expansionBudget,
    ...(s.signal ? { signal: s.signal } : {}),
  };
  const out: ScannedPart[] = [];
  for (const leaf of list) {
    const filename = leaf.names[0] ?? `part-${leaf.id}`;
    const findings: Finding[] = [];
    const seen = new Set<string>();
    const note = (fs: readonly Finding[]): void => {
      for (const f of fs) {
        const key = JSON.stringify(f);
        if (seen.has(key)) continue;
        seen.add(key);
        findings.push(f);
      }
    };
    if (leaf.unscannable !== null) note([{ kind: 'unscannable', path: filename, reason: leaf.unscannable }]);
    const engineMs: Record<string, number> = {};
    let carried: InspectReport | null = null;
    let fileType: string | null = null;
    for (const form of formsOf(leaf)) {
      const path = form.label === null ? filename : `${filename} (${form.label})`;
      const report = await inspectTarget(
        { path, data: form.data, name: leaf.names[0] ?? null, declaredType: leaf.contentType }, opts,
      );
      note(counted(form, report));
      note(await otherNameFindings(form, path, leaf.names, leaf.contentType, s.fileFilter));
      for (const [engine, ms] of Object.entries(report.engineMs)) engineMs[engine] = (engineMs[engine] ?? 0) + ms;
      if (form.label === null) carried = report;
      else if (form.declared) fileType ??= report.fileType.type;
    }
    out.push({
      id: leaf.id, path: leaf.path, leaf, filename, contentType: leaf.contentType, size: leaf.data.length,
      sha256: () => partSha256(leaf.data), fileType: fileType ?? carried?.fileType.type ?? null, findings, engineMs,
    });
  }
  return out;
}
