/**
 * The weekday/time-of-day window in which administrator notifications go out
 * (NOTIFY_WINDOW, as FortiOS's notification schedule): `mon-fri 08:00-18:00`,
 * several separated by commas (`mon-fri 08:00-18:00, sat 10:00-14:00`). Days
 * are mon..sun, single or a range (ranges may wrap: `fri-mon`); times are
 * HH:MM in the process's local time zone (TZ), the end excluded; a range
 * past midnight (`22:00-06:00`) covers both ends of each listed day.
 */
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export interface WindowRule {
  readonly days: ReadonlySet<number>;
  /** Minutes since midnight. */
  readonly from: number;
  readonly to: number;
}

function minutes(hhmm: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  if (m === null) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return (h < 24 && min < 60) || (h === 24 && min === 0) ? h * 60 + min : null;
}

/** Parses a window spec; throws RangeError naming the bad entry. Empty → [] (always open). */
export function parseWindow(spec: string): WindowRule[] {
  const out: WindowRule[] = [];
  for (const entry of spec.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '')) {
    const m = /^([a-z]{3})(?:-([a-z]{3}))?\s+(\S+)-(\S+)$/.exec(entry);
    const a = m === null ? -1 : DAYS.indexOf(m[1] as (typeof DAYS)[number]);
    const b = m === null ? -1 : m[2] === undefined ? a : DAYS.indexOf(m[2] as (typeof DAYS)[number]);
    const from = m === null ? null : minutes(m[3]!);
    const to = m === null ? null : minutes(m[4]!);
    if (a < 0 || b < 0 || from === null || to === null || from === to) {
      throw new RangeError(`window '${entry}' is not DAY[-DAY] HH:MM-HH:MM (days mon..sun)`);
    }
    const days = new Set<number>();
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
    out.push({ days, from, to });
  }
  return out;
}

/** Whether `when` falls inside the window (an empty window is always open). */
export function inWindow(rules: readonly WindowRule[], when: Date): boolean {
  if (rules.length === 0) return true;
  const day = when.getDay();
  const t = when.getHours() * 60 + when.getMinutes();
  return rules.some((r) => r.days.has(day) && (r.from < r.to ? t >= r.from && t < r.to : t >= r.from || t < r.to));
}
