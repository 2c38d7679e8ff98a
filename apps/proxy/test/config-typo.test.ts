import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../src/config.js';
import { editDistance, suggest, typoHints } from '../src/typo-hints.js';

describe('typo hints', () => {
  for (const [name, meant] of [
    ['SCAN_ENGINE', ['SCAN_ENGINES']],
    ['MM1_OVERSIZE_LIMT', ['MM1_OVERSIZE_LIMIT']],
    ['CLAMD_ADRESS', ['CLAMD_ADDRESS']],
    ['MM1_OVERSIEZ_LIMIT', ['MM1_OVERSIZE_LIMIT']],
    ['scan_engines', ['SCAN_ENGINES']],
    ['Scan-Engines', ['SCAN_ENGINES']],
    ['SCAN_TIMEOUT_MS', ['SCAN_TIMEOUT']],
    ['MMSGUARD_LOG_LEVEL', ['LOG_LEVEL']],
    ['OVERSIZE_LIMIT', ['MM1_OVERSIZE_LIMIT', 'MM7_OVERSIZE_LIMIT']],
    ['CLAMD_ADDR', ['CLAMD_ADDRESS']],
    ['MM8_PORT', ['MM1_PORT', 'MM7_PORT']],
    ['HOSTS', ['HOST']],
    ['TRUSTED_GATEWAY', ['TRUSTED_GATEWAYS']],
    ['QUARANTINE_MAX_SIZE', ['QUARANTINE_MAX_BYTES']],
  ] as const) {
    it(`takes ${name} for ${meant.join(' or ')}`, () => {
      expect(suggest(name, CONFIG_VARIABLES)).toEqual(meant);
    });
  }

  it('hints a one-letter slip of every variable the schema has (the names come from the schema)', () => {
    for (const v of CONFIG_VARIABLES) {
      const typo = `${v.slice(0, -1)}${v.endsWith('Q') ? 'X' : 'Q'}`;
      expect(suggest(typo, CONFIG_VARIABLES), v).toContain(v);
    }
  });

  it('stays quiet about our own names and the environment every process has', () => {
    const common = [
      'PATH', 'HOME', 'HOSTNAME', 'USER', 'LOGNAME', 'SHELL', 'PWD', 'OLDPWD', 'TERM', 'LANG', 'LC_ALL', 'TZ', 'SHLVL',
      '_', 'INIT_CWD', 'TMPDIR', 'EDITOR', 'npm_config_log_level', 'npm_lifecycle_event', 'npm_package_name',
      'NODE_ENV', 'NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'OTEL_SERVICE_NAME', 'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_LOG_LEVEL', 'PNPM_HOME', 'XDG_RUNTIME_DIR', 'SSH_AUTH_SOCK', 'GITHUB_ACTIONS', 'CI', 'DEBUG', 'COLORTERM',
      'INVOCATION_ID', 'JOURNAL_STREAM', 'KUBERNETES_SERVICE_HOST', 'KUBERNETES_PORT', 'REDIS_PORT', 'HTTP_PROXY',
      'no_proxy', 'UV_THREADPOOL_SIZE', 'MMSGUARD_SHARED', 'CLAMD_BIN', 'REDIS_BIN', 'SIM_HOST', 'SIM_STORE',
      'DEMO_PROXY_URL', 'SOAK_PROXY_ENV', 'BENCH_DURATION', 'FUZZ_SEED', 'STATE_DIRECTORY', 'HOME_URL', 'PORT',
      'TF_CLI_CONFIG_FILE', 'AWS_CONFIG_FILE', 'PINO_LOG_LEVEL', 'GRAFANA_ADMIN_PORT', 'DB_STATE_STORE',
      ...CONFIG_VARIABLES,
    ];
    expect(typoHints([...common, ...Object.keys(process.env)], CONFIG_VARIABLES, 'the environment')).toEqual([]);
  });

  it('writes one line per name, naming it and the likely variable', () => {
    expect(typoHints(['SCAN_ENGINE', 'PATH', 'OVERSIZE_LIMIT'], CONFIG_VARIABLES, 'the environment')).toEqual([
      'warning: SCAN_ENGINE in the environment is not a mmsguard variable; did you mean SCAN_ENGINES?',
      'warning: OVERSIZE_LIMIT in the environment is not a mmsguard variable; ' +
        'did you mean MM1_OVERSIZE_LIMIT or MM7_OVERSIZE_LIMIT?',
    ]);
  });

  it('reach loadConfig\'s warnings, and the misspelt variable is still not applied', () => {
    const { config, warnings } = loadConfig({ SCAN_ENGINE: 'clamd', CLAMD_ADRESS: 'tcp://127.0.0.1:3310' });
    expect(config.scan.engines).toEqual(['builtin']);
    expect(warnings).toEqual([
      'warning: SCAN_ENGINE in the environment is not a mmsguard variable; did you mean SCAN_ENGINES?',
      'warning: CLAMD_ADRESS in the environment is not a mmsguard variable; did you mean CLAMD_ADDRESS?',
    ]);
  });

  it('counts an adjacent swap as one edit', () => {
    expect([editDistance('LIMIT', 'LIMTI'), editDistance('', 'AB'), editDistance('HOST', 'HOME')]).toEqual([1, 2, 2]);
  });
});
