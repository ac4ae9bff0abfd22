const MINUTE_MS = 60_000;

/**
 * Whether a cron expression had a firing time in (`after`, `until`]. node-cron only fires while the process is up;
 * this tells a replica that starts (or whose database comes back) after the weekly report's time that the week's
 * report is still owed. `match` is the task's own matcher (it knows REPORT_TZ); `seconds` the expression's second
 * field (`[0]` for five-field expressions), so only instants the expression can name are tried: a week is at most
 * 10,080 minutes.
 */
export function cronFiredBetween(match: (instant: Date) => boolean, seconds: readonly number[], after: Date, until: Date): boolean {
  const end = until.getTime();
  for (let minute = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS; minute <= end; minute += MINUTE_MS) {
    for (const second of seconds) {
      const at = minute + second * 1000;
      if (at > after.getTime() && at <= end && match(new Date(at))) return true;
    }
  }
  return false;
}
