import { sql, type Selectable } from 'kysely';
import type { Executor } from '../db/create-db.js';
import { PREPARED } from '../db/prepared-statements.js';
import type { AlertInstance, FollowUpsTable, Incident, IncidentEvent, StepChecksTable } from '../db/schema.js';

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

export interface IncidentWork extends IncidentDetail {
  /** The incident's `step_checks` rows. */
  checks: Selectable<StepChecksTable>[];
  /** Its `follow_ups` rows, in the order they were made. */
  followUps: Selectable<FollowUpsTable>[];
}

type JsonRow = Record<string, unknown>;

/** Rows that came through json_agg carry their timestamps as ISO strings: back to Dates, as the driver reads columns. */
function withDates<T>(rows: JsonRow[], columns: readonly string[]): T[] {
  for (const row of rows) {
    for (const column of columns) {
      const value = row[column];
      if (typeof value === 'string') row[column] = new Date(value);
    }
  }
  return rows as T[];
}

// Every timestamptz column of the aggregated tables (test/http/incident-page-cache.test.ts compares the one-statement
// load against plain selects).
const INCIDENT_DATES = ['next_escalation_at', 'opened_at', 'acknowledged_at', 'resolved_at', 'last_reopened_at', 'last_alert_at', 'updated_at'] as const;
const ALERT_DATES = ['starts_at', 'last_event_at', 'first_seen_at', 'last_seen_at'] as const;
const EVENT_DATES = ['at'] as const;
const CHECK_DATES = ['checked_at'] as const;
const FOLLOW_UP_DATES = ['created_at', 'done_at'] as const;

/**
 * The incident with everything the incident page shows of it (alerts, timeline, step checks, follow-ups) in one
 * statement: one round trip instead of three rounds of five, and one snapshot of it all. Every page view runs it, so it
 * is prepared: parsed and planned once per connection.
 */
export async function getIncidentWork(db: Executor, id: number): Promise<IncidentWork | null> {
  // The incident as one json column, not i.*: a prepared statement whose result columns change (a migration adds one
  // while this replica runs) fails with "cached plan must not change result type" until the connection is replaced.
  const { rows } = await sql<{ work_incident: JsonRow; work_alerts: JsonRow[]; work_timeline: JsonRow[]; work_checks: JsonRow[]; work_follow_ups: JsonRow[] }>`
    ${PREPARED} select to_json(i) as work_incident,
      coalesce((select json_agg(a order by a.first_seen_at, a.id) from alert_instances a where a.incident_id = i.id), '[]') as work_alerts,
      coalesce((select json_agg(e order by e.id) from incident_events e where e.incident_id = i.id), '[]') as work_timeline,
      coalesce((select json_agg(c order by c.id) from step_checks c where c.incident_id = i.id), '[]') as work_checks,
      coalesce((select json_agg(f order by f.id) from follow_ups f where f.incident_id = i.id), '[]') as work_follow_ups
    from incidents i where i.id = ${id}
  `.execute(db);
  const row = rows[0];
  if (!row) return null;
  const { work_incident, work_alerts, work_timeline, work_checks, work_follow_ups } = row;
  return {
    incident: withDates<Incident>([work_incident], INCIDENT_DATES)[0]!,
    alerts: withDates<AlertInstance>(work_alerts, ALERT_DATES),
    timeline: withDates<IncidentEvent>(work_timeline, EVENT_DATES),
    checks: withDates<Selectable<StepChecksTable>>(work_checks, CHECK_DATES),
    followUps: withDates<Selectable<FollowUpsTable>>(work_follow_ups, FOLLOW_UP_DATES),
  };
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
