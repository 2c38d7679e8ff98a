#!/usr/bin/env node
// Plain media through the scan path (issue 17: "scan throughput must not drop for plain media parts").
// `node bench/inspect-media.mjs <checkout> [<checkout> …]`: CPU µs (user + system, this process) per 300 KiB part
// (a JPEG or PNG header + pseudo-random bytes, as incompressible as image data) through inspectTarget with the built-in
// engine (EICAR only, no signature files): median of 5 rounds of 200 parts of each kind, after 1,000 warm-up parts of
// each kind (after only 50, V8 was still compiling in background threads during the rounds). Each checkout must be
// built (`npx tsc -b packages/scan`). With several checkouts each runs in a fresh process, in turn, REPEAT times
// (default 5), so that load from other work on the machine falls on all of them alike; the summary gives each
// checkout's median and range over the repetitions. Not measured: signature matching, clamd, hashing, transfer
// decodings (the proxy's part), archives (there are none in these parts).
// `node bench/inspect-media.mjs --parts <checkout> <jpeg|png> <n>` only inspects n parts, for instruction counts:
// `valgrind --tool=callgrind node bench/inspect-media.mjs --parts …` with n = 2000 and n = 4000, the difference
// divided by 2000 (start-up and most JIT warm-up cancel out; the part's bytes are the same in every run).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const HEADS = {
  jpeg: [[0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0], 'image/jpeg'],
  png: [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'image/png'],
};

/** A media header, then 300 KiB of SHA-256 in counter mode: incompressible, and the same bytes in every run. */
function part(name) {
  const [head, type] = HEADS[name];
  const body = Buffer.alloc(300 * 1024);
  for (let i = 0; i * 32 < body.length; i++) createHash('sha256').update(`part-${i}`).digest().copy(body, i * 32);
  const data = Buffer.concat([Buffer.from(head), body]);
  return { path: 'p', data, name: `p.${name}`, declaredType: type };
}

async function load(repo) {
  const scan = await import(`${repo}/packages/scan/dist/index.js`);
  return { scan, opts: { engines: [new scan.BuiltinEngine()], timeoutMs: 30_000 } };
}

async function measure(repo) {
  const { scan, opts } = await load(repo);
  const names = Object.keys(HEADS);
  const targets = names.map(part);
  // Both kinds are warmed up before either is measured: a kind measured first in a process paid for V8's
  // remaining warm-up (background compiler and GC threads count in cpuUsage), up to 2.5x the second one.
  for (let i = 0; i < 1000; i++) for (const t of targets) await scan.inspectTarget(t, opts);
  const runs = names.map(() => []);
  for (let r = 0; r < 5; r++) {
    for (const [k, t] of targets.entries()) {
      const c = process.cpuUsage();
      for (let i = 0; i < 200; i++) await scan.inspectTarget(t, opts);
      const d = process.cpuUsage(c);
      runs[k].push((d.user + d.system) / 200);
    }
  }
  const median = (xs) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
  return Object.fromEntries(names.map((n, k) => [n, median(runs[k])]));
}

const args = process.argv.slice(2);
if (args[0] === '--parts') {
  const { scan, opts } = await load(args[1]);
  const target = part(args[2]);
  for (let i = 0; i < Number(args[3]); i++) await scan.inspectTarget(target, opts);
} else if (args[0] === '--one') {
  console.log(JSON.stringify(await measure(args[1])));
} else if (args.length === 1) {
  console.log(JSON.stringify({ repo: args[0], us_per_300KiB_part: await measure(args[0]) }));
} else if (args.length > 1) {
  const repeat = Number(process.env.REPEAT ?? 5);
  const self = fileURLToPath(import.meta.url);
  const seen = Object.fromEntries(args.map((r) => [r, { jpeg: [], png: [] }]));
  for (let i = 0; i < repeat; i++) {
    for (const repo of args) {
      const r = JSON.parse(execFileSync(process.execPath, [self, '--one', repo], { encoding: 'utf8' }));
      seen[repo].jpeg.push(r.jpeg);
      seen[repo].png.push(r.png);
      console.log(JSON.stringify({ round: i + 1, repo, us_per_300KiB_part: r }));
    }
  }
  const summary = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
  };
  for (const repo of args) {
    console.log(JSON.stringify({ repo, jpeg: summary(seen[repo].jpeg), png: summary(seen[repo].png) }));
  }
} else {
  console.error('usage: node bench/inspect-media.mjs <checkout> [<checkout> …]');
  process.exitCode = 2;
}
