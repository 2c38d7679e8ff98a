/**
 * `pnpm fuzz`: throws arbitrary and mutated inputs at every parser of the
 * project — the MMS codec, the MM7 MIME walker and SOAP reader, the clamd
 * reply reader, the signature loader, and the files and settings operators
 * write (MSISDN list, reply templates, thresholds, notification window,
 * prefix rules) — and checks that each input ends in a
 * value or the parser's typed error, within a time bound. Seeded (FUZZ_SEED),
 * bounded in inputs (FUZZ_INPUTS, default 1,000,000) and time (FUZZ_SECONDS,
 * default 600). Writes results/fuzz.json; a crash input is written to
 * results/fuzz-crashes/ and the run exits 1.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MmsError, decode, encode, textPart } from 'wap-mms-decoder';
import { Mm7Error, parseMime, parseSoap } from '@mmsguard/mm7';
import { ReplyReader, parseScanReply } from '@mmsguard/scan-clamd';
import { PatternError, parseSignatureText } from '@mmsguard/scan';
import { parseMsisdnList, parsePrefixRules, parseThresholds } from '@mmsguard/policy';
import { parseTemplates } from '@mmsguard/proxy/templates';
import { parseWindow } from '@mmsguard/proxy/schedule';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED = process.env['MMSGUARD_SHARED'] ?? resolve(ROOT, '../shared');
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261122);
const INPUTS = Number(process.env['FUZZ_INPUTS'] ?? 1_000_000);
const SECONDS = Number(process.env['FUZZ_SECONDS'] ?? 600);
const SLOW_MS = 250;

let state = SEED >>> 0 || 1;
function rnd(): number {
  // xorshift32: deterministic from FUZZ_SEED
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
}
const int = (n: number): number => Math.floor(rnd() * n);

function mutate(src: Uint8Array): Uint8Array {
  // Buffer slices, not arrays: corpus seeds reach 260 KB.
  let b = Buffer.from(src);
  const edits = 1 + int(8);
  for (let k = 0; k < edits && b.length > 0; k++) {
    const i = int(b.length);
    const op = int(6);
    if (op === 0) b[i] = int(256);
    else if (op === 1) b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
    else if (op === 2) b = Buffer.concat([b.subarray(0, i), Buffer.of(int(256)), b.subarray(i)]);
    else if (op === 3) b = b.subarray(0, i);
    else if (op === 4) {
      const from = int(b.length);
      b = Buffer.concat([b.subarray(0, i), b.subarray(from, from + int(64)), b.subarray(i)]);
    } else b[i] = [0x00, 0x1f, 0x7f, 0x80, 0xff, 0x0d, 0x0a, 0x2d][int(8)] as number;
  }
  return b;
}

function randomBytes(max: number): Uint8Array {
  return Uint8Array.from({ length: int(max) }, () => int(256));
}

// Seeds of our own, plus the shared corpora when present.
const mmsSeeds: Uint8Array[] = [
  encode({
    headers: [
      { type: 'well-known', code: 0x0c, name: '', value: { kind: 'octet', value: 0x80 } },
      { type: 'well-known', code: 0x18, name: '', value: { kind: 'text', value: 'fuzz' } },
      { type: 'well-known', code: 0x0d, name: '', value: { kind: 'octet', value: 0x92 } },
      { type: 'well-known', code: 0x16, name: '', value: { kind: 'encoded-string', value: { text: 'Ünïcödé', charset: 106 } } },
    ],
    contentType: { mediaType: 'application/vnd.wap.multipart.related', params: [{ name: 'type', value: 'application/smil' }, { name: 'start', value: '<s>' }] },
    parts: [textPart('hello', 'a.txt', '<s>'), { contentType: { mediaType: 'application/vnd.wap.multipart.mixed', params: [] }, headers: [], data: new Uint8Array(0), children: [textPart('inner', 'b.txt')] }],
  }),
];
const corpusDir = join(SHARED, 'corpus/mms');
if (existsSync(corpusDir)) for (const f of readdirSync(corpusDir).filter((x) => x.endsWith('.mms'))) mmsSeeds.push(new Uint8Array(readFileSync(join(corpusDir, f))));

const MM7_CT = 'multipart/related; boundary="b1"; type="text/xml"; start="<soap>"';
const soapXml = '<?xml version="1.0"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header><mm7:TransactionID xmlns:mm7="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4">t1</mm7:TransactionID></env:Header><env:Body><SubmitReq><MM7Version>6.8.0</MM7Version><Recipients><To><Number>1</Number></To></Recipients><Content href="cid:c"/></SubmitReq></env:Body></env:Envelope>';
const mm7Seed = Buffer.from(`--b1\r\nContent-Type: text/xml\r\nContent-ID: <soap>\r\n\r\n${soapXml}\r\n--b1\r\nContent-Type: multipart/mixed; boundary="b2"\r\nContent-ID: <c>\r\n\r\n--b2\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b2--\r\n\r\n--b1--\r\n`);
const replySeeds = ['stream: OK\0', 'stream: Eicar-Test-Signature FOUND\0', 'INSTREAM size limit exceeded. ERROR\0', 'PONG\0'].map((s) => Buffer.from(s));
const sigSeeds = ['Eicar:0:*:4142??43{1-4}44*45(46|4748)', 'Off:0:EOF-10,4:414243', '0123456789abcdef0123456789abcdef:12:Hash.Md5'].map((s) => Buffer.from(s));

const operatorSeeds = [
  'block simple +4790000009\nexempt wildcard +4791*\nexempt-mass simple +4792000000\nmonitor regex ^\\+4793(0|1){2,3}$\n# c\n',
  'send.blocked = Stopped: {virus} in {filename} ({{ref}} {transaction_id})\nreplacement = a\\nb {reason}\n',
  '5/10:log; 10/60:block+alert:300;50/3600:block:86400',
  'mon-fri 08:00-18:00, sat 10:00-14:00, fri-mon 22:00-06:00',
  '00=+, 0=+47, +4700=+47',
].map((s) => Buffer.from(s));

interface Target {
  readonly name: string;
  make(): Uint8Array;
  run(input: Uint8Array): void;
  /** Our typed errors: anything else is a crash. */
  typed(e: unknown): boolean;
}

const targets: Target[] = [
  {
    name: 'mms-decode',
    make: () => (rnd() < 0.3 ? Uint8Array.of(0x8c, ...randomBytes(400)) : mutate(mmsSeeds[int(mmsSeeds.length)] as Uint8Array)),
    run: (b) => void decode(b),
    typed: (e) => e instanceof MmsError,
  },
  {
    name: 'mm7-mime+soap',
    make: () => (rnd() < 0.2 ? randomBytes(400) : mutate(mm7Seed)),
    run: (b) => {
      const p = parseMime(b, MM7_CT);
      const first = p.root.children?.[0];
      if (first !== undefined) parseSoap(Buffer.from(first.raw).toString('utf8'));
    },
    typed: (e) => e instanceof Mm7Error,
  },
  {
    name: 'clamd-reply',
    make: () => (rnd() < 0.3 ? randomBytes(200) : mutate(replySeeds[int(replySeeds.length)] as Uint8Array)),
    run: (b) => {
      const r = new ReplyReader();
      const cut = int(b.length + 1);
      for (const reply of [...r.feed(b.subarray(0, cut)), ...r.feed(b.subarray(cut))]) parseScanReply(reply);
    },
    typed: () => false,
  },
  {
    name: 'signature-loader',
    make: () => mutate(sigSeeds[int(sigSeeds.length)] as Uint8Array),
    run: (b) => {
      const text = Buffer.from(b).toString('latin1');
      parseSignatureText('f.ndb', text);
      parseSignatureText('f.hdb', text);
      parseSignatureText('f.hsb', text);
    },
    typed: (e) => e instanceof PatternError,
  },
  {
    // Operators' files and settings: a problem list or a RangeError naming the entry, nothing else.
    name: 'operator-files',
    make: () => mutate(operatorSeeds[int(operatorSeeds.length)] as Uint8Array),
    run: (b) => {
      const text = Buffer.from(b).toString('utf8');
      parseMsisdnList(text);
      parseTemplates(text).value.render('send.blocked', { reason: 'r' });
      for (const parse of [parseThresholds, parseWindow, parsePrefixRules] as ((s: string) => unknown)[]) {
        try {
          parse(text);
        } catch (e) {
          if (!(e instanceof RangeError)) throw e;
        }
      }
    },
    typed: () => false,
  },
];

const results = targets.map((t) => ({ target: t.name, inputs: 0, typed_errors: 0, crashes: 0, max_ms: 0, slow: 0 }));
const crashDir = join(ROOT, 'bench/results/fuzz-crashes');
const started = Date.now();
let total = 0;
while (total < INPUTS && Date.now() - started < SECONDS * 1000) {
  const i = total % targets.length;
  const t = targets[i] as Target;
  const r = results[i] as (typeof results)[number];
  const input = t.make();
  const t0 = performance.now();
  try {
    t.run(input);
  } catch (e) {
    if (t.typed(e)) r.typed_errors++;
    else {
      r.crashes++;
      mkdirSync(crashDir, { recursive: true });
      writeFileSync(join(crashDir, `${t.name}-${SEED}-${total}.bin`), input);
      console.error(`CRASH ${t.name} input #${total}: ${(e as Error).stack?.split('\n').slice(0, 3).join(' | ') ?? String(e)}`);
    }
  }
  const ms = performance.now() - t0;
  if (ms > r.max_ms) r.max_ms = +ms.toFixed(3);
  if (ms > SLOW_MS) r.slow++;
  r.inputs++;
  total++;
}
const out = { bench: 'fuzz', date: new Date().toISOString(), node: process.version, seed: SEED, inputs: total, seconds: +((Date.now() - started) / 1000).toFixed(1), slow_threshold_ms: SLOW_MS, results };
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results', process.env['FUZZ_OUT'] ?? 'fuzz.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify(out, null, 2));
const bad = results.some((r) => r.crashes > 0 || r.slow > 0);
process.exitCode = bad ? 1 : 0;
