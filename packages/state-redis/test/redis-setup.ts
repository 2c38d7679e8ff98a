/**
 * A private redis-server on 127.0.0.1 for the tests (startLocalRedis), stopped
 * afterwards. Without the binary the Redis tests skip with a notice.
 */
import type { TestProject } from 'vitest/node';
import { findRedis, startLocalRedis } from '../src/testing.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string | null;
  }
}

export const REDIS_BIN = findRedis();

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (REDIS_BIN === null) {
    console.warn('NOTICE: redis-server not installed (apt-get install redis-server); Redis tests are skipped.');
    project.provide('redisUrl', null);
    return () => Promise.resolve();
  }
  const r = await startLocalRedis();
  project.provide('redisUrl', r.url);
  return () => r.stop();
}
