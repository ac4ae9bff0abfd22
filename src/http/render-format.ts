// Times and durations as a responder reads them: absolute in UTC (one clock for everyone on the bridge) plus
// relative ("12m ago", "in 3m"), which the page script keeps ticking.

const pad = (n: number) => String(n).padStart(2, '0');

/** `2026-08-14 09:18 UTC` */
export function utcMinute(date: Date): string {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())} UTC`;
}

/** `09:18:45` (UTC), for timelines where the date is shown once. */
export function utcClock(date: Date): string {
  return `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

/** `2026-08-14` */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** A span of time in at most two units: `45s`, `12m`, `1h 05m`, `3d 4h`. */
export function span(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 && m < 10 ? ` ${pad(s % 60)}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${pad(m % 60)}m`;
  const d = Math.floor(h / 24);
  return `${d}d ${h % 24}h`;
}

/** `12m ago` / `in 3m` */
export function relative(date: Date, now: Date): string {
  const ms = date.getTime() - now.getTime();
  return ms >= 0 ? `in ${span(ms)}` : `${span(-ms)} ago`;
}

/** A duration from the runbook (`Duration: 15m`): whole units, no seconds unless needed. */
export function durationText(ms: number): string {
  if (ms % 86_400_000 === 0 && ms >= 86_400_000) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return span(ms);
}
