/** The in-flight budget's arithmetic: what it refuses, and that giving back never goes below zero. */
import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../src/budget.js';

describe('ByteBudget', () => {
  it('takes up to its limit exactly and refuses the byte past it', () => {
    const b = new ByteBudget(100);
    expect(b.tryTake(60)).toBe(true);
    expect(b.tryTake(41)).toBe(false);
    expect(b.inUse).toBe(60);
    expect(b.tryTake(40)).toBe(true);
    expect(b.inUse).toBe(100);
  });

  it('refuses a negative or NaN reservation (a bug in a caller must not mint budget)', () => {
    const b = new ByteBudget(100);
    expect(b.tryTake(-10)).toBe(false);
    expect(b.tryTake(Number.NaN)).toBe(false);
    expect(b.inUse).toBe(0);
  });

  it('never goes below zero when more is given back than was taken', () => {
    const b = new ByteBudget(100);
    b.tryTake(10);
    b.give(30);
    expect(b.inUse).toBe(0);
    expect(b.tryTake(100)).toBe(true);
  });
});
