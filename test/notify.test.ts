/** Administrator notifications to a webhook receiver on 127.0.0.1. */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { post, startStack, type Stack } from './harness.js';
import { eicar, sendReq } from './pdus.js';

let stack: Stack | null = null;
let srv: Server | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
  if (srv !== null) await new Promise((r) => srv?.close(r));
  srv = null;
});

async function receiver(failFirst = 0): Promise<{ url: string; got: Record<string, unknown>[] }> {
  const got: Record<string, unknown>[] = [];
  let fails = failFirst;
  srv = createServer((req, res) => {
    let b = '';
    req.on('data', (c: Buffer) => (b += c.toString()));
    req.on('end', () => {
      if (fails-- > 0) {
        res.writeHead(503).end();
        return;
      }
      got.push(JSON.parse(b) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => srv?.listen(0, '127.0.0.1', r));
  const a = srv.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/hook`, got };
}

const until = async (f: () => boolean, ms = 5000): Promise<void> => {
  for (let t = 0; t < ms && !f(); t += 50) await new Promise((r) => setTimeout(r, 50));
};

describe('webhook notifications', () => {
  it('sends the first virus event at once, then one notice per interval with the count; retries a failing receiver', async () => {
    const rx = await receiver(1);
    stack = await startStack({ NOTIFY_URL: rx.url, NOTIFY_INTERVAL: '0.5' });
    for (let i = 0; i < 4; i++) await post(stack.proxy, sendReq([eicar()], `T-${i}`));
    await until(() => rx.got.length >= 2);
    expect(rx.got[0]).toMatchObject({ event: 'virus', first: true, count: 1, source: 'mmsguard' });
    expect((rx.got[0]?.['record'] as Record<string, unknown>)['virus']).toBe('Eicar-Test-Signature');
    expect(rx.got[1]).toMatchObject({ event: 'virus', first: false, count: 3 });
  });
});
