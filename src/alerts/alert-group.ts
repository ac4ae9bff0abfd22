import { z } from 'zod';
import type { Alert, Source } from './alert.js';
import { boundedKey } from './bounded-key.js';
import { monIdsFromFirstSource } from './mon-id-token.js';
import { httpUrl, present, stringMap, timestamp, toIso } from './schema-parts.js';

/**
 * The Alertmanager notification template (`template.Data`), which Grafana's unified webhook extends.
 * Both senders share grouping, per-alert status and fingerprints, so both adapters build on this.
 */
export const groupAlertShape = {
  status: z.enum(['firing', 'resolved']),
  labels: stringMap,
  annotations: stringMap.optional(),
  startsAt: timestamp,
  endsAt: timestamp.optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1),
};

export const groupShape = {
  receiver: z.string().optional(),
  // Deliberately unused: it is `firing` when any alert fires, so only each alert's own status counts.
  status: z.string().optional(),
  groupLabels: stringMap.optional(),
  commonLabels: stringMap.optional(),
  commonAnnotations: stringMap.optional(),
  externalURL: z.string().optional(),
  version: z.string().optional(),
  groupKey: z.string().optional(),
  // Alerts beyond max_alerts are left out; their absence never means they resolved, so nothing is inferred from it.
  truncatedAlerts: z.number().int().nonnegative().optional(),
};

const groupAlertSchema = z.object(groupAlertShape);
export type GroupAlert = z.output<typeof groupAlertSchema>;

/** Go's zero time.Time, which a firing alert carries as `endsAt`. */
const GO_ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z');

function isSet(value: string | undefined): value is string {
  return value !== undefined && Date.parse(value) > GO_ZERO_TIME_MS;
}

/** One Alert per element of `alerts[]`; `extraValues` lets Grafana add its measurements after the annotations. */
export function alertFromGroupAlert(source: Source, alert: GroupAlert, extraValues: Record<string, string | number> = {}): Alert {
  const annotations = alert.annotations ?? {};
  const [monId] = monIdsFromFirstSource([alert.labels.mon_id, annotations.mon_id, alert.labels.alertname, annotations.summary]);
  const resolved = alert.status === 'resolved';
  // A resolution happened at endsAt; a (re-)notification of a firing alert is about the episode that began at startsAt.
  const eventAt = resolved && isSet(alert.endsAt) ? alert.endsAt : alert.startsAt;
  return {
    source,
    monId: monId ?? null,
    status: alert.status,
    // Real senders send 16 hex characters; anything else is bounded so it fits the instance index (see boundedKey).
    fingerprint: boundedKey(alert.fingerprint),
    title: present(annotations.summary) ?? present(alert.labels.alertname) ?? `${source} alert ${boundedKey(alert.fingerprint)}`,
    labels: { ...alert.labels },
    // Annotations (description, runbook_url, …) are what a responder reads first; measurements may override same-named keys.
    values: { ...annotations, ...extraValues },
    url: httpUrl(alert.generatorURL) ?? null,
    startsAt: toIso(alert.startsAt),
    eventAt: toIso(eventAt),
  };
}
