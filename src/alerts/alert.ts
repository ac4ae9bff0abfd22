export const SOURCES = ['datadog', 'grafana', 'alertmanager', 'pagerduty'] as const;
export type Source = (typeof SOURCES)[number];

export type AlertStatus = 'firing' | 'resolved' | 'acknowledged';

/** One alert instance as every adapter emits it; the rest of the service never sees a provider's format. */
export interface Alert {
  source: Source;
  /** Normalised `MON-<digits>` or null when no source field carried one. */
  monId: string | null;
  status: AlertStatus;
  /** Stable identity of the instance within its source (Grafana/Alertmanager fingerprint, Datadog alert id + scope, PagerDuty incident id). */
  fingerprint: string;
  title: string;
  labels: Record<string, string>;
  /** Numeric or textual values worth showing the responder (Grafana values, annotations, Datadog fields). */
  values: Record<string, string | number>;
  url: string | null;
  /** When the alert started, ISO 8601. */
  startsAt: string;
  /** The event's own time, ISO 8601, used by the ordering guard; an older event never overrides a newer one. */
  eventAt: string;
  /** Who acted at the source (PagerDuty agent), when known. */
  actor?: string | null;
}
