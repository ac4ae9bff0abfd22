// The weekly report, one function of (database, catalog, week, now) shared by the cron job, the pages and the CLI.
//
// The report of ISO week W is the one sent during W (the cron's Monday morning): it counts the incidents of "last
// week" (W-1) and judges the catalog (untested, stale, drills overdue and due this week, open follow-ups) as of `now`,
// clamped into W, so printing an old week judges it at that week's end and never uses what happened after.
import path from 'node:path';
import type { Executor } from '../db/create-db.js';
import { calendarDaysBetween } from '../drills/due-date.js';
import { catalogFreshness } from '../drills/freshness.js';
import type { Catalog } from '../runbooks/catalog.js';
import { lintCatalog } from '../runbooks/lint.js';
import { isoWeekBounds, localDate, shiftIsoWeek, weekDayStart } from './iso-week.js';
import {
  escalationsIn, failedNotificationsIn, flappingIn, incidentRow, measureIncidents, responseStats, statsBy, type MeasuredIncident, type Period,
} from './report-incidents.js';
import { overrunsOf, type TimedSubject } from './report-overruns.js';
import type { ReportChartDay, ReportCoverage, ReportDoneDrill, ReportDrill, ReportFollowUp, ReportStaleRunbook, WeeklyReport } from './report-types.js';

export interface ReportOptions {
  /** REPORT_TZ: weeks start on Monday 00:00 there. */
  timeZone: string;
  /** STALE_AFTER_DAYS. */
  staleAfterDays: number;
}

const DAY_MS = 86_400_000;

export async function buildWeeklyReport(db: Executor, catalog: Catalog, week: string, now: Date, options: ReportOptions): Promise<WeeklyReport> {
  const { timeZone, staleAfterDays } = options;
  const thisWeek = isoWeekBounds(week, timeZone);
  const lastWeek = shiftIsoWeek(week, -1);
  const period = isoWeekBounds(lastWeek, timeZone);
  const asOf = new Date(Math.min(Math.max(now.getTime(), thisWeek.start.getTime()), thisWeek.end.getTime()));

  const [freshness, drills, measured, escalations, flapping, failedNotifications, followUps, coverage, drillSubjects] = await Promise.all([
    catalogFreshness(db, catalog, asOf, staleAfterDays),
    drillSection(db, asOf, thisWeek.end, period, timeZone),
    measureIncidents(db, period, asOf),
    escalationsIn(db, period),
    flappingIn(db, period),
    failedNotificationsIn(db, period),
    openFollowUps(db, asOf),
    coverageGaps(db, catalog, period),
    drillsTimedIn(db, period, asOf),
  ]);

  const untested: WeeklyReport['untested'] = [];
  const stale: ReportStaleRunbook[] = [];
  for (const runbook of catalog.runbooks.values()) {
    const f = freshness.get(runbook.id)!;
    const ref = { runbookId: runbook.id, title: runbook.title, owner: runbook.owner };
    if (f.date === null) untested.push(ref);
    else if (f.stale) {
      const byDrill = f.source === 'drill';
      stale.push({ ...ref, lastTested: byDrill ? localDate(f.date, timeZone) : runbook.lastTested!, lastTestedBy: f.source, ageDays: f.ageDays! });
    }
  }
  stale.sort((a, b) => b.ageDays - a.ageDays || a.runbookId.localeCompare(b.runbookId));

  const findings = lintCatalog(catalog, { now: asOf, staleAfterDays });
  const rel = (file: string) => (path.isAbsolute(file) || file.startsWith(catalog.dir) ? path.relative(catalog.dir, file) || file : file);

  const severityRank = Object.keys(catalog.matrix?.severities ?? {});
  const rankOf = (s: string) => (severityRank.includes(s) ? severityRank.indexOf(s) : severityRank.length);
  const incidentSubjects: TimedSubject[] = measured
    .filter((i) => i.row.runbook_id && i.row.runbook_hash)
    .map((i) => ({ subject: 'incident', id: i.row.id, runbookId: i.row.runbook_id!, runbookHash: i.row.runbook_hash!, startedAt: i.row.opened_at, work: i.work }));

  return {
    week,
    timeZone,
    generatedAt: now.toISOString(),
    asOf: asOf.toISOString(),
    staleAfterDays,
    period: { week: lastWeek, start: period.start.toISOString(), end: period.end.toISOString() },
    thisWeek: { start: thisWeek.start.toISOString(), end: thisWeek.end.toISOString() },
    runbookCount: catalog.runbooks.size,
    untested,
    stale,
    drills,
    coverage,
    lint: {
      errors: findings.filter((f) => f.severity === 'error').map((f) => ({ file: rel(f.file), line: f.line, rule: f.rule, message: f.message })),
      warnings: findings.filter((f) => f.severity === 'warning').length,
    },
    incidents: {
      list: measured.map(incidentRow),
      overall: responseStats(measured),
      bySeverity: statsBy(measured, (i) => i.row.severity, (a, b) => rankOf(a) - rankOf(b) || a.localeCompare(b)).map((g) => ({ severity: g.key, ...g.stats })),
      byRunbook: statsBy(measured, (i) => i.row.runbook_id, byIdNullLast).map((g) => ({ runbookId: g.key, ...g.stats })),
      escalations,
      flapping,
      failedNotifications,
    },
    followUps,
    overruns: await overrunsOf(db, [...incidentSubjects, ...drillSubjects], asOf),
    chart: chartDays(measured, lastWeek, timeZone),
  };
}

function byIdNullLast(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a.localeCompare(b);
}

/** Drills open at `asOf` (overdue, or due before the week ends) and those completed last week. */
async function drillSection(db: Executor, asOf: Date, weekEnd: Date, period: Period, timeZone: string): Promise<WeeklyReport['drills']> {
  const [open, completed] = await Promise.all([
    db
      .selectFrom('drills')
      .selectAll()
      .where('created_at', '<=', asOf)
      .where('due_at', '<', weekEnd)
      .where((eb) => eb.or([eb('status', 'in', ['scheduled', 'running']), eb('completed_at', '>', asOf)]))
      .orderBy('due_at')
      .orderBy('id')
      .execute(),
    db.selectFrom('drills').selectAll().where('status', '=', 'completed').where('completed_at', '>=', period.start).where('completed_at', '<', period.end).orderBy('completed_at').orderBy('id').execute(),
  ]);
  const item = (d: (typeof open)[number]): ReportDrill => ({
    id: d.id,
    runbookId: d.runbook_id,
    trigger: d.trigger,
    // As it stood at asOf: a drill completed later was still open then.
    status: d.status === 'scheduled' || d.status === 'running' ? d.status : d.started_at && d.started_at <= asOf ? 'running' : 'scheduled',
    reason: d.reason,
    dueAt: d.due_at.toISOString(),
    incidentId: d.incident_id,
    // Days on REPORT_TZ's calendar, as the due day is printed: due Monday (until its end) is 1 day overdue on Tuesday.
    daysOverdue: Math.max(0, calendarDaysBetween(d.due_at, asOf, timeZone)),
  });
  const done: ReportDoneDrill[] = completed.map((d) => ({ id: d.id, runbookId: d.runbook_id, completedAt: d.completed_at!.toISOString(), outcome: d.outcome, gaps: d.gaps }));
  return {
    overdue: open.filter((d) => d.due_at < asOf).map(item),
    dueThisWeek: open.filter((d) => d.due_at >= asOf).map(item),
    completedLastWeek: done,
  };
}

/** Drills started in the period, for step overruns. */
async function drillsTimedIn(db: Executor, period: Period, asOf: Date): Promise<TimedSubject[]> {
  const rows = await db
    .selectFrom('drills')
    .select(['id', 'runbook_id', 'runbook_hash', 'started_at'])
    .where('started_at', '>=', period.start)
    .where('started_at', '<', period.end)
    .where('started_at', '<=', asOf)
    .where('runbook_hash', 'is not', null)
    .orderBy('started_at')
    .orderBy('id')
    .execute();
  return rows.map((d) => ({ subject: 'drill', id: d.id, runbookId: d.runbook_id, runbookHash: d.runbook_hash!, startedAt: d.started_at }));
}

/** Post-incident follow-ups not done at `asOf`, oldest first. */
async function openFollowUps(db: Executor, asOf: Date): Promise<ReportFollowUp[]> {
  const rows = await db
    .selectFrom('follow_ups as f')
    .innerJoin('incidents as i', 'i.id', 'f.incident_id')
    .select(['f.id', 'f.incident_id', 'f.text', 'f.created_at', 'i.runbook_id'])
    .where('f.created_at', '<=', asOf)
    .where((eb) => eb.or([eb('f.done', '=', false), eb('f.done_at', '>', asOf)]))
    .orderBy('f.created_at')
    .orderBy('f.id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    incidentId: r.incident_id,
    runbookId: r.runbook_id,
    text: r.text,
    createdAt: r.created_at.toISOString(),
    ageDays: Math.floor((asOf.getTime() - r.created_at.getTime()) / DAY_MS),
  }));
}

async function coverageGaps(db: Executor, catalog: Catalog, period: Period): Promise<ReportCoverage> {
  const matrix = catalog.matrix;
  const alerts = Object.values(matrix?.alerts ?? {});
  const monIdsWithoutRunbook = alerts
    .filter((a) => !a.runbookId || !catalog.runbooks.has(a.runbookId))
    .map((a) => ({ monId: a.monId, title: a.title, runbookId: a.runbookId }))
    .sort((a, b) => a.monId.localeCompare(b.monId));
  const reached = new Set(alerts.map((a) => a.runbookId));
  const unreachedRunbooks = matrix
    ? [...catalog.runbooks.values()].filter((r) => r.category === 'Incident' && !reached.has(r.id)).map((r) => ({ runbookId: r.id, title: r.title, owner: r.owner }))
    : [];

  const known = alerts.map((a) => a.monId);
  const rows = await db
    .selectFrom('alert_instances as a')
    .innerJoin('incidents as i', 'i.id', 'a.incident_id')
    .select((eb) => [
      'i.mon_id',
      eb.fn.count<number>('i.id').distinct().as('incidents'),
      eb.fn.count<number>('a.id').as('alerts'),
      eb.fn.max('a.last_seen_at').as('last_seen_at'),
      eb.fn.min('a.title').as('example'),
      eb.fn.agg<string>('string_agg', [eb.ref('a.source'), eb.val(',')]).distinct().as('sources'),
    ])
    .where('a.first_seen_at', '<', period.end)
    .where('a.last_seen_at', '>=', period.start)
    .where((eb) => (known.length ? eb.or([eb('i.mon_id', 'is', null), eb('i.mon_id', 'not in', known)]) : eb.lit(true)))
    .groupBy('i.mon_id')
    .execute();
  const unknownAlerts = rows
    .map((r) => ({
      monId: r.mon_id,
      incidents: Number(r.incidents),
      alerts: Number(r.alerts),
      sources: [...new Set(String(r.sources ?? '').split(',').filter(Boolean))].sort(),
      lastSeenAt: new Date(r.last_seen_at as Date | string).toISOString(),
      example: String(r.example ?? ''),
    }))
    .sort((a, b) => b.alerts - a.alerts || byIdNullLast(a.monId, b.monId));
  return { monIdsWithoutRunbook, unreachedRunbooks, unknownAlerts };
}

/** Incidents opened and their MTTA, per day of last week. */
function chartDays(measured: MeasuredIncident[], lastWeek: string, timeZone: string): ReportChartDay[] {
  const days: ReportChartDay[] = [];
  for (let d = 0; d < 7; d++) {
    const start = weekDayStart(lastWeek, d, timeZone);
    const end = weekDayStart(lastWeek, d + 1, timeZone);
    const opened = measured.filter((i) => i.row.opened_at >= start && i.row.opened_at < end);
    days.push({ date: localDate(start, timeZone), incidents: opened.length, mttaMs: responseStats(opened).mttaMs });
  }
  return days;
}
