#!/usr/bin/env node
// node /tmp/inspect-bench.mjs <repo>: inspectTarget µs per plain-media part (built-in engine, EICAR + no signatures).
import { randomBytes } from 'node:crypto';
const repo = process.argv[2];
const scan = await import(`${repo}/packages/scan/dist/index.js`);
const engine = new scan.BuiltinEngine();
const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0]), randomBytes(300 * 1024)]);
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(300 * 1024)]);
const out = {};
for (const [name, data, type] of [['jpeg', jpeg, 'image/jpeg'], ['png', png, 'image/png']]) {
  const opts = { engines: [engine], timeoutMs: 30_000 };
  for (let i = 0; i < 50; i++) await scan.inspectTarget({ path: 'p', data, name: `p.${name}`, declaredType: type }, opts);
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const t = process.cpuUsage();
    for (let i = 0; i < 200; i++) await scan.inspectTarget({ path: 'p', data, name: `p.${name}`, declaredType: type }, opts);
    const d = process.cpuUsage(t);
    runs.push((d.user + d.system) / 200);
  }
  runs.sort((a, b) => a - b);
  out[name] = Math.round(runs[2]);
}
console.log(JSON.stringify({ repo, us_per_300KiB_part: out }));
