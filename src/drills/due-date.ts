// Due dates of drills on the calendar of REPORT_TZ. A plain day (`2026-11-30`) means "any time that day there", so it
// is stored as the last instant of that day: every comparison (`due_at < now` for overdue, `due_at < weekEnd` for this
// week) then needs no special case, and the day printed back in REPORT_TZ is the day that was given.
import { localDate, zonedMidnight } from '../reports/iso-week.js';

const DAY_MS = 86_400_000;

/** A `YYYY-MM-DD` day as a count of days, for calendar arithmetic that DST cannot skew. */
function dayNumber(day: string): number {
  const [year, month, date] = day.split('-').map(Number);
  return Date.UTC(year!, month! - 1, date!) / DAY_MS;
}

/** The last instant (1 ms before the next midnight) of a calendar day in `timeZone`. */
export function endOfDayIn(day: string, timeZone: string): Date {
  const next = new Date((dayNumber(day) + 1) * DAY_MS);
  return new Date(zonedMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone).getTime() - 1);
}

/** True for the instants `endOfDayIn` makes: the drill was given a day, not a time. */
export function isEndOfDayIn(instant: Date, timeZone: string): boolean {
  return endOfDayIn(localDate(instant, timeZone), timeZone).getTime() === instant.getTime();
}

/** A due date as given: a plain day is the end of that day in `timeZone`, an instant stays that instant. */
export function dueInstant(due: Date | string, timeZone: string): Date {
  return typeof due === 'string' ? endOfDayIn(due, timeZone) : due;
}

/** Whole calendar days from the day of `from` to the day of `to` in `timeZone` (due Monday, Wednesday: 2). */
export function calendarDaysBetween(from: Date, to: Date, timeZone: string): number {
  return dayNumber(localDate(to, timeZone)) - dayNumber(localDate(from, timeZone));
}
