const MINUTE_MS = 60_000;

/**
 * Whether a cron expression had a firing time in (`after`, `until`]. node-cron only fires while the process is up;
 * this tells a replica that starts (or whose database comes back) after the weekly report's time that the week's
 * report is still owed. `match` is the task's own matcher (it knows REPORT_TZ); `seconds` the expression's second
 * field (`[0]` for five-field expressions), so only instants the expression can name are tried: a week is at most
 * 10,080 minutes.
 */
export function cronFiredBetween(match: (instant: Date) => boolean, seconds: readonly number[], after: Date, until: Date, zone?: ZoneClock): boolean {
  const end = until.getTime();
  // Offsets are read only in a span the zone's offset changes in (a DST week), not for every minute of every week.
  const jumps = zone !== undefined && zone.offsetAt(after) !== zone.offsetAt(until);
  for (let minute = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS; minute <= end; minute += MINUTE_MS) {
    for (const second of seconds) {
      const at = minute + second * 1000;
      if (at > after.getTime() && at <= end && match(new Date(at))) return true;
    }
    if (jumps && minute > after.getTime() && skippedWallTimeFires(zone, minute, seconds)) return true;
  }
  return false;
}

/** The zone's clock for cronFiredBetween: its offset, and the expression matched against wall-clock fields. */
export interface ZoneClock {
  /** How far the wall clock is ahead of UTC at `instant`, ms. */
  offsetAt(instant: Date): number;
  /** Whether the expression names this wall-clock time, given as the UTC instant with the same fields. */
  matchWall(wall: Date): boolean;
}

/**
 * Whether the clocks jumped forward at `minute` over a time the expression names (02:30 on the night Europe/Berlin goes
 * from 02:00 to 03:00). No instant has that wall-clock time, so node-cron never fires and that week had no report; as
 * cron does, it fires at the first minute after the jump instead.
 */
function skippedWallTimeFires(zone: ZoneClock, minute: number, seconds: readonly number[]): boolean {
  const before = zone.offsetAt(new Date(minute - MINUTE_MS));
  const now = zone.offsetAt(new Date(minute));
  // Wall clock read minute - 1 + before, then minute + now: every wall minute strictly between was skipped.
  for (let wall = minute + before; wall < minute + now; wall += MINUTE_MS) {
    for (const second of seconds) if (zone.matchWall(new Date(wall + second * 1000))) return true;
  }
  return false;
}
