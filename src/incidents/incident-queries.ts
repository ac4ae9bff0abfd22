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

/** How many incidents one answer of `GET /api/incidents` holds: by default, and at most. */
export const LIST_LIMIT = { default: 200, max: 1000 } as const;

/** Where a page of the newest-first list ends: the last incident's `opened_at` (to the microsecond) and id. */
export interface IncidentCursor {
  openedAt: string;
  id: number;
}

export interface IncidentListPage {
  incidents: IncidentSummary[];
  /** Pass as `before` for the next, older page; null when this page reaches the oldest incident. */
  nextCursor: string | null;
}

/** `2026-08-14T09:20:00.123456Z,42`: the text of a cursor, which `parseCursor` reads back. */
const formatCursor = (c: IncidentCursor) => `${c.openedAt},${c.id}`;

const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z),([1-9]\d{0,15})$/;

/** The cursor a `nextCursor` names, or null when the text is not one. */
export function parseCursor(text: string): IncidentCursor | null {
  const match = CURSOR.exec(text);
  if (!match || Number.isNaN(Date.parse(match[1]!))) return null;
  const id = Number(match[2]);
  return Number.isSafeInteger(id) ? { openedAt: match[1]!, id } : null;
}

/**
 * Newest first, a page at a time (keyset: the oldest open incidents, which have waited longest, are one `before` away
 * instead of dropped); `open` means triggered or acknowledged.
 */
export async function listIncidents(db: Executor, filter: IncidentFilter, page: { limit?: number; before?: IncidentCursor | null } = {}): Promise<IncidentListPage> {
  const limit = page.limit ?? LIST_LIMIT.default;
  let query = db
    .selectFrom('incidents')
    .selectAll('incidents')
    .select(sql<number>`(select count(*) from alert_instances a where a.incident_id = incidents.id)`.as('alert_count'))
    // The cursor carries the microseconds a Date would drop: a row sharing the millisecond is neither skipped nor repeated.
    .select(sql<string>`to_char(incidents.opened_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_at'))
    .orderBy('opened_at', 'desc')
    .orderBy('id', 'desc')
    // One more than asked: whether it exists says whether there is a next page.
    .limit(limit + 1);
  if (filter === 'open') query = query.where('status', '<>', 'resolved');
  else if (filter !== 'all') query = query.where('status', '=', filter);
  if (page.before) query = query.where(sql<boolean>`(incidents.opened_at, incidents.id) < (${page.before.openedAt}::timestamptz, ${page.before.id}::bigint)`);
  const rows = await query.execute();
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const last = shown.at(-1);
  return { incidents: shown.map(summarize), nextCursor: more && last ? formatCursor({ openedAt: last.cursor_at, id: last.id }) : null };
}

export interface OpenIncidents {
  /** The most urgent open incidents, at most the limit asked for. */
  rows: (Incident & { alert_count: number | string | null })[];
  /** Every open incident, counted whatever the limit. */
  triggered: number;
  acknowledged: number;
}

/** A severity's place in `severities` (most urgent first, as matrix.yml lists them); any other severity after them all. */
function severityRank(severities: readonly string[]) {
  if (!severities.length) return sql<number>`0`;
  const whens = severities.map((s, n) => sql`when ${s} then ${n}::int`);
  return sql<number>`case incidents.severity ${sql.join(whens, sql` `)} else ${severities.length}::int end`;
}

/**
 * The open incidents in the order the list page shows them — unacknowledged first, then by severity, newest first —
 * sorted before the limit, so the one cut is never a triggered critical that is merely old; and the real counts.
 */
export async function openIncidentsByUrgency(db: Executor, severities: readonly string[], limit: number): Promise<OpenIncidents> {
  const [rows, counts] = await Promise.all([
    db
      .selectFrom('incidents')
      .selectAll()
      .select((eb) => eb.selectFrom('alert_instances').select(eb.fn.countAll<number>().as('n')).whereRef('alert_instances.incident_id', '=', 'incidents.id').as('alert_count'))
      .where('status', '<>', 'resolved')
      .orderBy(sql`incidents.status = 'triggered'`, 'desc')
      .orderBy(severityRank(severities))
      .orderBy('opened_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute(),
    db
      .selectFrom('incidents')
      .select([sql<number>`count(*) filter (where status = 'triggered')::int`.as('triggered'), sql<number>`count(*) filter (where status = 'acknowledged')::int`.as('acknowledged')])
      .where('status', '<>', 'resolved')
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, triggered: Number(counts.triggered), acknowledged: Number(counts.acknowledged) };
}

/** An incident's alert instances by status, all of them counted (the loaded list may hold fewer). */
export interface AlertCounts {
  total: number;
  /** Not resolved: firing or acknowledged at the source. */
  firing: number;
  byStatus: Partial<Record<AlertInstance['status'], number>>;
}

export interface IncidentDetail {
  incident: Incident;
  /** Its alert instances (first seen first): all of them, or when bounded those still firing first (see alertCounts). */
  alerts: AlertInstance[];
  alertCounts: AlertCounts;
  /**
   * Its timeline (oldest first): all of it, or when bounded the latest events, preceded by every `opened`,
   * `acknowledged` and `reopened` event older than those (step clocks read them; see timelineExtent).
   */
  timeline: IncidentEvent[];
  timelineExtent: TimelineExtent;
}

export interface TimelineExtent {
  /** Events the incident has in all. */
  total: number;
  /**
   * Events left out of `timeline`, all older than `timeline[gapAt]` (the kept openings, acknowledgements and
   * reopenings before it are among them). 0, and gapAt null, when it is whole.
   */
  hidden: number;
  gapAt: number | null;
}

/** What a load leaves out: null loads all. */
export interface IncidentBounds {
  /** Most alert instances, those not resolved first. */
  alerts: number | null;
  /** Most of the latest timeline events (the older openings, acknowledgements and reopenings come as well). */
  timeline: number | null;
}

export const WHOLE: IncidentBounds = { alerts: null, timeline: null };

/**
 * The incident page's and `GET /api/incidents/:id`'s: what a responder reads, whatever an alert storm did (10,000
 * instances made a 13 MB page that took half a second to serve, holding up webhook answers meanwhile).
 */
export const BOUNDED: IncidentBounds = { alerts: 50, timeline: 200 };

/** `bounds` with the lists named in `all` loaded whole. */
export function boundsFor(bounds: IncidentBounds, all: readonly ('alerts' | 'timeline')[] = []): IncidentBounds {
  return { alerts: all.includes('alerts') ? null : bounds.alerts, timeline: all.includes('timeline') ? null : bounds.timeline };
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

// The events a step clock and the page's header read, kept in a bounded timeline however old they are (step-clock.ts).
const KEPT_KINDS = ['opened', 'acknowledged', 'reopened'] as const;

/**
 * The incident with everything the incident page shows of it (alerts, timeline, step checks, follow-ups) in one
 * statement: one round trip instead of three rounds of five, and one snapshot of it all. Every page view runs it, so it
 * is prepared: parsed and planned once per connection (the bounds are parameters, and `limit null` is no limit).
 * Bounded, an alert storm's 10,000 instances are 50 rows and counts, not a 13 MB page; the retro loads it whole.
 */
export async function getIncidentWork(db: Executor, id: number, bounds: IncidentBounds = WHOLE): Promise<IncidentWork | null> {
  // The incident as one json column, not i.*: a prepared statement whose result columns change (a migration adds one
  // while this replica runs) fails with "cached plan must not change result type" until the connection is replaced.
  const { rows } = await sql<{
    work_incident: JsonRow;
    work_alerts: JsonRow[];
    work_alert_counts: Record<string, number>;
    work_timeline: JsonRow[];
    work_timeline_total: number;
    work_checks: JsonRow[];
    work_follow_ups: JsonRow[];
  }>`
    ${PREPARED} select to_json(i) as work_incident,
      coalesce((select json_agg(a order by a.first_seen_at, a.id) from (
        select * from alert_instances a where a.incident_id = i.id order by a.status = 'resolved', a.first_seen_at, a.id limit ${bounds.alerts}::bigint
      ) a), '[]') as work_alerts,
      coalesce((select json_object_agg(s.status, s.n) from (
        select a.status, count(*) as n from alert_instances a where a.incident_id = i.id group by a.status
      ) s), '{}') as work_alert_counts,
      coalesce((select json_agg(e order by e.id) from incident_events e where e.incident_id = i.id and (
        e.kind in (${sql.join(KEPT_KINDS.map((k) => sql.lit(k)))})
        or e.id >= (select min(r.id) from (select r.id from incident_events r where r.incident_id = i.id order by r.id desc limit ${bounds.timeline}::bigint) r)
      )), '[]') as work_timeline,
      (select count(*) from incident_events e where e.incident_id = i.id)::int as work_timeline_total,
      coalesce((select json_agg(c order by c.id) from step_checks c where c.incident_id = i.id), '[]') as work_checks,
      coalesce((select json_agg(f order by f.id) from follow_ups f where f.incident_id = i.id), '[]') as work_follow_ups
    from incidents i where i.id = ${id}
  `.execute(db);
  const row = rows[0];
  if (!row) return null;
  const { work_incident, work_alerts, work_alert_counts, work_timeline, work_timeline_total, work_checks, work_follow_ups } = row;
  const timeline = withDates<IncidentEvent>(work_timeline, EVENT_DATES);
  return {
    incident: withDates<Incident>([work_incident], INCIDENT_DATES)[0]!,
    alerts: withDates<AlertInstance>(work_alerts, ALERT_DATES),
    alertCounts: alertCountsOf(work_alert_counts),
    timeline,
    timelineExtent: timelineExtentOf(timeline.length, Number(work_timeline_total), bounds.timeline),
    checks: withDates<Selectable<StepChecksTable>>(work_checks, CHECK_DATES),
    followUps: withDates<Selectable<FollowUpsTable>>(work_follow_ups, FOLLOW_UP_DATES),
  };
}

function alertCountsOf(byStatus: Record<string, number>): AlertCounts {
  const n = (status: string) => Number(byStatus[status] ?? 0);
  const total = Object.keys(byStatus).reduce((sum, status) => sum + n(status), 0);
  return { total, firing: total - n('resolved'), byStatus: byStatus as AlertCounts['byStatus'] };
}

/** A bounded timeline is its latest `bound` events after the older kept ones: the gap is just before those latest. */
function timelineExtentOf(loaded: number, total: number, bound: number | null): TimelineExtent {
  const hidden = Math.max(0, total - loaded);
  return { total, hidden, gapAt: hidden && bound !== null ? Math.max(0, loaded - bound) : null };
}

/** `GET /api/incidents/:id`: what was loaded, with how much of each list was left out (never silently). */
export function incidentJson(detail: IncidentDetail) {
  const { alertCounts, timelineExtent } = detail;
  return {
    ...summarize({ ...detail.incident, alert_count: alertCounts.total }),
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
    alertsByStatus: { firing: 0, acknowledged: 0, resolved: 0, ...alertCounts.byStatus },
    alertsOmitted: alertCounts.total - detail.alerts.length,
    timeline: detail.timeline.map((e) => ({ id: e.id, at: e.at.toISOString(), kind: e.kind, actor: e.actor, data: e.data })),
    timelineCount: timelineExtent.total,
    timelineOmitted: timelineExtent.hidden,
  };
}

export interface FiringAlerts {
  /** Every alert instance of the incident not resolved, counted. */
  total: number;
  /** The sources they fire at, each once, in the order they first fired. */
  sources: string[];
  /** The first `limit` of them, oldest first. */
  alerts: Pick<AlertInstance, 'source' | 'title' | 'status' | 'starts_at'>[];
}

/** What still fires of an incident, for the question before resolving it: at most `limit` listed, all counted. */
export async function firingAlerts(db: Executor, incidentId: number, limit: number): Promise<FiringAlerts> {
  // One statement, so the count and the list are of one moment.
  const { rows } = await sql<{ total: number; sources: string[]; alerts: JsonRow[] }>`
    select
      (select count(*) from alert_instances a where a.incident_id = ${incidentId} and a.status <> 'resolved')::int as total,
      coalesce((select json_agg(s.source order by s.first_id) from (
        select a.source, min(a.id) as first_id from alert_instances a where a.incident_id = ${incidentId} and a.status <> 'resolved' group by a.source
      ) s), '[]') as sources,
      coalesce((select json_agg(f order by f.id) from (
        select a.id, a.source, a.title, a.status, a.starts_at from alert_instances a where a.incident_id = ${incidentId} and a.status <> 'resolved' order by a.id limit ${limit}
      ) f), '[]') as alerts
  `.execute(db);
  const row = rows[0]!;
  return { total: Number(row.total), sources: row.sources, alerts: withDates<FiringAlerts['alerts'][number]>(row.alerts, ['starts_at']) };
}
