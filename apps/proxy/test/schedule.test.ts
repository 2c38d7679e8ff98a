import { describe, expect, it } from 'vitest';
import { inWindow, parseWindow } from '../src/schedule.js';

// Local-time dates: 2026-11-23 is a Monday.
const at = (day: number, hh: number, mm = 0): Date => new Date(2026, 10, 23 + day, hh, mm);

describe('notification window', () => {
  it('is always open when empty', () => {
    expect(inWindow(parseWindow(''), at(6, 3))).toBe(true);
  });

  it('opens on the listed days and hours, end excluded', () => {
    const w = parseWindow('mon-fri 08:00-18:00, sat 10:00-14:00');
    expect(inWindow(w, at(0, 8))).toBe(true);
    expect(inWindow(w, at(0, 7, 59))).toBe(false);
    expect(inWindow(w, at(4, 17, 59))).toBe(true);
    expect(inWindow(w, at(4, 18))).toBe(false);
    expect(inWindow(w, at(5, 11))).toBe(true); // Saturday
    expect(inWindow(w, at(5, 15))).toBe(false);
    expect(inWindow(w, at(6, 11))).toBe(false); // Sunday
  });

  it('handles day ranges that wrap the week and hours past midnight', () => {
    const w = parseWindow('fri-mon 22:00-06:00');
    expect(inWindow(w, at(6, 23))).toBe(true); // Sunday late
    expect(inWindow(w, at(0, 5))).toBe(true); // Monday early
    expect(inWindow(w, at(1, 23))).toBe(false); // Tuesday
    expect(inWindow(w, at(4, 12))).toBe(false); // Friday noon
  });

  it('refuses what it cannot read', () => {
    const bad = ['weekdays 08:00-18:00', 'mon 8-18', 'mon 25:00-26:00', 'mon 08:00-08:00', 'mon-xyz 01:00-02:00'];
    for (const b of bad) expect(() => parseWindow(b), b).toThrow(RangeError);
  });
});
