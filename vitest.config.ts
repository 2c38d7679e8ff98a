import { defineConfig } from 'vitest/config';

// One run for the whole repo: unit tests in each package, end-to-end in test/.
// The JSON report is what .ci/run turns into its closing "N passed, N failed" line.
const unit = (name: string, root: string, extra: Record<string, unknown> = {}) => ({
  test: { name, root, include: ['test/**/*.test.ts'], testTimeout: 60_000, ...extra },
});

export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
    projects: [
      unit('wap-mms-decoder', 'packages/wap-mms-decoder'),
      unit('scan', 'packages/scan'),
      unit('scan-clamd', 'packages/scan-clamd', { globalSetup: ['test/clamd-setup.ts'] }),
      unit('scan-icap', 'packages/scan-icap'),
      unit('scan-cli', 'apps/scan-cli'),
      unit('policy', 'packages/policy'),
      unit('comfort', 'packages/comfort'),
      unit('mm7', 'packages/mm7'),
      unit('state-redis', 'packages/state-redis', { globalSetup: ['test/redis-setup.ts'] }),
      unit('quarantine', 'packages/quarantine'),
      unit('mmsc-sim', 'apps/mmsc-sim'),
      unit('proxy', 'apps/proxy'),
      { test: { name: 'e2e', root: 'test', include: ['**/*.test.ts'], testTimeout: 60_000, globalSetup: ['../packages/scan-clamd/test/clamd-setup.ts', '../packages/state-redis/test/redis-setup.ts'] } },
    ],
  },
});
