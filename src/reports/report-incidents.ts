// The incident half of the weekly report: last week's incidents with MTTA and MTTR per severity and per runbook,
// escalations, flapping and failed notifications. MTTA counts from open to the first acknowledgement, MTTR from open
// to the first resolution (a reopened incident is not measured again), over the incidents opened in the period.
import { sql } from 'kysely';
import type { Executor } from '../db/create-db.js';
import type { Incident } from '../db/schema.js';
import type { IncidentWorkRecord } from '../incidents/step-clock.js';
import type { ReportEscalation, ReportFailedNotification, ReportFlapping, ReportIncident, ResponseStats } from './report-types.js';

export interface Period {
  start: Date;
  end: Date;
}

export interface MeasuredIncident {
  row: Incident;
  /** First acknowledgement and first resolution known by `asOf`. */
  firstAckAt: Date | null;
  firstResolveAt: Date | null;
  maxLevel: number;
  /** Opened, acknowledged and reopened times known by `asOf`: where the step clock may start (report-overruns). */
  work: IncidentWorkRecord;
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

const earliest = (...dates: (Date | null | undefined)[]): Date | null =>
  dates.reduce<Date | null>((min, d) => (d && (!min || d < min) ? d : min), null);

/** Incidents opened in the period, with their first ack / resolve times from the timeline (and the columns, for rows without one). */
export async function measureIncidents(db: Executor, period: Period, asOf: Date): Promise<MeasuredIncident[]> {
  const rows = await db.selectFrom('incidents').selectAll().where('opened_at', '>=', period.start).where('opened_at', '<', period.end).where('opened_at', '<=', asOf).orderBy('opened_at').orderBy('id').execute();
  if (!rows.length) return [];
  const events = await db
    .selectFrom('incident_events')
    .select(['incident_id', 'kind', 'at', 'data'])
    .where('incident_id', 'in', rows.map((r) => r.id))
    .where('kind', 'in', ['acknowledged', 'resolved', 'escalated', 'escalation_repeated', 'reopened'])
    .where('at', '<=', asOf)
    .execute();
  const byIncident = groupBy(events, (e) => e.incident_id);
  const known = (d: Date | null) => (d && d <= asOf ? d : null);
  return rows.map((row) => {
    const own = byIncident.get(row.id) ?? [];
    const first = (kind: string) => earliest(...own.filter((e) => e.kind === kind).map((e) => e.at));
    const levels = own.filter((e) => e.kind === 'escalated' || e.kind === 'escalation_repeated').map((e) => Number(e.data.level) || 0);
    return {
      row,
      firstAckAt: earliest(first('acknowledged'), known(row.acknowledged_at)),
      firstResolveAt: earliest(first('resolved'), known(row.resolved_at)),
      maxLevel: Math.max(row.escalation_level, 0, ...levels),
      work: { opened_at: row.opened_at, acknowledged_at: known(row.acknowledged_at), timeline: own },
    };
  });
}

const since = (from: Date, to: Date | null) => (to ? to.getTime() - from.getTime() : null);
const mean = (values: number[]) => (values.length ? Math.round(values.reduce((a, b) => a + b, 0) / values.length) : null);

export function responseStats(incidents: MeasuredIncident[]): ResponseStats {
  const tta = incidents.map((i) => since(i.row.opened_at, i.firstAckAt)).filter((v): v is number => v !== null);
  const ttr = incidents.map((i) => since(i.row.opened_at, i.firstResolveAt)).filter((v): v is number => v !== null);
  return { incidents: incidents.length, acknowledged: tta.length, resolved: ttr.length, mttaMs: mean(tta), mttrMs: mean(ttr) };
}

export function incidentRow(i: MeasuredIncident): ReportIncident {
  const r = i.row;
  return {
    id: r.id,
    monId: r.mon_id,
    runbookId: r.runbook_id,
    severity: r.severity,
    title: r.title,
    status: r.status,
    openedAt: r.opened_at.toISOString(),
    ttaMs: since(r.opened_at, i.firstAckAt),
    ttrMs: since(r.opened_at, i.firstResolveAt),
    maxEscalationLevel: i.maxLevel,
    flapping: r.flapping,
  };
}

/** Groups by a key, keys in the order `order` gives (unknown keys after, by name). */
export function statsBy<K extends string | null>(incidents: MeasuredIncident[], key: (i: MeasuredIncident) => K, order: (a: K, b: K) => number): { key: K; stats: ResponseStats }[] {
  const groups = groupBy(incidents, key);
  return [...groups.keys()].sort(order).map((k) => ({ key: k, stats: responseStats(groups.get(k)!) }));
}

/** Escalations past level 1 and repeats of the last level that fired in the period, per incident. */
export async function escalationsIn(db: Executor, period: Period): Promise<ReportEscalation[]> {
  const rows = await db
    .selectFrom('incident_events as e')
    .innerJoin('incidents as i', 'i.id', 'e.incident_id')
    .select(['i.id', 'i.mon_id', 'i.runbook_id', 'i.severity', 'i.title', 'e.kind', 'e.data'])
    .where('e.kind', 'in', ['escalated', 'escalation_repeated'])
    .where('e.at', '>=', period.start)
    .where('e.at', '<', period.end)
    .orderBy('i.id')
    .orderBy('e.id')
    .execute();
  const result = new Map<number, ReportEscalation>();
  for (const r of rows) {
    const level = Number(r.data.level) || 0;
    if (r.kind === 'escalated' && level < 2) continue;
    const entry = result.get(r.id) ?? { incidentId: r.id, monId: r.mon_id, runbookId: r.runbook_id, severity: r.severity, title: r.title, escalations: 0, maxLevel: 0 };
    entry.escalations++;
    entry.maxLevel = Math.max(entry.maxLevel, level);
    result.set(r.id, entry);
  }
  return [...result.values()];
}

/** Incidents marked flapping in the period, and those opened in it that are flapping. */
export async function flappingIn(db: Executor, period: Period): Promise<ReportFlapping[]> {
  const rows = await db
    .selectFrom('incidents as i')
    .select(['i.id', 'i.mon_id', 'i.runbook_id', 'i.title', 'i.reopen_count'])
    .where((eb) =>
      eb.or([
        eb.exists(eb.selectFrom('incident_events as e').select('e.id').whereRef('e.incident_id', '=', 'i.id').where('e.kind', '=', 'flapping').where('e.at', '>=', period.start).where('e.at', '<', period.end)),
        eb.and([eb('i.flapping', '=', true), eb('i.opened_at', '>=', period.start), eb('i.opened_at', '<', period.end)]),
      ]),
    )
    .orderBy('i.id')
    .execute();
  return rows.map((r) => ({ incidentId: r.id, monId: r.mon_id, runbookId: r.runbook_id, title: r.title, reopenCount: r.reopen_count }));
}

/** Outbox rows created in the period that gave up, and pages that could not even be queued (contact without a channel). */
export async function failedNotificationsIn(db: Executor, period: Period): Promise<ReportFailedNotification[]> {
  const [failed, unsent] = await Promise.all([
    db.selectFrom('notifications').selectAll().where('status', '=', 'failed').where('created_at', '>=', period.start).where('created_at', '<', period.end).orderBy('created_at').orderBy('id').execute(),
    db
      .selectFrom('incident_events')
      .select(['incident_id', 'at', 'data'])
      .where('kind', '=', 'notification_failed')
      .where(sql<boolean>`data->>'notificationId' is null`)
      .where('at', '>=', period.start)
      .where('at', '<', period.end)
      .orderBy('at')
      .orderBy('id')
      .execute(),
  ]);
  const result: ReportFailedNotification[] = failed.map((n) => ({
    notificationId: n.id,
    incidentId: n.incident_id,
    reportId: n.report_id,
    kind: n.kind,
    contactId: n.contact_id,
    attempts: n.attempts,
    error: n.last_error ?? 'failed',
    at: n.created_at.toISOString(),
  }));
  for (const e of unsent) {
    result.push({ notificationId: null, incidentId: e.incident_id, reportId: null, kind: 'escalation', contactId: String(e.data.contact ?? ''), attempts: 0, error: String(e.data.error ?? 'not sent'), at: e.at.toISOString() });
  }
  return result.sort((a, b) => a.at.localeCompare(b.at));
}
