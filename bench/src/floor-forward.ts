/**
 * Node's floor for the proxy bench (issue 15): the least a buffering Node proxy can do per message, run in its own
 * process. A node:http server reads each body into one Buffer sized from Content-Length and, once it is whole,
 * forwards it with an undici Pool (keep-alive), then answers with the upstream's status, headers and body.
 * No decode, no scan, no logs, no metrics: whatever mmsguard costs above this is ours.
 * What it still does, because a proxy may not skip it: refuses a body without Content-Length (411; node:http
 * already refuses Transfer-Encoding together with Content-Length) or above 16 MiB (413), drops hop-by-hop headers,
 * answers 502 when the upstream fails.
 * FLOOR_DIGEST=sha256 adds the one thing CONTRACT §7 makes every scanning proxy do that the floor does not: a
 * SHA-256 over the bytes it forwards (mmsguard keeps every forwarded part's digest for the verdict lookup and the
 * retro-hunt). The bench's "floor + SHA-256" row says how much of mmsguard's distance from the floor is that digest.
 *   FLOOR_PORT (required), UPSTREAM_URL (required, http://host:port), FLOOR_DIGEST (optional: sha256)
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { Pool } from 'undici';

const MAX_BODY_BYTES = 16 * 1024 * 1024;
// RFC 9110 §7.6.1, plus Host: undici sets the upstream's own.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host',
]);

type Headers = Record<string, string | string[]>;

function endToEnd(h: Readonly<Record<string, string | string[] | undefined>>): Headers {
  const out: Headers = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

// The same pool size as mmsguard's UPSTREAM_CONNECTIONS default, so neither waits for a connection the other has.
const DIGEST = process.env['FLOOR_DIGEST'] ?? '';
if (DIGEST !== '' && DIGEST !== 'sha256') throw new Error(`FLOOR_DIGEST must be sha256 or unset, not ${DIGEST}`);
/** The last body's digest: kept, so the work is observable (and not left to an optimiser to drop). */
export let lastDigest = '';

const upstream = new Pool(process.env['UPSTREAM_URL'] ?? '', { connections: 1024, keepAliveTimeout: 60_000 });

const server = createServer((req, res) => {
  const len = Number(req.headers['content-length']);
  if (req.headers['content-length'] === undefined || !Number.isSafeInteger(len)) {
    res.writeHead(411, { connection: 'close' }).end();
    req.destroy();
    return;
  }
  if (len > MAX_BODY_BYTES) {
    res.writeHead(413, { connection: 'close' }).end();
    req.destroy();
    return;
  }
  const body = Buffer.allocUnsafe(len);
  let at = 0;
  req.on('data', (chunk: Buffer) => {
    // node:http stops at Content-Length, so a chunk never overruns; copy is the one copy a buffering proxy makes.
    at += chunk.copy(body, at);
  });
  req.on('end', () => {
    if (DIGEST !== '') lastDigest = createHash('sha256').update(body).digest('hex');
    upstream.request({ method: req.method ?? 'POST', path: req.url ?? '/', headers: endToEnd(req.headers), body })
      .then(async (up) => {
        const reply = Buffer.from(await up.body.arrayBuffer());
        const headers = endToEnd(up.headers);
        headers['content-length'] = String(reply.length);
        res.writeHead(up.statusCode, headers).end(reply);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(502, { connection: 'close' });
        res.end();
      });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env['FLOOR_PORT']), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void upstream.close().finally(() => process.exit(0));
});
