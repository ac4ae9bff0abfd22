import { z } from 'zod';

/** Labels and annotations: the spec requires string → string, so a number value is a 400, not a silent coercion. */
export const stringMap = z.record(z.string(), z.string());

/**
 * The instants every timestamp is stored as: years 0001 to 9999 in UTC. Outside them toISOString() writes `+010000-…` or
 * `-000001-…`, which PostgreSQL refuses, so the delivery would fail with a 500 on every retry; refused here, it is a 400.
 */
const MIN_INSTANT_MS = Date.parse('0001-01-01T00:00:00.000Z');
export const MAX_INSTANT_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** Go marshals time.Time as RFC 3339 with up to nanoseconds and an offset; anything else is not from a real sender. */
export const timestamp = z.iso
  .datetime({ offset: true, error: 'expected an RFC 3339 timestamp such as 2026-08-14T09:40:00Z' })
  .refine(
    (value) => {
      const ms = Date.parse(value);
      // Not a time at all is the format check's issue; one issue per field says it best.
      return Number.isNaN(ms) || (ms >= MIN_INSTANT_MS && ms <= MAX_INSTANT_MS);
    },
    { error: 'expected a time between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z' },
  );

/** The top level of every body must be an object; unknown keys are dropped because senders add fields over time. */
export function jsonObject<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.object(shape, { error: 'expected a JSON object' });
}

/** Normalises any RFC 3339 string to `toISOString()` form so timestamps compare as strings downstream. */
export function toIso(rfc3339: string): string {
  return new Date(rfc3339).toISOString();
}

/** Templated fields arrive as empty strings when the variable had no value; treat those as absent. */
export function present(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * Links become clickable on the incident page, and escaping does not defuse `javascript:`; a sender-controlled
 * link is kept only when it is an absolute http(s) URL.
 */
export function httpUrl(value: string | null | undefined): string | undefined {
  const candidate = present(value);
  if (candidate === undefined) return undefined;
  try {
    const { protocol } = new URL(candidate);
    return protocol === 'http:' || protocol === 'https:' ? candidate : undefined;
  } catch {
    return undefined;
  }
}
