import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parses the one duration format used in settings and the matrix (`500ms`, `30s`, `5m`, `2h`, `30d`) into milliseconds. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  const unit = match[2] as keyof typeof UNIT_MS;
  return Math.round(Number(match[1]) * UNIT_MS[unit]);
}

export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (abs < 1000) return `${sign}${Math.round(abs)}ms`;
  if (abs < 60_000) return `${sign}${Math.round(abs / 1000)}s`;
  if (abs < 3_600_000) {
    const m = Math.floor(abs / 60_000);
    const s = Math.round((abs % 60_000) / 1000);
    return s ? `${sign}${m}m ${s}s` : `${sign}${m}m`;
  }
  if (abs < 86_400_000) {
    const h = Math.floor(abs / 3_600_000);
    const m = Math.round((abs % 3_600_000) / 60_000);
    return m ? `${sign}${h}h ${m}m` : `${sign}${h}h`;
  }
  const d = Math.floor(abs / 86_400_000);
  const h = Math.round((abs % 86_400_000) / 3_600_000);
  return h ? `${sign}${d}d ${h}h` : `${sign}${d}d`;
}

interface DurationBound {
  ms: number;
  /** What would happen beyond the bound, for the person who wrote the value. */
  why: string;
}

/**
 * zod schema for a duration string within bounds; the parsed value is milliseconds. Values outside them parse fine but
 * cannot work (`5ms` is more often a typo for `5m` than a wish), and `why` tells the author what would happen instead.
 */
export function durationWithin(bounds: { min?: DurationBound; max?: DurationBound }) {
  return z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `expected a duration like 500ms, 30s, 5m, 2h or 30d, got "${text}"` });
      return z.NEVER;
    }
    if (bounds.min && ms < bounds.min.ms) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is too short, it must be at least ${formatDuration(bounds.min.ms)}: ${bounds.min.why}` });
      return z.NEVER;
    }
    if (bounds.max && ms > bounds.max.ms) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is too long, it must be at most ${formatDuration(bounds.max.ms)}: ${bounds.max.why}` });
      return z.NEVER;
    }
    return ms;
  });
}

/** zod schema for any duration string; the parsed value is milliseconds. */
export const durationSchema = durationWithin({});
