// Builds the optional native addon when Vectorscan's headers are installed
// (Debian: libvectorscan-dev). Never fails the install: without the library
// the built-in engine uses its JavaScript matcher.
//
// binding.gyp lives in native/, not in the package root, on purpose: npm and
// pnpm run an implicit `node-gyp rebuild` for any package whose root holds a
// binding.gyp and that has no install script, and that build fails the whole
// `pnpm install` on a machine without hs.h. Only this script builds the addon.
import { existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const native = join(root, 'native');
const out = join(native, 'build', 'Release', 'vectorscan.node');
const src = join(native, 'addon.cc');

if (process.env.MMSGUARD_NATIVE === 'off') {
  console.log('scan-vectorscan: MMSGUARD_NATIVE=off; the built-in engine will use its JavaScript matcher.');
  process.exit(0);
}
if (!existsSync('/usr/include/hs/hs.h')) {
  console.log('scan-vectorscan: libvectorscan-dev not installed; the built-in engine will use its JavaScript matcher.');
  process.exit(0);
}
if (existsSync(out) && statSync(out).mtimeMs > statSync(src).mtimeMs) process.exit(0);

const require = createRequire(import.meta.url);
const gyp = require.resolve('node-gyp/bin/node-gyp.js');
const args = [gyp, 'rebuild', '--silent'];
// Offline machines: build against the installed Node headers instead of downloading them.
for (const dir of ['/usr', dirname(dirname(process.execPath))]) {
  if (existsSync(join(dir, 'include', 'node', 'node_api.h'))) {
    args.push(`--nodedir=${dir}`);
    break;
  }
}
const r = spawnSync(process.execPath, args, { cwd: native, stdio: 'inherit' });
if (r.status !== 0) console.log('scan-vectorscan: native build failed; the built-in engine will use its JavaScript matcher.');
process.exit(0);
