/**
 * The proxy, wired once: the runtime (shared services and the generation in
 * force), the reloader, the MM1, MM7 and admin listeners, and how they close.
 * main.ts runs it on the configured ports; the tests run the same thing on
 * port 0 (there is no second wiring).
 */
import { createServer, type Server } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ScanEngine } from '@mmsguard/scan';
import { buildAdminApp } from './admin.js';
import { loadConfig, type Config, type LoadedConfig } from './config.js';
import { createRuntime, firstGeneration, type ProxyContext, type ProxyRuntime } from './context.js';
import type { Generation } from './generation.js';
import { Reloader, type ReloadResult } from './reload.js';
import { registerMm1 } from './protocols/mm1.js';
import { registerMm7 } from './protocols/mm7.js';
import type { StateStores } from './stores.js';
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
  /** The first generation, when the caller made it (main.ts, to refuse bad files before anything starts). */
  readonly first?: Generation;
  readonly log: Logger;
  /** The MMSC (MM1_UPSTREAM_URL, or the bundled simulator's URL). */
  readonly mm1UpstreamUrl: string;
  /** Where MM7 requests go; null: no MM7 listener. */
  readonly mm7UpstreamUrl: string | null;
  /** How often the MSISDN list, reply templates and VASP limits are checked for changes (ms; default 1 s). */
  readonly watchIntervalMs?: number;
  /** Reads the configuration again on reload (default: `loadConfig(process.env)`, as main.ts does). */
  readonly load?: () => LoadedConfig;
  /** The configuration files `config` was read from (loadConfig's `files`). */
  readonly files?: readonly string[];
  /** Where a reload's new warning lines go (main.ts: stderr), and those already shown at start. */
  readonly warn?: (line: string) => void;
  readonly shownWarnings?: readonly string[];
  /** Where the shared state lives (default: STATE_STORE in this process); a worker's are the primary's. */
  readonly stores?: StateStores;
  /** Whether this process runs the retro-hunt after signature reloads (default true; one worker of N). */
  readonly retroHunt?: boolean;
}

export interface Proxy {
  /** The generation in force and the shared services. */
  readonly runtime: ProxyRuntime;
  /** The view of the generation in force (unpinned). */
  readonly ctx: ProxyContext;
  readonly mm1: FastifyInstance;
  readonly mm7: FastifyInstance | null;
  readonly admin: FastifyInstance;
  readonly reloader: Reloader;
  /** Listens on the configured host and ports (0: any free port). */
  listen(): Promise<void>;
  /** SIGHUP: re-reads and validates everything, then swaps it in for new messages (reload.ts). */
  reload(): Promise<ReloadResult>;
  /**
   * Stops accepting, lets messages in flight finish, and closes every resource — within `drainMs`
   * (default SHUTDOWN_TIMEOUT): connections still open then are closed, and the returned promise
   * settles by then, even if a resource is still closing.
   */
  close(drainMs?: number): Promise<void>;
}

/**
 * The generation in force, read at each access: for the admin listener, which is no message and pins
 * nothing (its token and port are the start's anyway; /readyz asks the engines in force).
 */
function liveView(rt: ProxyRuntime): ProxyContext {
  return new globalThis.Proxy({} as ProxyContext, {
    get: (_t, key) => Reflect.get(rt.current, key) as unknown,
    has: (_t, key) => key in rt.current,
  });
}

export function buildProxy(config: Config, o: ProxyOptions): Proxy {
  const mm1Upstream = new Upstream(o.mm1UpstreamUrl, config.upstreamTimeoutMs, config.upstreamConnections);
  const mm7Upstream = o.mm7UpstreamUrl === null || o.mm7UpstreamUrl === o.mm1UpstreamUrl
    ? null
    : new Upstream(o.mm7UpstreamUrl, config.upstreamTimeoutMs, config.upstreamConnections);
  let rt: ProxyRuntime;
  try {
    const first = o.first ?? firstGeneration(config, o.engines, o.files);
    rt = createRuntime(first, o.log, mm1Upstream, mm7Upstream ?? mm1Upstream, o.stores);
  } catch (e) {
    void mm1Upstream.close();
    void mm7Upstream?.close();
    throw e;
  }
  const reloader = new Reloader({
    runtime: rt, log: o.log, load: o.load ?? (() => loadConfig(process.env)),
    ...(o.watchIntervalMs === undefined ? {} : { watchIntervalMs: o.watchIntervalMs }),
    ...(o.warn === undefined ? {} : { warn: o.warn }),
    ...(o.shownWarnings === undefined ? {} : { shown: o.shownWarnings }),
    ...(o.retroHunt === undefined ? {} : { retroHunt: o.retroHunt }),
  });
  reloader.watch();
  // Every message pins the generation in force when it arrives (ProxyRuntime.run), inside the route.
  const mm1 = trafficApp(config, (app) => registerMm1(app, rt));
  const mm7 = o.mm7UpstreamUrl === null ? null : trafficApp(config, (app) => registerMm7(app, rt));
  const admin = buildAdminApp(liveView(rt));
  const traffic = [mm1, ...(mm7 !== null ? [mm7] : [])];
  let closing: Promise<void> | null = null;
  const closeAll = async (): Promise<void> => {
    await Promise.all(traffic.map((a) => a.close()));
    await admin.close();
    await reloader.close();
    await mm1Upstream.close();
    await mm7Upstream?.close();
    await rt.close();
  };
  return {
    runtime: rt, mm1, mm7, admin, reloader,
    get ctx() {
      return rt.current;
    },
    async listen() {
      await rt.current.forensics.open();
      await mm1.listen({ host: config.host, port: config.mm1.port });
      if (mm7 !== null) await mm7.listen({ host: config.host, port: config.mm7.port });
      await admin.listen({ host: config.adminHost, port: config.adminPort });
    },
    reload: () => reloader.reload(),
    close(drainMs = rt.current.config.shutdownTimeoutMs) {
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
