import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigFileError, parseConfigText, readConfigFile } from '../src/config-file.js';
import { ConfigError, loadConfig } from '../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsguard-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string): string {
  const p = join(dir, `f${n++}.env`);
  writeFileSync(p, text);
  return p;
}

const values = (text: string): Record<string, string> =>
  Object.fromEntries([...parseConfigText(text, 'x.env')].map(([k, e]) => [k, e.value]));

function fileError(text: string): ConfigFileError {
  try {
    parseConfigText(text, 'x.env');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigFileError);
    return e as ConfigFileError;
  }
  throw new Error('accepted');
}

describe('the CONFIG_FILE format', () => {
  it('reads NAME=value lines, comments, blank lines, export, quotes and inline comments', () => {
    const text = [
      '# mmsguard settings',
      '',
      'SCAN_ENGINES=builtin,clamd',
      '  export CLAMD_ADDRESS = unix:/run/clamav/clamd.ctl   # the local daemon',
      'ADMIN_TOKEN="a#b c \\"d\\" \\\\e"  # quoted: # is data',
      "MSISDN_HASH_KEY='$HOME #literal'",
      'FILE_FILTER=exe,dll#no space: part of the value',
      'LOG_LEVEL=',
    ].join('\r\n');
    expect(values(text)).toEqual({
      SCAN_ENGINES: 'builtin,clamd',
      CLAMD_ADDRESS: 'unix:/run/clamav/clamd.ctl',
      ADMIN_TOKEN: 'a#b c "d" \\e',
      MSISDN_HASH_KEY: '$HOME #literal',
      FILE_FILTER: 'exe,dll#no space: part of the value',
      LOG_LEVEL: '',
    });
  });

  it('keeps each entry\'s line number', () => {
    expect(parseConfigText('\n# x\nA=1\n\nB=2\n', 'x.env').get('B')?.line).toBe(5);
  });

  for (const [text, line, reason] of [
    ['A=1\nthis is not a setting', 2, 'expected NAME=value'],
    ['A=1\n1A=2', 2, "'1A' is not a variable name"],
    ['A=1\nB=2\nA=3', 3, 'A is already set on line 1'],
    ['A="open', 1, 'unterminated double quote'],
    ["A='open", 1, 'unterminated single quote'],
    ['A="x" y', 1, 'unexpected text after the closing quote'],
    ['A="a\\nb"', 1, 'unknown escape \\n'],
    ['\nA=x\u0000y', 2, 'control character'],
    ['A=x\rB=y', 1, 'control character'],
  ] as const) {
    it(`refuses ${JSON.stringify(text)} at line ${line}: ${reason}`, () => {
      const e = fileError(text);
      expect(e.line).toBe(line);
      expect(e.message).toContain(`x.env:${line}: ${reason}`);
    });
  }

  it('is total: any text yields entries or a ConfigFileError naming a line of it, nothing else', () => {
    const meaningful = fc.constantFrom('A', 'B_1', '=', '"', "'", '\\', '#', ' ', '\n', '\r', '\t', '\u0000', 'export');
    const unit = fc.oneof(meaningful, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
    fc.assert(
      // Text dense in what the format gives meaning to, with arbitrary code points mixed in.
      fc.property(fc.string({ unit, maxLength: 60 }), (text) => {
        try {
          parseConfigText(text, 'x.env');
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigFileError);
          const { line } = e as ConfigFileError;
          expect(line >= 1 && line <= text.split('\n').length).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trips any printable value written double-quoted', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }).filter((s) => ![...s].some((c) => c < ' ' || c === '\u007f')), (v) => {
        const quoted = `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
        expect(values(`NAME=${quoted}  # comment`)['NAME']).toBe(v);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses what is not a regular text file', () => {
    expect(() => readConfigFile(join(dir, 'missing.env'))).toThrow(/missing\.env: cannot open: ENOENT/);
    expect(() => readConfigFile(dir)).toThrow(/not a regular file/);
    const p = join(dir, 'bad-utf8.env');
    writeFileSync(p, Buffer.from([0x41, 0x3d, 0xc3, 0x28]));
    expect(() => readConfigFile(p)).toThrow(/not UTF-8/);
  });
});

function loadError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message.split('\n')).toHaveLength(1);
    return e as ConfigError;
  }
  throw new Error('accepted');
}

describe('loadConfig with CONFIG_FILE', () => {
  it('reads the file, lets the environment override it, and returns the file it read', () => {
    const p = file('MM1_OVERSIZE_LIMIT=1MiB\nSCAN_TIMEOUT=5\nLOG_FORMAT=kv\n');
    const { config, files, warnings } = loadConfig({ CONFIG_FILE: p, SCAN_TIMEOUT: '7' });
    expect(config.mm1.oversizeLimit).toBe(1024 * 1024);
    expect(config.scan.scanTimeoutMs).toBe(7000);
    expect(config.logFormat).toBe('kv');
    expect(config.configFile).toBe(p);
    expect(files).toEqual([p]);
    expect(warnings).toEqual([`warning: SCAN_TIMEOUT in ${p}:2 is overridden by the environment`]);
  });

  it('lets an environment variable set to the empty string override the file too', () => {
    const p = file('MM1_UPSTREAM_URL=http://mmsc:8002\n');
    expect(loadConfig({ CONFIG_FILE: p, MM1_UPSTREAM_URL: '' }).config.mm1.upstreamUrl).toBeNull();
  });

  it('reads nothing and returns no file without CONFIG_FILE', () => {
    expect(loadConfig({ SCAN_TIMEOUT: '3' })).toMatchObject({ files: [], warnings: [] });
  });

  it('is pure apart from reading the file: called again it sees the edited file', () => {
    const p = file('MM1_OVERSIZE_LIMIT=1MiB\n');
    const env = { CONFIG_FILE: p };
    const first = loadConfig(env);
    writeFileSync(p, 'MM1_OVERSIZE_LIMIT=2MiB\n');
    const second = loadConfig(env);
    expect([first.config.mm1.oversizeLimit, second.config.mm1.oversizeLimit]).toEqual([1024 * 1024, 2 * 1024 * 1024]);
    expect(env).toEqual({ CONFIG_FILE: p });
    expect(Object.isFrozen(first.config)).toBe(true);
  });

  it('refuses an unknown name in the file with file:line and the likely name', () => {
    const p = file('# settings\nSCAN_ENGINES=builtin\nSCAN_ENGINE=clamd\n');
    const e = loadError({ CONFIG_FILE: p });
    expect(e.message).toBe(
      `invalid configuration: CONFIG_FILE: ${p}:3: unknown variable SCAN_ENGINE (did you mean SCAN_ENGINES?)`,
    );
    expect([e.variable, e.file, e.line]).toEqual(['CONFIG_FILE', p, 3]);
  });

  it('refuses an unknown name even when nothing like it is ours (OTEL_* belong in the environment)', () => {
    const e = loadError({ CONFIG_FILE: file('OTEL_SERVICE_NAME=x\n') });
    expect(e.message).toMatch(/:1: unknown variable OTEL_SERVICE_NAME$/);
  });

  it('refuses CONFIG_FILE inside the file', () => {
    const e = loadError({ CONFIG_FILE: file('CONFIG_FILE=/etc/other.env\n') });
    expect(e.message).toContain('CONFIG_FILE cannot be set here');
  });

  it('names the file and line of a bad value taken from the file', () => {
    const p = file('\n\nMM1_PORT=0x1F90\n');
    const e = loadError({ CONFIG_FILE: p });
    const expected = `invalid configuration: MM1_PORT (${p}:3): '0x1F90' is not a port number`;
    expect(e.message.startsWith(expected)).toBe(true);
    expect([e.variable, e.file, e.line]).toEqual(['MM1_PORT', p, 3]);
  });

  it('names CONFIG_FILE when the file cannot be read or parsed', () => {
    const missing = loadError({ CONFIG_FILE: join(dir, 'nope.env') });
    expect(missing.message).toMatch(/^invalid configuration: CONFIG_FILE: .*nope\.env: cannot open/);
    const e = loadError({ CONFIG_FILE: file('A=1\nA=2\n') });
    expect(e.message).toMatch(/^invalid configuration: CONFIG_FILE: .*:2: A is already set on line 1$/);
    expect(e.line).toBe(2);
  });
});
