/** Worker → primary calls (WORKERS): batching, the method allowlist, errors, timeouts, a lost primary. */
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:cluster';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@mmsguard/policy';
import { RpcClient, RpcError, RpcErrorCode, rpcServer } from '../src/cluster/rpc.js';

/** A worker's channel and the primary's view of it, joined in memory (messages cloned as IPC would). */
function pair(targets: Parameters<typeof rpcServer>[0]) {
  const sent: unknown[] = [];
  const channel = Object.assign(new EventEmitter(), { connected: true, sent, send: (_m: unknown): boolean => true });
  const worker = Object.assign(new EventEmitter(), {
    isConnected: () => channel.connected,
    send: (m: unknown) => setImmediate(() => channel.emit('message', structuredClone(m))),
  });
  const serve = rpcServer(targets);
  channel.send = (m: unknown): boolean => {
    channel.sent.push(m);
    setImmediate(() => serve(worker as unknown as Worker, structuredClone(m)));
    return true;
  };
  return { channel, client: new RpcClient(channel as unknown as NodeJS.Process, 200) };
}

describe('RpcClient and rpcServer', () => {
  it('sends the calls of one turn of the event loop as one message, each answered', async () => {
    const store = new MemoryStore();
    const { channel, client } = pair({ counter: { object: store, methods: ['hit'] } });
    const counts = await Promise.all([1, 2, 3, 4, 5].map(() => client.call('counter', 'hit', ['k', 1000, 5000])));
    expect(counts).toEqual([1, 2, 3, 4, 5]);
    expect(channel.sent).toHaveLength(1);
    await client.call('counter', 'hit', ['k', 1000, 5001]);
    expect(channel.sent).toHaveLength(2);
  });

  it('holds calls nobody waits for up to LAZY_FLUSH_MS, then sends them together or with an eager call', async () => {
    const store = new MemoryStore();
    const { channel, client } = pair({ counter: { object: store, methods: ['hit'] } });
    const lazy = [1, 2, 3].map(() => client.call('counter', 'hit', ['lazy', 1000, 5000], true));
    await new Promise((r) => setImmediate(r));
    expect(channel.sent).toHaveLength(0);
    expect(await Promise.all(lazy)).toEqual([1, 2, 3]);
    expect(channel.sent).toHaveLength(1);
    const held = client.call('counter', 'hit', ['lazy', 1000, 5000], true);
    expect(await client.call('counter', 'hit', ['eager', 1000, 5000])).toBe(1);
    expect(await held).toBe(4);
    expect(channel.sent).toHaveLength(2);
  });

  it('refuses what is not a listed method of a registered target, prototype names included', async () => {
    const { client } = pair({ counter: { object: new MemoryStore(), methods: ['hit'] } });
    for (const [target, method] of [['counter', 'reset'], ['counter', 'constructor'], ['counter', '__proto__'],
      ['nothing', 'hit'], ['__proto__', 'toString']]) {
      await expect(client.call(target as string, method as string, [])).rejects.toMatchObject({
        code: RpcErrorCode.UNKNOWN,
      });
    }
  });

  it('carries a remote failure\'s code, and a remote object wraps it in the caller\'s error type', async () => {
    const failing = { go: () => Promise.reject(Object.assign(new Error('down'), { code: 'MMS_ERR_X' })) };
    const { client } = pair({ t: { object: failing, methods: ['go'] } });
    await expect(client.call('t', 'go', [])).rejects.toMatchObject({
      name: 'RpcError', code: 'MMS_ERR_X', message: 'down',
    });
    class Mine extends Error {}
    const remote = client.remote<{ go(): Promise<void> }>('t', ['go'], (e) => new Mine(e.code));
    await expect(remote.go()).rejects.toBeInstanceOf(Mine);
  });

  it('fails a call the primary does not answer in time, and every call when the channel goes', async () => {
    const channel = Object.assign(new EventEmitter(), { connected: true, send: () => true });
    const client = new RpcClient(channel as unknown as NodeJS.Process, 50);
    await expect(client.call('t', 'm', [])).rejects.toMatchObject({ code: RpcErrorCode.UNAVAILABLE });
    const slow = new RpcClient(channel as unknown as NodeJS.Process, 10_000);
    const pending = slow.call('t', 'm', []);
    channel.connected = false;
    channel.emit('disconnect');
    await expect(pending).rejects.toBeInstanceOf(RpcError);
    await expect(slow.call('t', 'm', [])).rejects.toMatchObject({ code: RpcErrorCode.UNAVAILABLE });
  });
});
