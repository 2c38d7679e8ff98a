import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryVerdictStore, type VerdictRecord } from '@mmsguard/policy';
import { BuiltinEngine, parseSignatureText, type HashSignature } from '@mmsguard/scan';
import { Quarantine, newHashSignatures, retroHunt, runRetroHunt, type RetroHuntMatch } from '../src/index.js';
import { EICAR, tempDir, virus } from './helpers.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2025-03-01T12:00:00Z');
const hex = (algo: string, s: string): string => createHash(algo).update(s).digest('hex');
const sigs = (file: string, text: string): readonly HashSignature[] => parseSignatureText(file, text).set.hashes;

function forwarded(tid: string, contents: readonly string[], time = T0): VerdictRecord {
  return {
    service: 'MM1', time: new Date(time).toISOString(), action: 'forwarded',
    transaction_id: tid, message_id: `m-${tid}`, from: '+4790000001', to: ['+4790000002'],
    parts: contents.map((c, index) => ({
      index, content_type: 'application/octet-stream', filename: null, size: c.length, sha256: hex('sha256', c),
      findings: [], quarantined: false,
    })),
  };
}

async function all(input: Parameters<typeof retroHunt>[0]): Promise<RetroHuntMatch[]> {
  const out: RetroHuntMatch[] = [];
  for await (const m of retroHunt(input)) out.push(m);
  return out;
}

describe('newHashSignatures', () => {
  it('returns the lines the reload added, a renamed or resized signature included', () => {
    const before = sigs('a.hsb', `${hex('sha256', 'x')}:1:Old.X\n${hex('sha256', 'y')}:1:Old.Y\n`);
    const after = sigs('a.hsb', [
      `${hex('sha256', 'x')}:1:Old.X`, `${hex('sha256', 'y')}:*:Old.Y`, `${hex('sha256', 'z')}:1:New.Z`,
    ].join('\n'));
    expect(newHashSignatures(before, after).map((s) => s.name)).toEqual(['Old.Y', 'New.Z']);
    expect(newHashSignatures(after, after)).toEqual([]);
  });
});

describe('retroHunt: delivered parts', () => {
  it('names the message, when it was delivered, and the signature a new .hsb line gives its part', async () => {
    const store = new MemoryVerdictStore();
    const payload = 'clean yesterday, malware today';
    await store.put(forwarded('tid-7', ['hello', payload]), HOUR, T0, [{ index: 0 }, { index: 1 }]);
    const before = sigs('main.hsb', `${hex('sha256', 'unrelated')}:9:Old.Sig\n`);
    const added = `${hex('sha256', payload)}:${payload.length}:Retro.Sig`;
    const after = sigs('main.hsb', `${hex('sha256', 'unrelated')}:9:Old.Sig\n${added}\n`);
    const matches = await all({ signatures: newHashSignatures(before, after), store, now: T0 + 60_000 });
    expect(matches).toEqual([{
      source: 'delivered', transactionId: 'tid-7', messageId: 'm-tid-7', service: 'MM1', sha256: hex('sha256', payload),
      size: payload.length, signature: 'Retro.Sig', algo: 'sha256', deliveredAt: '2025-03-01T12:00:00.000Z',
    }]);
  });

  it('matches a signature with a size only on parts of that size, and one with * on any', async () => {
    const store = new MemoryVerdictStore();
    await store.put(forwarded('t', ['abc']), HOUR, T0, [{ index: 0 }]);
    const h = hex('sha256', 'abc');
    const signatures = sigs('s.hsb', `${h}:4:Wrong.Size\n${h}:3:Right.Size\n${h}:*:Any.Size\n`);
    const m = await all({ signatures, store, now: T0 });
    expect(m.map((x) => x.signature)).toEqual(['Right.Size', 'Any.Size']);
  });

  it('passes over blocked messages, removed parts and deliveries older than the retention', async () => {
    const store = new MemoryVerdictStore();
    await store.put({ ...forwarded('blocked', ['bad']), action: 'blocked' }, HOUR, T0);
    await store.put({ ...forwarded('removed', ['bad', 'ok']), action: 'attachment-removed' }, HOUR, T0, [{ index: 1 }]);
    await store.put(forwarded('old', ['old']), HOUR, T0 - 2 * HOUR, [{ index: 0 }]);
    const text = ['bad', 'ok', 'old'].map((c) => `${hex('sha256', c)}:*:Sig.${c}`).join('\n');
    const m = await all({ signatures: sigs('s.hsb', text), store, now: T0 });
    expect(m.map((x) => (x.source === 'delivered' ? x.transactionId : null))).toEqual(['removed']);
  });

  it('hunts .hdb (MD5) and SHA-1 signatures where those digests were kept, and counts each kind', async () => {
    const store = new MemoryVerdictStore();
    await store.put(forwarded('with-md5', ['payload']), HOUR, T0, [{ index: 0, md5: hex('md5', 'payload') }]);
    await store.put(forwarded('sha256-only', ['other']), HOUR, T0, [{ index: 0 }]);
    const signatures = [
      ...sigs('s.hdb', `${hex('md5', 'payload')}:7:Md5.Sig\n${hex('md5', 'other')}:5:Md5.Other\n`),
      ...sigs('s.hsb', `${hex('sha1', 'other')}:5:Sha1.Other\n`),
    ];
    const found: RetroHuntMatch[] = [];
    const summary = await runRetroHunt({ signatures, store, now: T0 }, (m) => void found.push(m));
    expect(found.map((m) => [m.signature, m.source === 'delivered' ? m.algo : null])).toEqual([['Md5.Sig', 'md5']]);
    expect(summary).toEqual({
      signatures: { md5: 2, sha1: 1, sha256: 0 }, deliveredMatches: 1,
      quarantineScanned: 0, quarantineMatches: 0, aborted: false,
    });
  });

  it('asks the store in bounded batches, whatever the size of the update', async () => {
    const asked: number[] = [];
    const store = { findDelivered: (d: readonly unknown[]) => (asked.push(d.length), Promise.resolve([])) };
    const text = Array.from({ length: 2500 }, (_, i) => `${hex('sha256', `s${i}`)}:*:S${i}`).join('\n');
    await all({ signatures: sigs('s.hsb', text), store, now: T0 });
    expect(asked).toEqual([1000, 1000, 500]);
  });
});

describe('retroHunt: the quarantine', () => {
  it('rescans with the reloaded engine and reports only names the part was not blocked for', async () => {
    const q = await Quarantine.open({ dir: await tempDir() });
    const exe = 'MZ pretend executable';
    q.put({ data: Buffer.from(EICAR), transactionId: 'q1', service: 'MM1', findings: [virus], time: T0 });
    const filtered = { kind: 'file-type', engine: null, name: 'exe' };
    q.put({ data: Buffer.from(exe), transactionId: 'q2', service: 'MM7', findings: [filtered], time: T0 + 1 });
    await q.flush();
    const before = sigs('x.hsb', '');
    const after = sigs('x.hsb', `${hex('sha256', exe)}:${exe.length}:Trojan.Retro\n`);
    const engine = new BuiltinEngine({ hashes: after, bodies: [] });
    const scan = async (data: Buffer): Promise<string[]> => {
      const o = await engine.scan({ path: 'quarantine', data }, new AbortController().signal);
      return o.kind === 'infected' ? [o.name] : [];
    };
    const matches = await all({ signatures: newHashSignatures(before, after), quarantine: q, scan, now: T0 });
    expect(matches).toEqual([{
      source: 'quarantine', sha256: hex('sha256', exe), size: exe.length, signature: 'Trojan.Retro',
      transactionIds: ['q2'], lastSeen: new Date(T0 + 1).toISOString(),
    }]);
  });

  it('stops between parts when aborted, and says so', async () => {
    const q = await Quarantine.open({ dir: await tempDir() });
    for (let i = 0; i < 5; i++) {
      q.put({ data: Buffer.from(`p${i}`), transactionId: `t${i}`, service: 'MM1', findings: [], time: T0 + i });
    }
    await q.flush();
    const ac = new AbortController();
    let scanned = 0;
    const scan = (): Promise<string[]> => {
      if (++scanned === 2) ac.abort();
      return Promise.resolve(['New.Name']);
    };
    const input = { signatures: [], quarantine: q, scan, now: T0, signal: ac.signal };
    const summary = await runRetroHunt(input, () => undefined);
    expect(summary).toMatchObject({ quarantineScanned: 2, quarantineMatches: 2, aborted: true });
  });
});
