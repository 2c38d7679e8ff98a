/**
 * Where the read-only shared material lives (corpus, generator, oracle).
 * Tests that need it skip with a visible notice when it is absent, so a
 * user's fresh clone still passes; CI always has it.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '../../..');
export const SHARED = process.env['MMSGUARD_SHARED'] ?? resolve(REPO_ROOT, '../shared');
export const CORPUS_MMS = resolve(SHARED, 'corpus/mms');
export const MMS_GEN = resolve(SHARED, 'tools/mms-gen');
export const HAVE_SHARED = existsSync(CORPUS_MMS);

if (!HAVE_SHARED) {
  // Visible in the test output: these suites are skipped, not passed.
  console.warn(`NOTICE: ${SHARED} not found; corpus and generator tests are skipped.`);
}
