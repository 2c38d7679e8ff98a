import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStore, checkBulkMany, parseThresholds, type CounterStore } from '../src/index.js';

/** The same store without checkAll: checkBulkMany then takes its step-by-step path. */
function stepwise(s: MemoryStore): CounterStore {
  return {
    hit: (...a) => s.hit(...a), block: (...a) => s.block(...a), blocked: (...a) => s.blocked(...a),
    listBlocks: (...a) => s.listBlocks(...a), release: (...a) => s.release(...a),
    listCounts: (...a) => s.listCounts(...a), reset: (...a) => s.reset(...a), close: () => s.close(),
  };
}

describe('MemoryStore.checkAll (one step, for workers sharing the primary\'s store)', () => {
  it('decides every message as the step-by-step path does: counts, crossings, blocks and their restarts', async () => {
    const sets = ['3/10:log;5/10:block+alert:20', '2/5:block:7', '1/3:log', '4/30:log;6/30:block:3'];
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...sets), fc.constantFrom(...sets),
      fc.array(fc.record({
        sender: fc.constantFrom('a', 'b'), content: fc.constantFrom('x', 'y'), dt: fc.integer({ min: 0, max: 6 }),
      }), { maxLength: 200 }),
      async (floodSpec, dupeSpec, ops) => {
        const flood = parseThresholds(floodSpec);
        const dupe = parseThresholds(dupeSpec);
        const one = new MemoryStore();
        const ref = new MemoryStore();
        let clock = 1_000_000;
        for (const op of ops) {
          clock += op.dt * 1000;
          const keys = [
            { kind: 'flood' as const, key: op.sender, thresholds: flood },
            { kind: 'dupe' as const, key: op.content, thresholds: dupe },
          ];
          const got = await checkBulkMany(one, keys, clock);
          const want = await checkBulkMany(stepwise(ref), keys, clock);
          expect(got).toEqual(want);
        }
        expect(await one.listBlocks('', clock)).toEqual(await ref.listBlocks('', clock));
      },
    ), { numRuns: 500 });
  });
});
