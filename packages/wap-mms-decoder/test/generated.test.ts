/**
 * Random valid PDUs from shared/tools/mms-gen (an independent encoder) and its
 * hand-made trap set decode to their truth sidecars. The seed changes every
 * run (printed in the suite name and on failure); MMS_GEN_SEED pins it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { FIELD, decode, partInfo, pduToJson, wellKnown, type MmsPart } from '../src/index.js';
import { HAVE_SHARED, MMS_GEN } from './shared.js';

const COUNT = Number(process.env['MMS_GEN_COUNT'] ?? 500);
const SEED = Number(process.env['MMS_GEN_SEED'] ?? Math.floor(Math.random() * 2 ** 31));

const OCTET_FIELDS: Record<string, number> = {
  'mmse.priority': 0x0f, 'mmse.delivery_report': 0x06, 'mmse.message_class.id': 0x0a,
  'mmse.read_report': 0x10, 'mmse.read_reply': 0x10, 'mmse.sender_visibility': 0x14, 'mmse.retrieve_status': 0x19,
};

interface TruthPart {
  content_type: string;
  charset: { mib: number } | null;
  name: string | null;
  filename: string | null;
  content_location: string | null;
  content_id: string | null;
  content_disposition: string | null;
  application_headers: [string, string][];
  data_length: number;
  sha256: string;
  inner_parts?: TruthPart[];
}

function checkParts(got: readonly MmsPart[], want: TruthPart[], where: string): void {
  expect(got.length, `${where} part count`).toBe(want.length);
  want.forEach((w, i) => {
    const g = got[i] as MmsPart;
    const info = partInfo(g);
    const at = `${where} part ${i}`;
    expect(g.contentType.mediaType, `${at} content_type`).toBe(w.content_type);
    expect(info.charset, `${at} charset`).toBe(w.charset?.mib ?? null);
    expect(info.name, `${at} name`).toBe(w.name);
    expect(info.filename, `${at} filename`).toBe(w.filename);
    expect(info.contentLocation, `${at} content_location`).toBe(w.content_location);
    expect(info.contentId, `${at} content_id`).toBe(w.content_id);
    expect(info.disposition, `${at} disposition`).toBe(w.content_disposition);
    const apps = g.headers.flatMap((h) => (h.type === 'application' ? [[h.name, h.value]] : []));
    expect(apps, `${at} application headers`).toEqual(w.application_headers);
    expect(g.data.length, `${at} data_length`).toBe(w.data_length);
    expect(sha256(g.data), `${at} sha256`).toBe(w.sha256);
    if (w.inner_parts !== undefined) checkParts(g.children ?? [], w.inner_parts, at);
  });
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function checkFile(dir: string, file: string): void {
  const bytes = readFileSync(join(dir, file));
  const truthFile = join(dir, file.replace(/\.mms$/, '.truth.json'));
  const t = JSON.parse(readFileSync(truthFile, 'utf8')) as Record<string, unknown>;
  const pdu = decode(bytes);
  const json = pduToJson(pdu) as Record<string, unknown>;
  expect(json['message_type']).toEqual(t['message_type']);
  const keys = [
    'transaction_id', 'mms_version', 'message_id', 'to', 'cc', 'bcc', 'subject', 'application_headers',
  ] as const;
  for (const k of keys) {
    expect(json[k], k).toEqual(t[k]);
  }
  expect((json['date'] as { epoch: number } | null)?.epoch ?? null, 'date').toBe(t['date'] ?? null);
  expect(json['from'], 'from').toEqual(t['from']);
  const ct = t['content_type'] as { media_type: string; params: Record<string, string> };
  expect(json['content_type'], 'content_type').toEqual(ct);
  for (const [field, value] of Object.entries(t['octet_headers'] as Record<string, string>)) {
    const code = OCTET_FIELDS[field];
    if (code === undefined) continue;
    const v = wellKnown(pdu, code);
    expect(v?.kind === 'octet' ? `0x${v.value.toString(16)}` : v, field).toBe(value);
  }
  const expiry = t['expiry'] as { relative?: number; absolute?: number } | null | undefined;
  if (expiry) {
    const v = wellKnown(pdu, FIELD.EXPIRY);
    const value = expiry.absolute ?? expiry.relative;
    expect(v, 'expiry').toEqual({ kind: 'time', absolute: expiry.absolute !== undefined, value });
  }
  checkParts(pdu.parts ?? [], t['parts'] as TruthPart[], file);
  if (t['malformed'] === true) expect(pdu.issues.length, 'issues on a malformed trap').toBeGreaterThan(0);
  else expect(pdu.issues, 'issues').toEqual([]);
}

const work = HAVE_SHARED ? mkdtempSync(join(tmpdir(), 'mms-gen-')) : '';
afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!HAVE_SHARED)(`mms-gen: ${COUNT} random PDUs, seed ${SEED} (MMS_GEN_SEED=${SEED} to repeat)`, () => {
  it('decodes every generated PDU to its truth sidecar', () => {
    const dir = join(work, 'gen');
    execFileSync(MMS_GEN, ['--seed', String(SEED), '--out', dir, '--count', String(COUNT)], { stdio: 'pipe' });
    const files = readdirSync(dir).filter((f) => f.endsWith('.mms')).sort();
    expect(files.length).toBe(COUNT);
    for (const f of files) {
      try {
        checkFile(dir, f);
      } catch (e) {
        throw new Error(`seed ${SEED}, ${f}: ${(e as Error).message}`);
      }
    }
  });

  it('decodes every trap PDU (real-handset quirks) to its truth sidecar', () => {
    const dir = join(work, 'traps');
    execFileSync(MMS_GEN, ['--traps', dir], { stdio: 'pipe' });
    const files = readdirSync(dir).filter((f) => f.endsWith('.mms')).sort();
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) checkFile(dir, f);
  });
});
