import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { detectFileType } from '@mmsguard/scan';
import {
  ConfigError, FILE_FILTER_TYPES, configWarnings, loadConfig, parseConfig, parseTrustedGateways,
} from '../src/config.js';

/** The one line a refused setting produces (what main prints before exit 2). */
function refusal(env: Record<string, string>): string {
  try {
    parseConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const message = (e as ConfigError).message;
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('operator mistakes are refused with one line naming the variable', () => {
  const cases: [Record<string, string>, string][] = [
    [{ MM1_PORT: '' }, 'MM1_PORT'],
    [{ MM1_PORT: '0x1F90' }, 'MM1_PORT'],
    [{ ADMIN_PORT: '1e3' }, 'ADMIN_PORT'],
    [{ MM7_PORT: '65536' }, 'MM7_PORT'],
    [{ SIM_PORT: '-1' }, 'SIM_PORT'],
    [{ UPSTREAM_CONNECTIONS: '0x10' }, 'UPSTREAM_CONNECTIONS'],
    [{ MM1_PORT: '9000', ADMIN_PORT: '9000' }, 'ADMIN_PORT'],
    [{ MM7_PORT: '8080' }, 'MM7_PORT'],
    [{ SIM_PORT: '9090' }, 'SIM_PORT'],
    [{ SCAN_TIMEOUT: '0.0001' }, 'SCAN_TIMEOUT'],
    [{ MM1_COMFORT_INTERVAL: '0.0004' }, 'MM1_COMFORT_INTERVAL'],
    [{ HEADERS_TIMEOUT: '0x10' }, 'HEADERS_TIMEOUT'],
    [{ REQUEST_TIMEOUT: '' }, 'REQUEST_TIMEOUT'],
    [{ MIN_UPLOAD_RATE_GRACE: '0' }, 'MIN_UPLOAD_RATE_GRACE'],
    [{ FLOOD_THRESHOLDS: '10/60:block:0.0001' }, 'FLOOD_THRESHOLDS'],
    [{ MM7_DUPE_THRESHOLDS: '10/60:block:0' }, 'MM7_DUPE_THRESHOLDS'],
    [{ MSISDN_HEADER: 'x msisdn' }, 'MSISDN_HEADER'],
    [{ MSISDN_HEADER: 'x-msisdn:' }, 'MSISDN_HEADER'],
    [{ MSISDN_HEADER: '' }, 'MSISDN_HEADER'],
    [{ HOST: 'proxy.example.net' }, 'HOST'],
    [{ HOST: '[::]' }, 'HOST'],
    [{ ADMIN_HOST: 'localhost' }, 'ADMIN_HOST'],
    [{ MM1_UPSTREAM_URL: 'http://mmsc:80800' }, 'MM1_UPSTREAM_URL'],
    [{ MM7_UPSTREAM_URL: 'http://mmsc:0x50/mm7' }, 'MM7_UPSTREAM_URL'],
    [{ NOTIFY_URL: 'https://hooks.example:0/x' }, 'NOTIFY_URL'],
    [{ SENDER_NOTICE_URL: 'mmsc:8002' }, 'SENDER_NOTICE_URL'],
    [{ STATE_STORE: 'redis://cache:70000' }, 'STATE_STORE'],
    [{ TRUSTED_GATEWAYS: 'wapgw.example.net' }, 'TRUSTED_GATEWAYS'],
    [{ TRUSTED_GATEWAYS: '10.0.0.1,10.0.0.0/33' }, 'TRUSTED_GATEWAYS'],
    [{ TRUSTED_GATEWAYS: '10.0.0.5/24' }, 'TRUSTED_GATEWAYS'],
    [{ TRUSTED_GATEWAYS: '2001:db8::1/64' }, 'TRUSTED_GATEWAYS'],
    [{ FILE_FILTER: 'exe,executable' }, 'FILE_FILTER'],
    [{ FILE_FILTER: 'txt' }, 'FILE_FILTER'],
    [{ MM1_SCAN_MODE: 'log' }, 'MM1_SCAN_MODE'],
    [{ REPLACEMENT_SIZE: 'same' }, 'REPLACEMENT_SIZE'],
    [{ QUARANTINE_MAX_BYTES: '0' }, 'QUARANTINE_MAX_BYTES'],
    [{ VERDICT_RETENTION: 'a day' }, 'VERDICT_RETENTION'],
    [{ MIN_UPLOAD_RATE: '-1' }, 'MIN_UPLOAD_RATE'],
  ];
  for (const [env, variable] of cases) {
    it(`refuses ${JSON.stringify(env)} naming ${variable}`, () => {
      expect(refusal(env)).toMatch(new RegExp(`^invalid configuration: ${variable}: `));
    });
  }

  it('suggests the file type a misspelt one probably meant', () => {
    expect(refusal({ FILE_FILTER: 'exe,dlll' })).toContain("unknown file type 'dlll'; did you mean dll?");
  });

  it('names the listener a port collides with', () => {
    expect(refusal({ MM1_PORT: '9000', ADMIN_PORT: '9000' })).toContain('9000 is also MM1_PORT');
  });
});

describe('what stays accepted', () => {
  it('takes the defaults from an empty environment', () => {
    const c = parseConfig({});
    expect([c.host, c.mm1.port, c.mm7.port, c.adminPort, c.simPort]).toEqual(['0.0.0.0', 8080, 8081, 9090, 8090]);
  });

  it('accepts port 0 on every listener (any free port: the tests)', () => {
    expect(parseConfig({ MM1_PORT: '0', MM7_PORT: '0', ADMIN_PORT: '0', SIM_PORT: '0' }).mm1.port).toBe(0);
  });

  it('ignores the ports of listeners that do not start (simulator, MM7 without MM7_UPSTREAM_URL)', () => {
    expect(parseConfig({ MM1_UPSTREAM_URL: 'http://mmsc:8002', MM1_PORT: '8090' }).mm1.port).toBe(8090);
    expect(parseConfig({ MM1_UPSTREAM_URL: 'http://mmsc:8002', ADMIN_PORT: '8081' }).adminPort).toBe(8081);
    expect(refusal({ MM1_UPSTREAM_URL: 'http://mmsc:8002', MM7_UPSTREAM_URL: 'http://mmsc:8003', ADMIN_PORT: '8081' }))
      .toContain('ADMIN_PORT: 8081 is also MM7_PORT');
  });

  it('accepts IPv6 listeners and URLs with IPv6 hosts and ports', () => {
    const c = parseConfig({ HOST: '::', ADMIN_HOST: '::1', MM1_UPSTREAM_URL: 'http://[2001:db8::2]:8002/mms/' });
    expect([c.host, c.adminHost, c.mm1.upstreamUrl]).toEqual(['::', '::1', 'http://[2001:db8::2]:8002/mms']);
  });

  it('accepts every type of the scan vocabulary, mismatch included, any case', () => {
    expect([...parseConfig({ FILE_FILTER: 'EXE, dll,apk,jar,msi,bat,js,vbs,ps1,elf,mismatch,tar.gz' }).scan.fileFilter])
      .toEqual(['exe', 'dll', 'apk', 'jar', 'msi', 'bat', 'js', 'vbs', 'ps1', 'elf', 'mismatch', 'tar.gz']);
  });

  it('takes a sub-second timeout that is at least 1 ms', () => {
    expect(parseConfig({ SCAN_TIMEOUT: '0.0005' }).scan.scanTimeoutMs).toBe(1);
  });
});

describe('the FILE_FILTER vocabulary', () => {
  it('holds every extension file-type names, mapped as @mmsguard/scan maps it', async () => {
    // Not resolvable from apps/proxy by name: the scan package's own copy is the one that runs.
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
    const at = pathToFileURL(resolve(root, 'packages/scan/node_modules/file-type/index.js')).href;
    const { supportedExtensions } = (await import(at)) as { supportedExtensions: ReadonlySet<string> };
    const asScanned: Record<string, string[]> = { gz: ['gzip'], cfb: ['ole', 'msi'], Z: [] };
    const expected = [...supportedExtensions].flatMap((e) => asScanned[e] ?? [e]);
    expect(expected.filter((t) => !FILE_FILTER_TYPES.has(t))).toEqual([]);
  });

  it('holds the types the scan names itself (PE kinds, shebang and name-only scripts)', async () => {
    const pe = new Uint8Array(0x40 + 24);
    pe.set([0x4d, 0x5a]);
    new DataView(pe.buffer).setUint32(0x3c, 0x40, true);
    pe.set([0x50, 0x45, 0, 0], 0x40);
    const dll = pe.slice();
    new DataView(dll.buffer).setUint16(0x40 + 22, 0x2000, true);
    const text = new TextEncoder().encode('echo hi\n');
    const found = [
      await detectFileType(pe),
      await detectFileType(dll),
      await detectFileType(new TextEncoder().encode('#!/bin/sh\n')),
      ...(await Promise.all(['a.bat', 'a.cmd', 'a.vbs', 'a.js', 'a.ps1'].map((n) => detectFileType(text, n)))),
    ].map((f) => f.type);
    expect(found).toEqual(['exe', 'dll', 'sh', 'bat', 'cmd', 'vbs', 'js', 'ps1']);
    for (const t of found) expect(FILE_FILTER_TYPES.has(t ?? ''), String(t)).toBe(true);
  });
});

describe('the second wave variables', () => {
  it('have the documented defaults', () => {
    const c = parseConfig({});
    expect(c.minUploadRate).toBe(1024);
    expect(c.minUploadRateGraceMs).toBe(10_000);
    expect([c.mm1.scanMode, c.mm7.scanMode]).toEqual(['block', 'block']);
    expect(c.replacementSize).toBe('template');
    expect(c.forensics).toEqual({ quarantineDir: null, quarantineMaxBytes: 1024 ** 3, verdictRetentionMs: 86_400_000 });
    expect(c.configFile).toBeNull();
    expect([c.mm1.clientComfort, c.mm7.clientComfort]).toEqual([false, false]);
  });

  it('read what the operator sets', () => {
    const c = parseConfig({
      MIN_UPLOAD_RATE: '0', MIN_UPLOAD_RATE_GRACE: '2.5', MM1_SCAN_MODE: 'monitor', MM7_SCAN_MODE: 'block',
      REPLACEMENT_SIZE: 'original', QUARANTINE_DIR: ' /var/lib/mmsguard/quarantine ', QUARANTINE_MAX_BYTES: '500MB',
      VERDICT_RETENTION: '3600', MM7_CLIENT_COMFORT: 'on',
    });
    expect(c.minUploadRate).toBe(0);
    expect(c.minUploadRateGraceMs).toBe(2500);
    expect([c.mm1.scanMode, c.mm7.scanMode]).toEqual(['monitor', 'block']);
    expect(c.replacementSize).toBe('original');
    expect(c.forensics).toEqual({
      quarantineDir: '/var/lib/mmsguard/quarantine', quarantineMaxBytes: 500_000_000, verdictRetentionMs: 3_600_000,
    });
    expect(c.mm7.clientComfort).toBe(true);
  });
});

describe('TRUSTED_GATEWAYS', () => {
  it('matches single addresses, IPv4 and IPv6 blocks, and IPv4-mapped peers', () => {
    const { matches, entries } = parseTrustedGateways('192.0.2.7, 10.20.0.0/16, 2001:db8:ab::/48, ::ffff:198.51.100.1');
    expect(entries).toEqual(['192.0.2.7', '10.20.0.0/16', '2001:db8:ab::/48', '198.51.100.1']);
    const inside = ['192.0.2.7', '::ffff:192.0.2.7', '10.20.0.1', '10.20.255.254', '2001:db8:ab:ffff::1'];
    inside.push('198.51.100.1');
    for (const a of inside) expect(matches(a), a).toBe(true);
    for (const a of ['192.0.2.8', '10.21.0.1', '2001:db8:ac::1', '::1', '', 'not-an-ip', '10.20.0.1/16']) {
      expect(matches(a), a).toBe(false);
    }
  });

  it('matches the edges of a block and nothing past them', () => {
    const { matches } = parseTrustedGateways('203.0.113.64/26,2001:db8::/127');
    expect([63, 64, 127, 128].map((n) => matches(`203.0.113.${n}`))).toEqual([false, true, true, false]);
    expect(['2001:db8::', '2001:db8::1', '2001:db8::2'].map(matches)).toEqual([true, true, false]);
  });

  it('answers the same from its memo of peers, also after the memo was filled and dropped', () => {
    const { matches } = parseTrustedGateways('10.0.0.0/8');
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5000; i++) expect(matches(`192.0.${i >> 8}.${i & 255}`)).toBe(false);
      expect([matches('10.1.2.3'), matches('::ffff:10.1.2.3'), matches('11.1.2.3'), matches('nonsense')])
        .toEqual([true, true, false, false]);
    }
  });

  it('is exposed on the configuration, next to the entries as written', () => {
    const c = parseConfig({ TRUSTED_GATEWAYS: '10.0.0.0/8,127.0.0.1' });
    expect([...c.trustedGateways]).toEqual(['10.0.0.0/8', '127.0.0.1']);
    expect(c.isTrustedGateway('10.9.8.7')).toBe(true);
    expect(c.isTrustedGateway('::ffff:127.0.0.1')).toBe(true);
    expect(c.isTrustedGateway('11.0.0.1')).toBe(false);
    expect(parseConfig({}).isTrustedGateway('127.0.0.1')).toBe(false);
  });
});

describe('risky settings are warnings', () => {
  it('warns when the admin port listens beyond loopback without ADMIN_TOKEN', () => {
    expect(configWarnings(parseConfig({ ADMIN_HOST: '0.0.0.0' }))).toEqual([
      expect.stringMatching(/^warning: ADMIN_HOST is 0\.0\.0\.0 \(not loopback\) and ADMIN_TOKEN is unset/),
    ]);
    expect(configWarnings(parseConfig({ ADMIN_HOST: '0.0.0.0', ADMIN_TOKEN: 's3cret' }))).toEqual([]);
    expect(configWarnings(parseConfig({ ADMIN_HOST: '::1' }))).toEqual([]);
    expect(configWarnings(parseConfig({ ADMIN_HOST: '127.0.0.2' }))).toEqual([]);
  });

  it('warns that flood senders are unattributed without a trusted gateway', () => {
    const w = configWarnings(parseConfig({ FLOOD_THRESHOLDS: '10/60:log' }));
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/^warning: FLOOD_THRESHOLDS .*TRUSTED_GATEWAYS is empty: senders are unattributed/);
    expect(configWarnings(parseConfig({ FLOOD_THRESHOLDS: '10/60:log', TRUSTED_GATEWAYS: '10.0.0.0/8' }))).toEqual([]);
    // Duplicates count content, not senders: nothing to attribute.
    expect(configWarnings(parseConfig({ DUPE_THRESHOLDS: '10/60:log' }))).toEqual([]);
  });

  it('warns about a trusted block of every address', () => {
    expect(configWarnings(parseConfig({ TRUSTED_GATEWAYS: '0.0.0.0/0' }))).toEqual([
      'warning: TRUSTED_GATEWAYS 0.0.0.0/0 trusts every address to vouch for an MSISDN',
    ]);
  });

  it('are returned by loadConfig, one line each', () => {
    const { warnings } = loadConfig({ ADMIN_HOST: '0.0.0.0', FLOOD_THRESHOLDS: '5/60:log', SCAN_ENGINE: 'clamd' });
    expect(warnings).toHaveLength(3);
    for (const w of warnings) expect(w).not.toContain('\n');
  });
});
