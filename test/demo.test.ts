import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './harness.js';

const DEMO = resolve(fileURLToPath(import.meta.url), '../../apps/mmsc-sim/dist/demo.js');
let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

function runDemo(url: string): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [DEMO], { env: { PATH: process.env['PATH'] ?? '', DEMO_PROXY_URL: url, FILE_FILTER: 'exe' } });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code) => res({ code, out }));
  });
}

describe('pnpm demo', () => {
  it('prints one verdict line per message', async () => {
    stack = await startStack({ FILE_FILTER: 'exe,dll' });
    const { code, out } = await runDemo(stack.proxy);
    expect(code).toBe(0);
    const lines = out.split('\n');
    const verdict = (label: string): string => lines.find((l) => l.startsWith(label)) ?? '';
    expect(verdict('clean message')).toMatch(/FORWARDED .*0x80/);
    expect(verdict('EICAR attachment')).toMatch(/BLOCKED .*0xE5.*Eicar-Test-Signature/);
    expect(verdict('EICAR inside a zip')).toMatch(/BLOCKED .*holiday\.zip\/photos\/eicar\.com/);
    expect(verdict('executable')).toMatch(/BLOCKED .*file type exe/);
    expect(verdict('oversized')).toMatch(/BLOCKED .*too large/);
    expect(verdict('malformed')).toMatch(/BLOCKED .*0xE2/);
  });
});
