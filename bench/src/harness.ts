/** Shared by the macro benches: free loopback ports, waiting for a server, child processes, the 300 KB PDU, medians. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { encode, textPart } from 'wap-mms-decoder';

export function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

export async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not come up`);
}

/** A 300 KB m-send-req: a text part and an incompressible "photo". */
export function body300k(transactionId = 'bench'): Buffer {
  const img = new Uint8Array(300 * 1024 - 600);
  for (let i = 0; i < img.length; i++) img[i] = (i * 2654435761) >>> 24;
  return sendReqWith(img, 'image/jpeg', 'p.jpg', transactionId);
}

/** An m-send-req with a text part and `data` as a second part. */
export function sendReqWith(data: Uint8Array, mediaType: string, name: string, transactionId = 'bench'): Buffer {
  return Buffer.from(encode({
    headers: [
      { type: 'well-known', code: 0x0c, name: '', value: { kind: 'octet', value: 0x80 } },
      { type: 'well-known', code: 0x18, name: '', value: { kind: 'text', value: transactionId } },
      { type: 'well-known', code: 0x0d, name: '', value: { kind: 'octet', value: 0x92 } },
      { type: 'well-known', code: 0x09, name: '', value: { kind: 'from', address: null } },
      { type: 'well-known', code: 0x17, name: '', value: { kind: 'encoded-string', value: { text: '+4790000000/TYPE=PLMN', charset: null } } },
    ],
    contentType: { mediaType: 'application/vnd.wap.multipart.mixed', params: [] },
    parts: [textPart('hello', 'a.txt'), { contentType: { mediaType, params: [{ name: 'name', value: name }] }, headers: [], data }],
  }));
}

export function rssKb(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0), hwm: Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0) };
}

/** Child processes of a bench, all killed by stopChildren() at the end. */
export const children: ChildProcess[] = [];
export function start(cmd: string, args: string[], env: Record<string, string>): ChildProcess {
  const c = spawn(cmd, args, { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'ignore' });
  children.push(c);
  return c;
}
export function stopChildren(): void {
  for (const c of children) c.kill('SIGTERM');
}
/** stopChildren(), then waits for each to exit (SIGKILL after `graceMs`): servers that drain on SIGTERM. */
export async function stopChildrenAndWait(graceMs = 5000): Promise<void> {
  await Promise.all(children.map(async (c) => {
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }));
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}
