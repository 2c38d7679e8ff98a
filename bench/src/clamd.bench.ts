/**
 * Our side of a clamd scan against the leanest client possible for the same bytes (issue 15: "our
 * side of a clamd scan ≤ 1.2× of what a bare INSTREAM client costs"). Both talk to one private clamd
 * over its unix socket, one after the other in this process, same payloads; what is compared is this
 * process's CPU (user + system, `process.cpuUsage`) per scan — clamd's own CPU is the same work for
 * both and is not ours to cut. Rounds alternate (bare, ours, bare, ours …) so a noisy neighbour on this
 * 2-core machine hits both alike. A second pair of rows scans, per "scan", the two parts of the proxy
 * bench's m-send-req (`body300k`: a 5-byte text part, then the 306,600-byte "photo", one after the other as
 * the proxy scans a message's targets): what clamd costs our side per message of `bench:proxy`.
 * `node bench/dist/clamd.bench.js` (needs clamd; prints a notice and exits 0 without it).
 */
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClamdEngine } from '@mmsguard/scan-clamd';
import { findClamd, startLocalClamd } from '@mmsguard/scan-clamd/testing';
import { decode } from 'wap-mms-decoder';
import { body300k } from './harness.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const SIZE = Number(process.env['BENCH_SIZE'] ?? 300 * 1024);
const PER_ROUND = Number(process.env['BENCH_SCANS'] ?? 200);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 4);

/** The floor: one connection per scan, every frame in one corked write, reply read to its NUL. */
function bareScan(socket: string, data: Uint8Array): Promise<string> {
  return new Promise((ok, fail) => {
    const s = createConnection({ path: socket });
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      if (c.includes(0)) {
        s.destroy();
        ok(Buffer.concat(chunks).toString('latin1'));
      }
    });
    s.on('error', fail);
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(data.length, 0);
    s.cork();
    s.write('zINSTREAM\0');
    s.write(len);
    s.write(data);
    s.write(Buffer.alloc(4));
    s.uncork();
  });
}

/** This process's CPU (µs) per call of `scan` (one part, or one message's parts). */
async function cpuPerUnit(scan: () => Promise<unknown>): Promise<number> {
  let left = PER_ROUND;
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (left-- > 0) await scan();
  }));
  const d = process.cpuUsage(before);
  return (d.user + d.system) / PER_ROUND;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

if (findClamd() === null) {
  console.log('clamd.bench: clamd not installed (apt-get install clamav-daemon); nothing measured');
  process.exit(0);
}
const clamd = await startLocalClamd({ databaseDir: resolve(HERE, '../../packages/scan-clamd/signatures') });
try {
  const engine = ClamdEngine.fromAddressList(`unix:${clamd.socket}`);
  const ours = async (data: Uint8Array): Promise<void> => {
    const r = await engine.scan({ path: 'b', data }, AbortSignal.timeout(30_000));
    if (r.kind !== 'clean') throw new Error(`clamd said ${JSON.stringify(r)}`);
  };
  const bare = async (data: Uint8Array): Promise<void> => {
    const r = await bareScan(clamd.socket, data);
    if (!r.endsWith('OK\0')) throw new Error(`clamd said ${r}`);
  };
  const parts = (decode(body300k()).parts ?? []).map((p) => p.data);
  const cases: { what: string; targets: readonly Uint8Array[] }[] = [
    { what: `one ${SIZE}-byte part`, targets: [randomBytes(SIZE)] },
    { what: `bench:proxy message (parts of ${parts.map((p) => p.length).join(' + ')} bytes)`, targets: parts },
  ];
  for (const { what, targets } of cases) {
    const each = (scan: (d: Uint8Array) => Promise<void>) => async (): Promise<void> => {
      for (const t of targets) await scan(t);
    };
    for (let i = 0; i < 20; i++) await Promise.all([each(ours)(), each(bare)()]);
    const b: number[] = [];
    const o: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      b.push(await cpuPerUnit(each(bare)));
      o.push(await cpuPerUnit(each(ours)));
    }
    console.log(JSON.stringify({
      what, concurrency: CONCURRENCY, per_round: PER_ROUND, rounds: ROUNDS,
      bare_us: Math.round(median(b)), ours_us: Math.round(median(o)), ratio: +(median(o) / median(b)).toFixed(2),
    }));
  }
  await engine.close();
} finally {
  await clamd.stop();
}
