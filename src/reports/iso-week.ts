// ISO 8601 weeks (`2026-W47`: Monday to Sunday, week 1 holds the year's first Thursday), with their bounds as
// instants in a time zone: the report's week starts at Monday 00:00 in REPORT_TZ, not in UTC.

export interface IsoWeek {
  year: number;
  week: number;
}

const DAY_MS = 86_400_000;
const WEEK_RE = /^(\d{4})-?W(\d{2})$/i;

/** Throws a RangeError naming the input when it is not a week that exists (`2026-W53` does not). */
export function parseIsoWeek(text: string): IsoWeek {
  const match = WEEK_RE.exec(text.trim());
  if (!match) throw new RangeError(`expected an ISO week like 2026-W47, got ${JSON.stringify(text)}`);
  const year = Number(match[1]);
  const week = Number(match[2]);
  // Date.UTC reads years 0-99 as 1900-1999, so 0099-W01 answered with 1999's data; no report predates the epoch anyway.
  if (year < 1970) throw new RangeError(`expected a week from 1970 on, got ${JSON.stringify(text)}`);
  if (week < 1 || week > weeksInYear(year)) throw new RangeError(`${year} has no week ${week} (it has ${weeksInYear(year)})`);
  return { year, week };
}

export function formatIsoWeek({ year, week }: IsoWeek): string {
  return `${String(year).padStart(4, '0')}-W${String(week).padStart(2, '0')}`;
}

/** 52 or 53. */
export function weeksInYear(year: number): number {
  // A year has 53 weeks when its December 28 falls in week 53.
  return isoWeekOfCalendarDate(year, 12, 28).week;
}

/** The ISO week of a calendar date (month 1-12). */
export function isoWeekOfCalendarDate(year: number, month: number, day: number): IsoWeek {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7; // Monday 1 … Sunday 7
  const thursday = new Date(date.getTime() + (4 - weekday) * DAY_MS);
  const isoYear = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / DAY_MS / 7) + 1;
  return { year: isoYear, week };
}

/** The ISO week that `instant` falls in, on the calendar of `timeZone`. */
export function isoWeekOf(instant: Date, timeZone = 'UTC'): string {
  const { year, month, day } = wallClock(instant, timeZone);
  return formatIsoWeek(isoWeekOfCalendarDate(year, month, day));
}

/** The calendar date (UTC-based Date at 00:00) of the Monday of a week. */
function mondayOf({ year, week }: IsoWeek): Date {
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const jan4Weekday = jan4.getUTCDay() || 7;
  return new Date(jan4.getTime() + ((week - 1) * 7 - (jan4Weekday - 1)) * DAY_MS);
}

/** `days` days after the Monday of the week, 00:00 in `timeZone`, as an instant. */
export function weekDayStart(week: string, days: number, timeZone = 'UTC'): Date {
  const date = new Date(mondayOf(parseIsoWeek(week)).getTime() + days * DAY_MS);
  return zonedMidnight(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), timeZone);
}

/** Monday 00:00 of the week in `timeZone` (inclusive) and the next Monday 00:00 (exclusive). */
export function isoWeekBounds(week: string, timeZone = 'UTC'): { start: Date; end: Date } {
  return { start: weekDayStart(week, 0, timeZone), end: weekDayStart(week, 7, timeZone) };
}

export function shiftIsoWeek(week: string, by: number): string {
  const monday = new Date(mondayOf(parseIsoWeek(week)).getTime() + by * 7 * DAY_MS);
  return formatIsoWeek(isoWeekOfCalendarDate(monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate()));
}

/** The date `instant` shows on a wall calendar in `timeZone`, as `YYYY-MM-DD`. */
export function localDate(instant: Date, timeZone = 'UTC'): string {
  const { year, month, day } = wallClock(instant, timeZone);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(instant: Date, timeZone: string): WallClock {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((p) => [p.type, p.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second) };
}

/** How far `timeZone`'s wall clock is ahead of UTC at `instant`, in ms. */
export function offsetAt(instant: Date, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The instant of 00:00 on a calendar date in `timeZone` (the first instant of that date when a DST jump skips midnight). */
export function zonedMidnight(year: number, month: number, day: number, timeZone = 'UTC'): Date {
  const wall = Date.UTC(year, month - 1, day);
  let guess = wall - offsetAt(new Date(wall), timeZone);
  // Once more with the offset in force at the guess, for the days a DST change happens near midnight.
  guess = wall - offsetAt(new Date(guess), timeZone);
  const local = wallClock(new Date(guess), timeZone);
  if (local.day !== day) {
    // Midnight does not exist that day (clocks jumped forward over it): take the first hour that does.
    guess += DAY_MS - (local.hour * 3600 + local.minute * 60 + local.second) * 1000;
  }
  return new Date(guess);
}
