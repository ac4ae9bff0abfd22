// When a firing that is no newer than the resolution it follows is a re-fire, not a stale copy.
//
// Alertmanager and Grafana date a firing by its alert's startsAt, which need not change when the alert fires again:
// when Prometheus cannot reach Alertmanager for a few resend intervals, Alertmanager lets the alert expire and sends
// its resolution, and once Prometheus reaches it again the alert comes back with its first startsAt. By time alone that
// firing is older than the resolution, so the ordering guard dropped it, and every repeat of it: the alert fired on and
// nobody was paged. A copy that is really stale (a peer of an HA pair, a second route to the same receiver) arrives
// within seconds of the notification it copies, while Alertmanager sends a group's notifications one after another, so
// none of its own comes after the resolution it sent next. A firing that arrives more than a minute after its
// instance's resolution was applied is therefore taken as the alert firing again. Its instance's time then moves just
// past the resolution's, beyond its startsAt, so the episode's later notifications (same startsAt) count as current.
import type { Alert } from '../alerts/alert.js';

const REFIRE_AFTER_MS = 60_000;

/** Sources whose firing is dated by the alert's start, not by the notification. */
const DATED_BY_START = new Set<Alert['source']>(['alertmanager', 'grafana']);

/**
 * For the instance upsert (`refire_before` of its input row): null when the alert cannot re-fire this way, else the
 * time before which its instance's resolution must have been applied.
 */
export function refireBefore(alert: Alert, now: Date): string | null {
  return alert.status === 'firing' && DATED_BY_START.has(alert.source) ? new Date(now.getTime() - REFIRE_AFTER_MS).toISOString() : null;
}

/**
 * The event time the ordering guard compares, for an alert dated by its start (the upserts compute the same in SQL
 * from `refire_before`):
 * - a re-fire: just past its resolution's time, so it is applied, and a late copy of that resolution (no newer than
 *   it) cannot resolve it again;
 * - another notification of the episode an instance still fires in (the same startsAt): the instance's own time, so a
 *   repeat is not taken for a stale copy because a re-fire moved the instance's time past its startsAt;
 * - anything else: the alert's own time.
 */
export function guardedEventAt(
  alert: Alert,
  instance: { status: string; starts_at: Date; last_event_at: Date; last_seen_at: Date } | undefined,
  now: Date,
): Date {
  const at = new Date(alert.eventAt);
  const before = refireBefore(alert, now);
  if (!before || !instance || at >= instance.last_event_at) return at;
  if (instance.status === 'resolved') return instance.last_seen_at < new Date(before) ? new Date(instance.last_event_at.getTime() + 1) : at;
  return new Date(alert.startsAt).getTime() === instance.starts_at.getTime() ? instance.last_event_at : at;
}
