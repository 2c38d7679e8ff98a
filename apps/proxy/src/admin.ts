/**
 * The admin listener (its own port, loopback by default): liveness,
 * readiness (every engine answers and names its signatures), Prometheus metrics and the bulk
 * protection's blocks and counts. Everything but /healthz needs
 * `Authorization: Bearer ADMIN_TOKEN` when ADMIN_TOKEN is set.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { releaseBulk, topCounts, vaspUsageReport } from '@mmsguard/policy';
import type { EngineInfo, ScanEngine } from '@mmsguard/scan';
import type { ProxyContext } from './context.js';
import { registerForensicsRoutes } from './forensics-admin.js';

/**
 * `Authorization: Bearer TOKEN`. The scheme is case-insensitive (RFC 9110 §11.1: `bearer` and `BEARER`
 * are the same scheme); the token is compared in constant time.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^bearer[ ]+(\S+)[ ]*$/i.exec(header ?? '');
  if (m?.[1] === undefined) return false;
  const got = Buffer.from(m[1]);
  const want = Buffer.from(token);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** One engine in /readyz: `engine` (the name, as before) and `name`, then what it scans with, or why not ready. */
export type EngineStatus = EngineInfo & {
  readonly engine: string;
  readonly name: string;
  readonly ready: boolean;
  readonly error?: string;
  readonly code?: string;
};

/**
 * An engine is ready when it answers (ready()) and can say what it scans with (describe(), when it
 * has one): an engine that cannot name its signatures may be scanning with none. Both share one
 * deadline, so a silent server costs one probe two seconds at most.
 */
export async function engineStatus(e: ScanEngine, timeoutMs = 2000): Promise<EngineStatus> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const [, info] = await Promise.all([e.ready(signal), e.describe?.(signal)]);
    return { ...info, engine: e.name, name: e.name, ready: true };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return {
      engine: e.name, name: e.name, ready: false, error: (err as Error).message,
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
}

export function buildAdminApp(ctx: ProxyContext): FastifyInstance {
  const app = Fastify({ logger: false });
  const token = ctx.config.adminToken;
  if (token !== null) {
    // /healthz stays open for liveness probes; readiness and metrics need the bearer token.
    app.addHook('onRequest', async (req, reply) => {
      if (req.url.startsWith('/healthz')) return;
      if (!bearerMatches(req.headers.authorization, token)) {
        await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' });
      }
    });
  }
  app.get('/healthz', (_req, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks = await Promise.all(ctx.engines.map((e) => engineStatus(e)));
    const ok = checks.every((c) => c.ready);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not-ready', engines: checks });
  });
  app.get('/bulk/blocks', async (_req, reply) => {
    const store = ctx.bulkStore;
    if (store === null) return reply.send({ blocks: [] });
    const now = Date.now();
    const blocks = [...(await store.listBlocks('flood:block:', now)), ...(await store.listBlocks('dupe:block:', now))];
    return reply.send({ blocks: blocks.map((b) => ({ key: b.key, until: new Date(b.until).toISOString() })) });
  });
  app.delete('/bulk/blocks/:key', async (req, reply) => {
    const { key } = req.params as { key: string };
    const m = /^(flood|dupe):block:(.+)$/.exec(key);
    const kind = m?.[1] === 'flood' ? 'flood' : 'dupe';
    const released = ctx.bulkStore !== null && m !== null ? await releaseBulk(ctx.bulkStore, kind, m[2] ?? '') : false;
    return reply.code(released ? 200 : 404).send({ released });
  });
  // What is being counted right now, most first: senders (flood) and content fingerprints (dupe),
  // MM1 and MM7 (MM7 keys start with vasp: and mm7:), in each protocol's first threshold window.
  for (const [path, kind] of [['/bulk/senders', 'flood'], ['/bulk/fingerprints', 'dupe']] as const) {
    app.get(path, async (req, reply) => {
      const store = ctx.bulkStore;
      if (store === null) return reply.send({ counts: [] });
      const { bulk } = ctx.config;
      const now = Date.now();
      const q = Number((req.query as Record<string, string | undefined>)['limit'] ?? 100);
      const limit = Number.isInteger(q) && q > 0 ? Math.min(q, 10_000) : 100;
      const mm1 = await topCounts(store, kind, kind === 'flood' ? bulk.flood : bulk.dupe, now, limit);
      const mm7 = await topCounts(store, kind, kind === 'flood' ? bulk.mm7Flood : bulk.mm7Dupe, now, limit);
      const isMm7 = (k: string): boolean => k.startsWith(kind === 'flood' ? 'vasp:' : 'mm7:');
      const window = (k: 'flood' | 'dupe' | 'mm7Flood' | 'mm7Dupe'): number => (bulk[k][0]?.windowMs ?? 0) / 1000;
      const rows = [
        ...mm1.filter((r) => !isMm7(r.key)).map((r) => ({ service: 'MM1', ...r, window_s: window(kind) })),
        ...mm7.filter((r) => isMm7(r.key)).map((r) => ({
          service: 'MM7', ...r, window_s: window(kind === 'flood' ? 'mm7Flood' : 'mm7Dupe'),
        })),
      ];
      return reply.send({ counts: rows });
    });
  }
  registerForensicsRoutes(app, ctx);
  // Per-VASP quota usage (MM7_VASP_LIMITS): every listed VASP and every one the store holds under `*`.
  app.get('/bulk/vasps', async (req, reply) => {
    const limits = ctx.vaspLimits?.value;
    if (limits === undefined || ctx.quotaStore === null) return reply.send({ vasps: [] });
    const q = Number((req.query as Record<string, string | undefined>)['limit'] ?? 100);
    const limit = Number.isInteger(q) && q > 0 ? Math.min(q, 10_000) : 100;
    try {
      return reply.send(await vaspUsageReport(ctx.quotaStore, limits, Date.now(), limit));
    } catch (e) {
      ctx.metrics.stateStoreErrors.inc({ service: 'admin' });
      return reply.code(503).send({ error: 'quota store unavailable', detail: (e as Error).message });
    }
  });
  app.get('/metrics', async (_req, reply) => {
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.exposition());
  });
  return app;
}
