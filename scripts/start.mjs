// `pnpm start`: runs the proxy on the embedded default once it is built.
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';

const main = new URL('../apps/proxy/dist/main.js', import.meta.url);
if (!existsSync(main)) {
  console.log('mmsguard: the proxy is not part of this build yet.');
  console.log('Decode a PDU with: node packages/wap-mms-decoder/dist/cli.js FILE');
  process.exit(0);
}
// --no-memory-reducer: after a minute idle V8 shrinks the heap, and the first seconds of traffic after that cost
// 1.6x the CPU per message until the heap has grown back (bench/README.md, "idle"); a proxy whose memory the
// in-flight budget bounds gains nothing from giving it back between bursts.
const child = spawn(process.execPath, ['--no-memory-reducer', main.pathname], { stdio: 'inherit' });
// SIGHUP is the proxy's reload signal: pass it on instead of letting it end this wrapper.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
