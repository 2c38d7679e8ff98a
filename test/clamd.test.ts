/** The proxy with a real clamd: a signature only clamd knows, scanner down fail-closed and fail-open. */
import { afterEach, describe, expect, inject, it } from 'vitest';
import '../packages/scan-clamd/test/clamd-setup.js';
import { FIELD, decode, octetHeader } from 'wap-mms-decoder';
import { post, startStack, verdicts, type Stack } from './harness.js';
import { part, sendReq, text } from './pdus.js';

const socket = inject('clamdSocket');
let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

const marker = () => part('notes.txt', new TextEncoder().encode('x MMSGUARD-CLAMD-ONLY-TEST-MARKER y'), 'text/plain');

describe.skipIf(socket === null)('MM1 with clamd', () => {
  it('blocks what only clamd knows when SCAN_ENGINES=builtin,clamd', async () => {
    stack = await startStack({ SCAN_ENGINES: 'builtin,clamd', CLAMD_ADDRESS: `unix:${socket ?? ''}` });
    const r = await post(stack.proxy, sendReq([marker()]));
    expect(octetHeader(decode(r.body), FIELD.RESPONSE_STATUS)).toBe(0xe5);
    expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ virus: expect.stringMatching(/^Mmsguard\.Test\.ClamdOnly/) as string, dtype: 'av-engine-clamd' });
    expect(stack.sim.received).toHaveLength(0);
    expect((await fetch(`${stack.admin}/readyz`)).status).toBe(200);
  });
});

describe('MM1 with clamd down', () => {
  it('answers 0xC0 (transient) with SCAN_ERROR_ACTION=block, and says not ready', async () => {
    stack = await startStack({ SCAN_ENGINES: 'clamd', CLAMD_ADDRESS: 'unix:/nonexistent/clamd.sock' });
    const r = await post(stack.proxy, sendReq([text('hello')]));
    expect(octetHeader(decode(r.body), FIELD.RESPONSE_STATUS)).toBe(0xc0);
    expect(stack.sim.received).toHaveLength(0);
    expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ subtype: 'scan-error', action: 'blocked' });
    expect((await fetch(`${stack.admin}/readyz`)).status).toBe(503);
  });

  it('forwards and logs the error with SCAN_ERROR_ACTION=pass', async () => {
    stack = await startStack({ SCAN_ENGINES: 'clamd', CLAMD_ADDRESS: 'unix:/nonexistent/clamd.sock', SCAN_ERROR_ACTION: 'pass' });
    const r = await post(stack.proxy, sendReq([text('hello')]));
    expect(octetHeader(decode(r.body), FIELD.RESPONSE_STATUS)).toBe(0x80);
    expect(stack.sim.received).toHaveLength(1);
    expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ subtype: 'scan-error', action: 'monitored' });
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'forwarded' });
  });
});
