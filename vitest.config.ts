import { defineConfig } from 'vitest/config';

// One run for the whole repo: unit tests in each package, end-to-end in test/.
// The JSON report is what .ci/run turns into its closing "N passed, N failed" line.
export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
    projects: [
      {
        test: {
          name: 'wap-mms-decoder',
          root: 'packages/wap-mms-decoder',
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
