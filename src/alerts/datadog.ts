import { z } from 'zod';
import type { Alert } from './alert.js';
import { parseDatadogTitle, transitionStatus } from './datadog-title.js';
import { monIdsFromFirstSource, monIdsIn } from './mon-id-token.js';
import { boundedKey } from './bounded-key.js';
import { MAX_INSTANT_MS, httpUrl, jsonObject, present } from './schema-parts.js';

const scalar = z.union([z.string(), z.number()], { error: 'expected a string or a number' });

/** `$ID`-like variables are numbers when the template left them unquoted; they are identifiers, so keep them as text. */
const scalarId = scalar.transform((value) => (typeof value === 'number' && Number.isInteger(value) ? BigInt(value).toString() : String(value)));

/**
 * `$ID` is shown to the responder. Unquoted and above 2^53 (19-digit ids are), JSON.parse has already rounded it and the
 * adapter only sees the parsed body, so its digits would name an event that does not exist: such an id is dropped.
 */
const eventId = scalar.transform((value) => (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value) ? undefined : String(value)));

const EPOCH_MS = { error: 'expected epoch milliseconds' };

/**
 * `$DATE` is epoch milliseconds, quoted or not; it orders events, so a value that is not a time is refused, and so is one
 * past year 9999, which the database cannot store (a 500 on every retry instead of a 400).
 */
const epochMs = z
  .union([z.string().trim().regex(/^\d*$/, EPOCH_MS), z.number()], EPOCH_MS)
  .transform((value) => (value === '' ? undefined : Number(value)))
  .pipe(z.number().int(EPOCH_MS).nonnegative(EPOCH_MS).max(MAX_INSTANT_MS, { error: 'expected epoch milliseconds no later than 9999-12-31T23:59:59.999Z' }).optional());

const text = z.string().optional();

/**
 * Datadog sends whatever template the user typed, so every field is optional. Fields listed are the default payload
 * plus our recommended template (README §4); text fields must be strings when present.
 */
export const datadogBodySchema = jsonObject({
  id: eventId.optional(),
  alert_id: scalarId.optional(),
  alert_cycle_key: scalarId.optional(),
  last_updated: scalarId.optional(),
  date: epochMs.optional(),
  title: text,
  body: text,
  alert_transition: text,
  tags: text,
  mon_id: text,
  alert_title: text,
  alert_scope: text,
  alert_priority: text,
  alert_type: text,
  alert_status: text,
  alert_query: text,
  alert_metric: text,
  event_type: text,
  priority: text,
  hostname: text,
  link: text,
  aggreg_key: text,
});

interface Tag {
  key: string;
  value: string;
}

/** `$TAGS` is comma-separated with or without spaces; a tag without `:` is a bare tag such as `monitor`. */
function parseTags(tags: string | undefined): Tag[] {
  return (tags ?? '')
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean)
    .map((tag) => {
      const colon = tag.indexOf(':');
      return colon === -1 ? { key: tag, value: '' } : { key: tag.slice(0, colon).trim(), value: tag.slice(colon + 1).trim() };
    });
}

function monitorNameOf(title: string | undefined): string | undefined {
  return title === undefined ? undefined : parseDatadogTitle(title).name;
}

export function adaptDatadog(body: unknown, receivedAt: Date): Alert[] {
  const dd = datadogBodySchema.parse(body);
  const rawTitle = present(dd.title) ?? present(dd.alert_title);
  const title = parseDatadogTitle(rawTitle ?? '');
  const transition = present(dd.alert_transition) ?? title.state;
  const status = transition === undefined ? undefined : transitionStatus(transition);
  // Unknown transitions (older docs list `Null`) carry no state we could act on.
  if (status === undefined) return [];

  const tags = parseTags(dd.tags);
  const tagIds = tags.filter((t) => t.key === 'mon_id' || t.key === 'mon').flatMap((t) => monIdsIn(t.value));
  const fieldAndTagIds = [...new Set([...monIdsIn(dd.mon_id ?? ''), ...tagIds])];
  // Only the monitor's own name is scanned: Datadog's prefixes are its text, not the user's, and the scope in
  // `[Triggered on {host:ceph-mon-01}]` would otherwise give MON-01.
  const monIds = fieldAndTagIds.length > 0 ? fieldAndTagIds : monIdsFromFirstSource([monitorNameOf(dd.title), monitorNameOf(dd.alert_title)]);

  const scope = present(dd.alert_scope) ?? title.scope;
  const alertId = present(dd.alert_id);
  // The default payload has no $ALERT_ID; the title without Datadog's prefixes is the same on trigger and recovery and,
  // unlike the display text, keeps name groups such as `[Prod]` that tell two monitors apart.
  const identity = alertId ?? `title:${title.name}`;
  // Scopes and default-payload titles are sender text of any length; boundedKey keeps the instance key storable.
  const fingerprint = boundedKey(scope ? `${identity}/${scope}` : identity);

  // A Map, not an object literal: tag keys are sender-controlled and `constructor` or `__proto__` must stay plain keys.
  const labels = new Map<string, string>();
  for (const tag of tags) {
    const seen = labels.get(tag.key);
    // Repeated keys (`team:a,team:b`) are kept, not overwritten.
    labels.set(tag.key, seen === undefined || seen === tag.value ? tag.value : `${seen},${tag.value}`);
  }
  const host = present(dd.hostname) ?? present(labels.get('host'));
  if (host !== undefined) labels.set('host', host);
  if (scope !== undefined) labels.set('scope', scope);
  const priority = present(dd.alert_priority) ?? title.priority;
  if (priority !== undefined) labels.set('priority', priority);

  const values: Record<string, string | number> = {};
  for (const [key, value] of [
    ['alert_status', dd.alert_status],
    ['alert_type', dd.alert_type],
    ['alert_metric', dd.alert_metric],
    ['alert_query', dd.alert_query],
    ['event_type', dd.event_type],
    ['transition', transition],
    ['event_id', dd.id],
    ['message', dd.body],
  ] as const) {
    const v = present(value);
    if (v !== undefined) values[key] = v;
  }

  const at = dd.date === undefined ? receivedAt.toISOString() : new Date(dd.date).toISOString();
  const base = {
    source: 'datadog' as const,
    status,
    fingerprint,
    title: title.text || 'Datadog monitor',
    labels: Object.fromEntries(labels),
    values,
    url: httpUrl(dd.link) ?? null,
    // Datadog sends no start time; the event's own time is the closest thing.
    startsAt: at,
    eventAt: at,
  };
  // One monitor can name several MON ids (two runbooks); each gets its own alert so each incident sees it.
  return monIds.length === 0 ? [{ ...base, monId: null }] : monIds.map((monId) => ({ ...base, monId }));
}
