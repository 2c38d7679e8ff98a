// Reads vitest's JSON report and prints the plain closing line CI reads.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results.json';
let r;
try {
  r = JSON.parse(readFileSync(file, 'utf8'));
} catch {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const passed = r.numPassedTests ?? 0;
const failed = r.numFailedTests ?? 0;
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
const suiteErrors = (r.testResults ?? []).filter((t) => t.status === 'failed' && (t.assertionResults ?? []).length === 0).length;
console.log(`${passed} passed, ${failed + suiteErrors} failed, ${skipped} skipped`);
process.exit(failed + suiteErrors > 0 || passed === 0 ? 1 : 0);
