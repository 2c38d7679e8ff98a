/**
 * Decode throughput of wap-mms-decoder (issue: ≥ 1 GB/s on a 300 KB
 * m-send-req). Measures decode() alone (headers, content types, multipart
 * walk; part data stay zero-copy views) and decode + touching every part
 * header (partInfo), the work the proxy does per message.
 *
 * Run: pnpm bench   (writes bench/results/decode.json)
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode, encode, partInfo, textPart, type PartInit } from 'wap-mms-decoder';

const here = dirname(fileURLToPath(import.meta.url));
const BENCH = resolve(here, '..');
const SHARED_MMS = resolve(BENCH, '../../shared/corpus/mms');
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);

function sendReq300k(): Uint8Array {
  // A realistic 300 KB m-send-req: SMIL + text + two images, built with our encoder.
  const jpeg = (n: number, seed: number): Uint8Array => {
    const b = new Uint8Array(n);
    let x = seed;
    for (let i = 0; i < n; i++) b[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    b.set([0xff, 0xd8, 0xff, 0xe0]);
    return b;
  };
  const img = (name: string, data: Uint8Array): PartInit => ({
    contentType: { mediaType: 'image/jpeg', params: [{ name: 'name', value: name }] },
    headers: [{ type: 'content-location', value: name }, { type: 'content-id', value: `<${name}>` }],
    data,
  });
  const smil = new TextEncoder().encode('<smil><body><par dur="5000ms"><img src="a.jpg"/><text src="t.txt"/></par></body></smil>');
  return encode({
    headers: [
      { type: 'well-known', code: 0x0c, name: '', value: { kind: 'octet', value: 0x80 } },
      { type: 'well-known', code: 0x18, name: '', value: { kind: 'text', value: 'bench-0001' } },
      { type: 'well-known', code: 0x0d, name: '', value: { kind: 'octet', value: 0x92 } },
      { type: 'well-known', code: 0x09, name: '', value: { kind: 'from', address: null } },
      { type: 'well-known', code: 0x17, name: '', value: { kind: 'encoded-string', value: { text: '+4790000000/TYPE=PLMN', charset: null } } },
      { type: 'well-known', code: 0x16, name: '', value: { kind: 'encoded-string', value: { text: 'Benchmark', charset: 106 } } },
    ],
    contentType: { mediaType: 'application/vnd.wap.multipart.related', params: [{ name: 'type', value: 'application/smil' }, { name: 'start', value: '<smil>' }] },
    parts: [
      { contentType: { mediaType: 'application/smil', params: [] }, headers: [{ type: 'content-id', value: '<smil>' }], data: smil },
      textPart('Hello from the bench', 't.txt'),
      img('a.jpg', jpeg(200 * 1024, 1)),
      img('b.jpg', jpeg(100 * 1024 - 400, 2)),
    ],
  });
}

function largestRetrieveConf(): { name: string; bytes: Uint8Array } | null {
  if (!existsSync(SHARED_MMS)) return null;
  const files = readdirSync(SHARED_MMS)
    .filter((f) => f.endsWith('.mms'))
    .map((f) => ({ f, size: statSync(join(SHARED_MMS, f)).size }))
    .sort((a, b) => b.size - a.size);
  for (const { f } of files) {
    const b = new Uint8Array(readFileSync(join(SHARED_MMS, f)));
    if (b[1] === 0x84) return { name: f, bytes: b };
  }
  return null;
}

interface Result {
  case: string;
  bytes: number;
  parts: number;
  mode: string;
  iterations: number;
  seconds: number;
  mb_per_s: number;
  us_per_op: number;
}

function measure(name: string, bytes: Uint8Array, mode: 'decode' | 'decode+partInfo'): Result {
  const op = mode === 'decode'
    ? (): number => decode(bytes).parts?.length ?? 0
    : (): number => {
        const pdu = decode(bytes);
        let n = 0;
        for (const p of pdu.parts ?? []) n += partInfo(p).name?.length ?? 0;
        return n;
      };
  let sink = 0;
  for (let i = 0; i < 2000; i++) sink += op();
  let iterations = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(Math.round(SECONDS * 1e9));
  let now = start;
  while (now < until) {
    for (let i = 0; i < 1000; i++) sink += op();
    iterations += 1000;
    now = process.hrtime.bigint();
  }
  const seconds = Number(now - start) / 1e9;
  if (sink === -1) console.log('unreachable');
  const parts = decode(bytes).parts?.length ?? 0;
  return {
    case: name, bytes: bytes.length, parts, mode, iterations, seconds: +seconds.toFixed(3),
    mb_per_s: Math.round((bytes.length * iterations) / seconds / 1e6),
    us_per_op: +((seconds / iterations) * 1e6).toFixed(3),
  };
}

function manySmallParts(): Uint8Array {
  // Worst case for per-part cost: 1000 parts (the default maxParts) of ~300 B.
  const parts = Array.from({ length: 1000 }, (_, i) => textPart('x'.repeat(280), `part-${i}.txt`, `<p${i}>`));
  return encode({
    headers: [
      { type: 'well-known', code: 0x0c, name: '', value: { kind: 'octet', value: 0x80 } },
      { type: 'well-known', code: 0x18, name: '', value: { kind: 'text', value: 'bench-0002' } },
      { type: 'well-known', code: 0x0d, name: '', value: { kind: 'octet', value: 0x92 } },
    ],
    contentType: { mediaType: 'application/vnd.wap.multipart.mixed', params: [] },
    parts,
  });
}

const cases: { name: string; bytes: Uint8Array }[] = [
  { name: 'm-send-req 300 KB (4 parts, our encoder)', bytes: sendReq300k() },
  { name: 'm-send-req 1000 parts x 280 B (our encoder)', bytes: manySmallParts() },
];
const corpus = largestRetrieveConf();
if (corpus !== null) cases.push({ name: `m-retrieve-conf ${corpus.name}`, bytes: corpus.bytes });
else console.warn('NOTICE: ../shared/corpus/mms not found; corpus case skipped');

const results: Result[] = [];
for (const c of cases) {
  for (const mode of ['decode', 'decode+partInfo'] as const) results.push(measure(c.name, c.bytes, mode));
}

const out = {
  bench: 'decode',
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  seconds_per_case: SECONDS,
  results,
};
mkdirSync(join(BENCH, 'results'), { recursive: true });
writeFileSync(join(BENCH, 'results', 'decode.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log('| case | size | parts | mode | MB/s | µs/op |');
console.log('|---|---:|---:|---|---:|---:|');
for (const r of results) console.log(`| ${r.case} | ${r.bytes} | ${r.parts} | ${r.mode} | ${r.mb_per_s} | ${r.us_per_op} |`);
