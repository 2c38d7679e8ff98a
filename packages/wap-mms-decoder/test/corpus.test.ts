/**
 * Every real PDU of shared/corpus/mms decodes to its tshark-derived
 * expectation (mms-oracle/1) on the keys of CONTRACT §4.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MmsError, decode, pduToJson } from '../src/index.js';
import { CORPUS_MMS, HAVE_SHARED } from './shared.js';

const files = HAVE_SHARED ? readdirSync(CORPUS_MMS).filter((f) => f.endsWith('.mms')).sort() : [];

interface Expected {
  message_type: { code: number; name: string } | null;
  tshark: { notes: string[] };
  parts: Record<string, unknown>[];
  [k: string]: unknown;
}

function isNotPdu(exp: Expected): boolean {
  return exp.tshark.notes.some((n) => n.startsWith('PDU does not start with X-Mms-Message-Type'));
}

function encStr(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  const o = v as { text: string; charset: number | null };
  return { text: o.text, charset: o.charset };
}

const PART_KEYS = [
  'content_type', 'name', 'filename', 'content_location', 'content_id', 'data_length', 'sha256',
] as const;

describe.skipIf(!HAVE_SHARED)('corpus: real PDUs agree with the oracle', () => {
  it('finds the corpus', () => {
    expect(files.length).toBeGreaterThanOrEqual(79);
  });

  for (const file of files) {
    it(file, () => {
      const bytes = readFileSync(join(CORPUS_MMS, file));
      const expectedFile = join(CORPUS_MMS, file.replace(/\.mms$/, '.expected.json'));
      const exp = JSON.parse(readFileSync(expectedFile, 'utf8')) as Expected;
      if (isNotPdu(exp)) {
        expect(() => decode(bytes)).toThrow(MmsError);
        return;
      }
      const got = pduToJson(decode(bytes));
      for (const k of ['message_type', 'transaction_id', 'mms_version', 'message_id'] as const) {
        expect(got[k], k).toEqual(exp[k]);
      }
      const date = exp['date'] as { epoch: number } | null;
      expect(got['date']).toEqual(date === null ? null : { epoch: date.epoch });
      const from = exp['from'] as { insert_address: boolean; address: unknown } | null;
      const wantFrom = from === null ? null : { insert_address: from.insert_address, address: encStr(from.address) };
      expect(got['from'], 'from').toEqual(wantFrom);
      for (const k of ['to', 'cc', 'bcc'] as const) {
        expect(got[k], k).toEqual((exp[k] as unknown[]).map(encStr));
      }
      for (const k of ['subject', 'response_text', 'retrieve_text'] as const) {
        expect(got[k], k).toEqual(encStr(exp[k]));
      }
      expect(got['content_type'], 'content_type').toEqual(exp['content_type']);
      const parts = got['parts'] as Record<string, unknown>[];
      expect(parts.length, 'part count').toBe(exp.parts.length);
      exp.parts.forEach((ep, i) => {
        const gp = parts[i] as Record<string, unknown>;
        for (const k of PART_KEYS) expect(gp[k], `part ${i + 1} ${k}`).toEqual(ep[k]);
        const ec = ep['charset'] as { mib: number } | null;
        expect((gp['charset'] as { mib: number } | null)?.mib ?? null, `part ${i + 1} charset`).toBe(ec?.mib ?? null);
        // Parameter values as tshark prints them; charset names compared case-insensitively.
        const lower = (o: unknown): unknown =>
          Object.fromEntries(
            Object.entries(o as Record<string, string>).map(([k, v]) => [k, k === 'charset' ? v.toLowerCase() : v]),
          );
        expect(lower(gp['params']), `part ${i + 1} params`).toEqual(lower(ep['params']));
      });
    });
  }
});
