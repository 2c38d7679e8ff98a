/** ICAP_URL, OPTIONS and infection headers: the pure pieces. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BLOCKED_NAME, DEFAULT_OPTIONS_TTL_MS, MIN_OPTIONS_TTL_MS, ReplyReader, UNNAMED, formatIcapUrl, infectionName,
  parseIcapUrl, parseIcapUrls, parseOptions, type IcapReplyHead,
} from '../src/index.js';

const fields = (o: Record<string, string>): Map<string, string[]> =>
  new Map(Object.entries(o).map(([k, v]) => [k.toLowerCase(), [v]]));
const code = (c: string): Error => expect.objectContaining({ code: c }) as Error;
const head = (status: number, f: Record<string, string>): IcapReplyHead =>
  ({ status, reason: '', fields: fields(f), http: null, hasBody: false });

describe('ICAP_URL', () => {
  it('parses host, port (1344 by default), service with its arguments, IPv6, failover lists', () => {
    expect(parseIcapUrls('icap://av1:1345/virus_scan, icap://av2/srv_clamav?allow204=on&force=on')).toEqual([
      { host: 'av1', port: 1345, service: '/virus_scan' },
      { host: 'av2', port: 1344, service: '/srv_clamav?allow204=on&force=on' },
    ]);
    expect(parseIcapUrl('icap://[::1]:1344/avscan')).toEqual({ host: '::1', port: 1344, service: '/avscan' });
    expect(formatIcapUrl(parseIcapUrl('icap://[::1]/avscan'))).toBe('icap://[::1]:1344/avscan');
  });

  it('refuses what it cannot parse, TLS, a missing service and header injection with MMS_ERR_ICAP_URL', () => {
    const bad = ['', ' , ', 'av1:1344/virus_scan', 'http://av1/virus_scan', 'icaps://av1/virus_scan', 'icap://av1',
      'icap://av1/', 'icap://av1:0/s', 'icap://av1:70000/s', 'icap://av1/s\r\nX-Injected: 1', 'icap://av 1/s',
      'icap://av1/?x'];
    for (const b of bad) {
      expect(() => parseIcapUrls(b), JSON.stringify(b)).toThrow(code('MMS_ERR_ICAP_URL'));
    }
  });

  it('never lets a control character or space into the service (property)', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      try {
        const a = parseIcapUrl(`icap://h/${s}`);
        expect(a.service).toMatch(/^\/[\x21-\x7e]+$/);
      } catch (e) {
        expect((e as { code: string }).code).toBe('MMS_ERR_ICAP_URL');
      }
    }));
  });
});

describe('OPTIONS', () => {
  it('reads c-icap virus_scan options', () => {
    const o = parseOptions(head(200, {
      Methods: 'RESPMOD, REQMOD', ISTag: '"CI0001-L5CkDhq+qWNs"', Preview: '1024', 'Options-TTL': '3600', Allow: '204',
      'Max-Connections': '20', Service: 'C-ICAP/0.5.10 server - Antivirus service',
    }), 'x');
    expect(o).toEqual({
      istag: 'CI0001-L5CkDhq+qWNs', methods: ['RESPMOD', 'REQMOD'], preview: 1024, allow204: true, maxConnections: 20,
      ttlMs: 3_600_000, service: 'C-ICAP/0.5.10 server - Antivirus service',
    });
  });

  it('takes a REQMOD-only service, assumes RESPMOD when Methods is missing, refuses one with neither', () => {
    expect(parseOptions(head(200, { Methods: 'REQMOD' }), 'x').methods).toEqual(['REQMOD']);
    expect(parseOptions(head(200, {}), 'x')).toMatchObject({ methods: ['RESPMOD'], preview: null, istag: null });
    expect(() => parseOptions(head(200, { Methods: 'OPTIONS' }), 'x')).toThrow(code('MMS_ERR_ICAP_METHOD'));
    expect(() => parseOptions(head(404, {}), 'x')).toThrow(code('MMS_ERR_ICAP_STATUS'));
  });

  it('bounds what a server says: TTL floor, no TTL, nonsense numbers, an ISTag that would break a log line', () => {
    expect(parseOptions(head(200, { 'Options-TTL': '0' }), 'x').ttlMs).toBe(MIN_OPTIONS_TTL_MS);
    expect(parseOptions(head(200, { 'Options-TTL': 'soon' }), 'x').ttlMs).toBe(DEFAULT_OPTIONS_TTL_MS);
    expect(parseOptions(head(200, { Preview: '-5', 'Max-Connections': '0' }), 'x'))
      .toMatchObject({ preview: null, maxConnections: null });
    expect(parseOptions(head(200, { ISTag: '"a\u0001b"' }), 'x').istag).toBe('a?b');
  });
});

describe('infection names', () => {
  it('reads c-icap X-Infection-Found (as recorded), then X-Violations-Found, then X-Virus-ID', () => {
    const r = new ReplyReader().feed(Buffer.from(
      'ICAP/1.0 200 OK\r\nX-Infection-Found: Type=0; Resolution=2; Threat=Eicar-Test-Signature.UNOFFICIAL;\r\n' +
      'X-Violations-Found: 1\r\n\t-\r\n\tOther\r\n\t0\r\n\t0\r\nEncapsulated: null-body=0\r\n\r\n',
    ));
    expect(infectionName((r[0] as { head: IcapReplyHead }).head.fields)).toBe('Eicar-Test-Signature.UNOFFICIAL');
    const folded = new Map([['x-violations-found', ['1\n-\nWin.Trojan.Agent-1\n0\n0']]]);
    expect(infectionName(folded)).toBe('Win.Trojan.Agent-1');
    expect(infectionName(fields({ 'X-Virus-ID': 'EICAR Test String' }))).toBe('EICAR Test String');
    expect(infectionName(fields({ 'X-Infection-Found': 'Type=2; Resolution=2; Threat=Zip Bomb;' }))).toBe('Zip Bomb');
  });

  it('reports an infection header without a usable name as ICAP.Unnamed, and no report as null', () => {
    expect(infectionName(fields({ 'X-Infection-Found': 'Type=0; Resolution=2;' }))).toBe(UNNAMED);
    expect(infectionName(fields({ 'X-Violations-Found': '0' }))).toBeNull();
    expect(infectionName(fields({ 'X-Virus-ID': '' }))).toBeNull();
    expect(infectionName(fields({ ISTag: 'x' }))).toBeNull();
    expect(BLOCKED_NAME).toBe('ICAP.Blocked');
  });

  it('keeps names printable and short, whatever the server sends', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => {
      const name = infectionName(fields({ 'X-Infection-Found': `Type=0; Threat=${s};` }));
      expect(name).toMatch(/^[\x20-\x7e]{1,200}$/);
    }));
  });
});
