import { sql } from 'kysely';
import type { Executor } from '../db/create-db.js';
import type { AlertInstance, Incident, IncidentEvent } from '../db/schema.js';

export type IncidentFilter = 'open' | 'acknowledged' | 'resolved' | 'triggered' | 'all';

export interface IncidentSummary {
  id: number;
  monId: string | null;
  runbookId: string | null;
  status: Incident['status'];
  severity: string;
  title: string;
  source: string;
  openedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  escalationLevel: number;
  nextEscalationAt: string | null;
  alertCount: number;
  flapping: boolean;
  reopenCount: number;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function summarize(row: Incident & { alert_count?: number | string }): IncidentSummary {
  return {
    id: row.id,
    monId: row.mon_id,
    runbookId: row.runbook_id,
    status: row.status,
    severity: row.severity,
    title: row.title,
    source: row.source,
    openedAt: row.opened_at.toISOString(),
    acknowledgedAt: iso(row.acknowledged_at),
    acknowledgedBy: row.acknowledged_by,
    resolvedAt: iso(row.resolved_at),
    escalationLevel: row.escalation_level,
    nextEscalationAt: iso(row.next_escalation_at),
    alertCount: Number(row.alert_count ?? 0),
    flapping: row.flapping,
    reopenCount: row.reopen_count,
  };
}

/** Newest first; `open` means triggered or acknowledged. */
export async function listIncidents(db: Executor, filter: IncidentFilter, limit = 200): Promise<IncidentSummary[]> {
  let query = db
    .selectFrom('incidents')
    .selectAll('incidents')
    .select(sql<number>`(select count(*) from alert_instances a where a.incident_id = incidents.id)`.as('alert_count'))
    .orderBy('opened_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit);
  if (filter === 'open') query = query.where('status', '<>', 'resolved');
  else if (filter !== 'all') query = query.where('status', '=', filter);
  const rows = await query.execute();
  return rows.map(summarize);
}

export interface IncidentDetail {
  incident: Incident;
  alerts: AlertInstance[];
  timeline: IncidentEvent[];
}

export async function getIncident(db: Executor, id: number): Promise<IncidentDetail | null> {
  const incident = await db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
  if (!incident) return null;
  const [alerts, timeline] = await Promise.all([
    db.selectFrom('alert_instances').selectAll().where('incident_id', '=', id).orderBy('first_seen_at').orderBy('id').execute(),
    db.selectFrom('incident_events').selectAll().where('incident_id', '=', id).orderBy('id').execute(),
  ]);
  return { incident, alerts, timeline };
}

export function incidentJson(detail: IncidentDetail) {
  return {
    ...summarize({ ...detail.incident, alert_count: detail.alerts.length }),
    runbookHash: detail.incident.runbook_hash,
    escalationChain: detail.incident.escalation_chain,
    resolvedBy: detail.incident.resolved_by,
    alerts: detail.alerts.map((a) => ({
      id: a.id,
      source: a.source,
      fingerprint: a.fingerprint,
      monId: a.mon_id,
      status: a.status,
      title: a.title,
      labels: a.labels,
      values: a.values,
      url: a.url,
      startsAt: a.starts_at.toISOString(),
      lastEventAt: a.last_event_at.toISOString(),
      firstSeenAt: a.first_seen_at.toISOString(),
      lastSeenAt: a.last_seen_at.toISOString(),
    })),
    timeline: detail.timeline.map((e) => ({ id: e.id, at: e.at.toISOString(), kind: e.kind, actor: e.actor, data: e.data })),
  };
}
