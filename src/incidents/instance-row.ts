import type { Alert } from '../alerts/alert.js';
import { refireBefore } from './refire-window.js';

/** An alert as the instance upsert reads it, one json_to_recordset row; the caller adds its incident's id or group key. */
export function instanceRow(alert: Alert, now: Date) {
  return {
    source: alert.source,
    fingerprint: alert.fingerprint,
    mon_id: alert.monId,
    status: alert.status,
    title: alert.title,
    labels: alert.labels,
    vals: alert.values,
    url: alert.url,
    // Adapters give RFC 3339 strings in toISOString() form.
    starts_at: alert.startsAt,
    last_event_at: alert.eventAt,
    actor: alert.actor ?? null,
    refire_before: refireBefore(alert, now),
  };
}
