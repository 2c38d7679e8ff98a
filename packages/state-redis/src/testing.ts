/**
 * Test tooling, kept out of the package's public API (`@mmsguard/state-redis/testing`): a private server on
 * 127.0.0.1 for tests, benches and demos. Never used by the proxy in production.
 */
export { findRedis, startLocalRedis, type LocalRedis } from './launcher.js';
