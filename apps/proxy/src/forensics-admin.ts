/**
 * The forensics routes of the admin listener (CONTRACT §7), behind the same ADMIN_TOKEN rule as
 * /metrics (admin.ts's hook covers every route but /healthz):
 *   GET    /verdicts/{transaction_id}  what happened to that message: 200 {verdicts}, 404, 503 store down
 *   GET    /quarantine                 the sidecars, most recently seen first (?limit=, at most 10,000)
 *   GET    /quarantine/{sha256}        the part's bytes, application/octet-stream
 *   DELETE /quarantine/{sha256}
 * A SHA-256 that is not 64 lowercase hex digits is 400 before any path is built from it.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { MAX_TRANSACTION_ID_LENGTH, VerdictStoreError, VerdictStoreErrorCode } from '@mmsguard/policy';
import { QuarantineError, QuarantineErrorCode } from '@mmsguard/quarantine';
import type { ProxyContext } from './context.js';
import type { QuarantineAccess } from './forensics.js';

/** Sidecars listed per request at most: each is one file read, and the listing holds them all in memory. */
const MAX_LIST = 10_000;

function quarantineError(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof QuarantineError) {
    const status = e.code === QuarantineErrorCode.BAD_HASH ? 400 : e.code === QuarantineErrorCode.CLOSED ? 503 : 500;
    return reply.code(status).send({ error: e.code, message: e.message });
  }
  throw e;
}

export function registerForensicsRoutes(app: FastifyInstance, ctx: ProxyContext): void {
  // A wildcard: MM1 Transaction-IDs are the handset's choice and may hold a slash.
  app.get('/verdicts/*', async (req, reply) => {
    const tid = (req.params as Record<string, string | undefined>)['*'] ?? '';
    if (tid === '' || tid.length > MAX_TRANSACTION_ID_LENGTH) return reply.code(404).send({ verdicts: [] });
    try {
      const verdicts = await ctx.forensics.store.get(tid, Date.now());
      return reply.code(verdicts.length > 0 ? 200 : 404).send({ verdicts });
    } catch (e) {
      if (e instanceof VerdictStoreError && e.code === VerdictStoreErrorCode.UNAVAILABLE) {
        return reply.code(503).send({ error: e.code, message: e.message });
      }
      throw e;
    }
  });
  const quarantine = (reply: FastifyReply): QuarantineAccess | null => {
    const q = ctx.forensics.quarantine;
    if (q === null) void reply.code(404).send({ error: 'quarantine off (QUARANTINE_DIR not set)' });
    return q;
  };
  app.get('/quarantine', async (req, reply) => {
    const q = quarantine(reply);
    if (q === null) return reply;
    const n = Number((req.query as Record<string, string | undefined>)['limit'] ?? 1000);
    const limit = Number.isInteger(n) && n > 0 ? Math.min(n, MAX_LIST) : 1000;
    try {
      return await reply.send({ entries: await q.list({ limit }), stats: q.stats() });
    } catch (e) {
      return quarantineError(reply, e);
    }
  });
  app.get('/quarantine/:sha256', async (req, reply) => {
    const q = quarantine(reply);
    if (q === null) return reply;
    try {
      const got = await q.stream((req.params as { sha256: string }).sha256);
      if (got === null) return await reply.code(404).send({ error: 'not in the quarantine' });
      return await reply.type('application/octet-stream').header('content-length', got.size).send(got.stream);
    } catch (e) {
      return quarantineError(reply, e);
    }
  });
  app.delete('/quarantine/:sha256', async (req, reply) => {
    const q = quarantine(reply);
    if (q === null) return reply;
    try {
      const deleted = await q.delete((req.params as { sha256: string }).sha256);
      return await reply.code(deleted ? 200 : 404).send({ deleted });
    } catch (e) {
      return quarantineError(reply, e);
    }
  });
}
