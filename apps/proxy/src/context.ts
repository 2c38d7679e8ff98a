/** What the routes need at run time; built once in main.ts (or by tests), passed in. */
import type { Logger } from 'pino';
import type { ScanEngine } from '@mmsguard/scan';
import type { ByteBudget } from './budget.js';
import type { Config } from './config.js';
import type { Metrics } from './metrics.js';
import type { Upstream } from './upstream.js';

export interface ProxyContext {
  readonly config: Config;
  readonly engines: readonly ScanEngine[];
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly budget: ByteBudget;
  readonly mm1Upstream: Upstream;
  /** Pseudonymises an address for the logs when MSISDN_HASH_KEY is set. */
  readonly redact: (s: string | null) => string | null;
}
