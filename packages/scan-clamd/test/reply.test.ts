import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_REPLY, ReplyReader, parseClamdAddress, parseClamdAddresses, parseScanReply } from '../src/index.js';

const REPLIES = [
  'stream: OK', 'stream: Eicar-Test-Signature FOUND', 'INSTREAM size limit exceeded. ERROR', 'PONG',
  'ClamAV 1.4.6/1/Thu Jan  1 00:00:00 2026',
];

describe('the clamd reply reader', () => {
  it('gives the same replies whatever the split points', () => {
    const wire = Buffer.from(REPLIES.map((r) => `${r}\0`).join(''));
    for (let a = 0; a <= wire.length; a++) {
      for (const b of [a, Math.min(wire.length, a + 1), Math.min(wire.length, a + 7)]) {
        const rd = new ReplyReader();
        const got = [...rd.feed(wire.subarray(0, a)), ...rd.feed(wire.subarray(a, b)), ...rd.feed(wire.subarray(b))];
        expect(got, `split at ${a},${b}`).toEqual(REPLIES);
      }
    }
  });

  it('gives the same replies for any chunking (property)', () => {
    const replyLists = fc.array(fc.constantFrom(...REPLIES), { maxLength: 6 });
    fc.assert(
      fc.property(replyLists, fc.array(fc.nat(), { maxLength: 10 }), (replies, cuts) => {
        const wire = Buffer.from(replies.map((r) => `${r}\0`).join(''));
        const points = [...new Set(cuts.map((c) => (wire.length === 0 ? 0 : c % (wire.length + 1))))]
          .sort((x, y) => x - y);
        const rd = new ReplyReader();
        const got: string[] = [];
        let prev = 0;
        for (const p of [...points, wire.length]) {
          got.push(...rd.feed(wire.subarray(prev, p)));
          prev = p;
        }
        expect(got).toEqual(replies);
      }),
    );
  });

  it('does not buffer a reply without end: past MAX_REPLY it reports an overflow', () => {
    const rd = new ReplyReader();
    expect(rd.feed(Buffer.alloc(MAX_REPLY + 10, 0x41))).toEqual([]);
    expect(rd.tooLong).toBe(true);
    expect(parseScanReply(rd.feed(Uint8Array.of(0))[0] ?? ''))
      .toMatchObject({ kind: 'error', code: 'MMS_ERR_CLAMD_PROTOCOL' });
  });

  it('maps replies to outcomes', () => {
    expect(parseScanReply('stream: OK')).toEqual({ kind: 'clean' });
    expect(parseScanReply('stream: Win.Test.EICAR_HDB-1 FOUND'))
      .toEqual({ kind: 'infected', name: 'Win.Test.EICAR_HDB-1' });
    expect(parseScanReply('INSTREAM size limit exceeded. ERROR'))
      .toMatchObject({ kind: 'error', code: 'MMS_ERR_CLAMD_SIZE_LIMIT' });
    expect(parseScanReply('stream: Can\'t allocate memory ERROR'))
      .toMatchObject({ kind: 'error', code: 'MMS_ERR_CLAMD_ERROR' });
    expect(parseScanReply('HTTP/1.1 400 Bad Request')).toMatchObject({ kind: 'error', code: 'MMS_ERR_CLAMD_PROTOCOL' });
    expect(parseScanReply('')).toMatchObject({ kind: 'error', code: 'MMS_ERR_CLAMD_PROTOCOL' });
  });

  it('never throws on arbitrary replies', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      expect(['clean', 'infected', 'error']).toContain(parseScanReply(s).kind);
    }));
  });
});

describe('CLAMD_ADDRESS', () => {
  it('parses tcp and unix addresses and failover lists', () => {
    expect(parseClamdAddresses('tcp://127.0.0.1:3310, unix:/run/clamav/clamd.ctl')).toEqual([
      { kind: 'tcp', host: '127.0.0.1', port: 3310 },
      { kind: 'unix', path: '/run/clamav/clamd.ctl' },
    ]);
    expect(parseClamdAddress('tcp://[::1]:3310')).toEqual({ kind: 'tcp', host: '::1', port: 3310 });
  });

  it('refuses what it cannot parse with MMS_ERR_CLAMD_ADDRESS', () => {
    for (const bad of ['', 'localhost:3310', 'tcp://host', 'tcp://h:99999', 'unix:relative/path', 'http://x:1']) {
      expect(() => parseClamdAddresses(bad), bad)
        .toThrow(expect.objectContaining({ code: 'MMS_ERR_CLAMD_ADDRESS' }) as Error);
    }
  });
});
