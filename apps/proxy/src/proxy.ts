/**
 * The proxy, wired once: context, the MM1, MM7 and admin listeners, and how
 * they close. main.ts runs it on the configured ports; the tests run the
 * same thing on port 0 (there is no second wiring).
 */
import { createServer, type Server } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ScanEngine } from '@mmsguard/scan';
import { buildAdminApp } from './admin.js';
import type { Config } from './config.js';
import { createContext, type ProxyContext } from './context.js';
import { registerMm1 } from './protocols/mm1.js';
import { registerMm7 } from './protocols/mm7.js';
import { Upstream } from './upstream.js';

/** How long an idle keep-alive connection from a handset or VASP stays open. */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/**
 * The node server behind a traffic listener. fastify ignores its own `requestTimeout` and
 * `keepAliveTimeout` when given a serverFactory, so they are set here, where node reads them.
 * Node checks its timeouts only every `connectionsCheckingInterval` (30 s by default), so a
 * slowloris client would get far more than HEADERS_TIMEOUT: check at least every second.
 */
function trafficServer(config: Config) {
  // Node refuses a headers timeout longer than the request timeout (the whole request includes the headers).
  const headersTimeout = Math.min(config.headersTimeoutMs, config.requestTimeoutMs);
  return (handler: Parameters<typeof createServer>[1]): Server => {
    const server = createServer({
      headersTimeout, requestTimeout: config.requestTimeoutMs, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 2))),
    }, handler);
    return server;
  };
}

function trafficApp(config: Config, register: (app: FastifyInstance) => void): FastifyInstance {
  const app = Fastify({
    serverFactory: trafficServer(config), logger: false, bodyLimit: Number.MAX_SAFE_INTEGER, return503OnClosing: true,
  });
  register(app);
  return app;
}

export interface ProxyOptions {
  readonly engines: readonly ScanEngine[];
  readonly log: Logger;
  /** The MMSC (MM1_UPSTREAM_URL, or the bundled simulator's URL). */
  readonly mm1UpstreamUrl: string;
  /** Where MM7 requests go; null: no MM7 listener. */
  readonly mm7UpstreamUrl: string | null;
  /** How often the MSISDN list and reply templates are checked for changes (ms; default 1 s). */
  readonly watchIntervalMs?: number;
}

export interface Proxy {
  readonly ctx: ProxyContext;
  readonly mm1: FastifyInstance;
  readonly mm7: FastifyInstance | null;
  readonly admin: FastifyInstance;
  /** Listens on the configured host and ports (0: any free port). */
  listen(): Promise<void>;
  /**
   * Stops accepting, lets messages in flight finish, and closes every resource — within `drainMs`
   * (default SHUTDOWN_TIMEOUT): connections still open then are closed, and the returned promise
   * settles by then, even if a resource is still closing.
   */
  close(drainMs?: number): Promise<void>;
}

export function buildProxy(config: Config, o: ProxyOptions): Proxy {
  const mm1Upstream = new Upstream(o.mm1UpstreamUrl, config.upstreamTimeoutMs, config.upstreamConnections);
  const mm7Upstream = o.mm7UpstreamUrl === null || o.mm7UpstreamUrl === o.mm1UpstreamUrl
    ? null
    : new Upstream(o.mm7UpstreamUrl, config.upstreamTimeoutMs, config.upstreamConnections);
  let ctx: ProxyContext;
  try {
    ctx = createContext(config, o.engines, o.log, mm1Upstream, mm7Upstream ?? mm1Upstream);
  } catch (e) {
    void mm1Upstream.close();
    void mm7Upstream?.close();
    throw e;
  }
  ctx.msisdnList?.watch(o.watchIntervalMs);
  ctx.templates?.watch(o.watchIntervalMs);
  const mm1 = trafficApp(config, (app) => registerMm1(app, ctx));
  const mm7 = o.mm7UpstreamUrl === null ? null : trafficApp(config, (app) => registerMm7(app, ctx));
  const admin = buildAdminApp(ctx);
  const traffic = [mm1, ...(mm7 !== null ? [mm7] : [])];
  let closing: Promise<void> | null = null;
  const closeAll = async (): Promise<void> => {
    await Promise.all(traffic.map((a) => a.close()));
    await admin.close();
    await ctx.senderNotices?.drain();
    await mm1Upstream.close();
    await mm7Upstream?.close();
    await ctx.bulkStore?.close();
    await ctx.forensics.close();
    ctx.msisdnList?.close();
    ctx.templates?.close();
    ctx.notifier?.close();
    await Promise.all(o.engines.map((e) => e.close()));
  };
  return {
    ctx, mm1, mm7, admin,
    async listen() {
      await ctx.forensics.open();
      await mm1.listen({ host: config.host, port: config.mm1.port });
      if (mm7 !== null) await mm7.listen({ host: config.host, port: config.mm7.port });
      await admin.listen({ host: config.adminHost, port: config.adminPort });
    },
    close(drainMs = config.shutdownTimeoutMs) {
      closing ??= new Promise<void>((resolve) => {
        const deadline = setTimeout(() => {
          // In-flight messages had their time: cut what is left, and do not wait for it.
          for (const a of traffic) a.server.closeAllConnections();
          resolve();
        }, drainMs);
        deadline.unref();
        void closeAll().catch(() => undefined).finally(() => {
          clearTimeout(deadline);
          resolve();
        });
      });
      return closing;
    },
  };
}
