// The weekly report job, run by the cron in every replica: exactly one report per ISO week is stored and delivered.
// The `reports.iso_week` unique row is the coordination: the insert that wins (`on conflict do nothing returning id`)
// enqueues the notifications in the same transaction; every other replica inserts nothing and sends nothing. No lock
// to leak, and a crash before the commit leaves no row, so the report loop (report-schedule.ts) tries again.
import type { Db, Executor } from '../db/create-db.js';
import type { Report } from '../db/schema.js';
import { enqueueNotification } from '../incidents/outbox.js';
import type { Catalog } from '../runbooks/catalog.js';
import { buildWeeklyReport, type ReportOptions } from './build-report.js';
import { isoWeekOf } from './iso-week.js';
import { renderReportMarkdown } from './render-report-markdown.js';
import type { WeeklyReport } from './report-types.js';

export interface ReportJobOptions extends ReportOptions {
  /** REPORT_CONTACTS: contact ids of the matrix. */
  contacts: readonly string[];
  publicUrl: string;
}

export interface ReportJobResult {
  week: string;
  /** The id of the report this run stored, null when the week already had one. */
  reportId: number | null;
  notifications: number;
  /** REPORT_CONTACTS entries that are not matrix contacts (nothing is sent to them). */
  unknownContacts: string[];
}

export async function runWeeklyReportJob(db: Db, catalog: Catalog, now: Date, options: ReportJobOptions): Promise<ReportJobResult> {
  const week = isoWeekOf(now, options.timeZone);
  const result: ReportJobResult = { week, reportId: null, notifications: 0, unknownContacts: [] };
  // Cheap early exit for every tick after the first: building the report reads a lot.
  if (await db.selectFrom('reports').select('id').where('iso_week', '=', week).executeTakeFirst()) return result;

  const report = await buildWeeklyReport(db, catalog, week, now, options);
  const markdown = renderReportMarkdown(report, { publicUrl: options.publicUrl });
  return db.transaction().execute(async (tx) => {
    const inserted = await tx
      .insertInto('reports')
      .values({ iso_week: week, period_start: report.period.start, period_end: report.period.end, generated_at: now, content: JSON.stringify(report), markdown })
      .onConflict((oc) => oc.column('iso_week').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) return result;
    result.reportId = inserted.id;
    const url = `${options.publicUrl}/reports/${inserted.id}`;
    for (const contactId of options.contacts) {
      const contact = catalog.matrix?.contacts[contactId];
      if (!contact) {
        result.unknownContacts.push(contactId);
        continue;
      }
      for (const [index, channel] of contact.notify.entries()) {
        await enqueueNotification(tx, {
          idempotencyKey: `report-${inserted.id}-${contact.id}-${index}`,
          reportId: inserted.id,
          kind: 'weekly_report',
          contactId: contact.id,
          channel,
          payload: channel.type === 'slack' ? { text: slackText(report, url) } : { type: 'weekly_report', reportId: inserted.id, week, url, summary: reportSummary(report), markdown },
          now,
        });
        result.notifications++;
      }
    }
    return result;
  });
}

export interface ReportSummary {
  incidents: number;
  mttaMs: number | null;
  mttrMs: number | null;
  untested: number;
  stale: number;
  drillsOverdue: number;
  drillsDueThisWeek: number;
  coverageGaps: number;
  lintErrors: number;
  openFollowUps: number;
  overruns: number;
}

export function reportSummary(r: WeeklyReport): ReportSummary {
  return {
    incidents: r.incidents.overall.incidents,
    mttaMs: r.incidents.overall.mttaMs,
    mttrMs: r.incidents.overall.mttrMs,
    untested: r.untested.length,
    stale: r.stale.length,
    drillsOverdue: r.drills.overdue.length,
    drillsDueThisWeek: r.drills.dueThisWeek.length,
    coverageGaps: r.coverage.monIdsWithoutRunbook.length + r.coverage.unreachedRunbooks.length + r.coverage.unknownAlerts.length,
    lintErrors: r.lint.errors.length,
    openFollowUps: r.followUps.length,
    overruns: r.overruns.length,
  };
}

function slackText(r: WeeklyReport, url: string): string {
  const s = reportSummary(r);
  return (
    `:bar_chart: Weekly runbook report ${r.week}: ${s.incidents} incidents last week, ` +
    `${s.untested} untested and ${s.stale} stale runbooks, ${s.drillsOverdue} drills overdue, ${s.drillsDueThisWeek} due this week, ` +
    `${s.coverageGaps} coverage gaps, ${s.lintErrors} lint errors, ${s.openFollowUps} open follow-ups. <${url}|Open the report>`
  );
}

export function reportContent(row: Pick<Report, 'content'>): WeeklyReport {
  return row.content as unknown as WeeklyReport;
}

export async function getReport(db: Executor, id: number): Promise<Report | null> {
  return (await db.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}

export async function latestReport(db: Executor): Promise<Report | null> {
  return (await db.selectFrom('reports').selectAll().orderBy('iso_week', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst()) ?? null;
}

export async function listReports(db: Executor, limit = 104): Promise<Pick<Report, 'id' | 'iso_week' | 'period_start' | 'period_end' | 'generated_at'>[]> {
  return db.selectFrom('reports').select(['id', 'iso_week', 'period_start', 'period_end', 'generated_at']).orderBy('iso_week', 'desc').orderBy('id', 'desc').limit(limit).execute();
}
