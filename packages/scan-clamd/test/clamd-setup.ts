/**
 * Starts a real clamd for the clamd tests with the repo's own small signature
 * database (freshclam cannot download here) and stops it afterwards. Without
 * a clamd binary (a user's machine without clamav-daemon) the tests that need
 * it skip with a visible notice; CI installs it.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { findClamd, startLocalClamd } from '../src/launcher.js';

declare module 'vitest' {
  export interface ProvidedContext {
    clamdSocket: string | null;
    clamdTcp: string | null;
  }
}

export const TEST_SIGNATURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'signatures');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (findClamd() === null) {
    console.warn('NOTICE: clamd not installed (apt-get install clamav-daemon); real-clamd tests are skipped.');
    project.provide('clamdSocket', null);
    project.provide('clamdTcp', null);
    return () => Promise.resolve();
  }
  const clamd = await startLocalClamd({ databaseDir: TEST_SIGNATURES, streamMaxLength: '2M' });
  project.provide('clamdSocket', clamd.socket);
  project.provide('clamdTcp', clamd.tcp);
  return () => clamd.stop();
}
