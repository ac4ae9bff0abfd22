// The report pages: GET /reports (every stored weekly report), GET /reports/:id (one, with its chart),
// GET /reports/:id/report.md (the markdown that was delivered) and GET /reports/preview?week= (any week, built now,
// not stored).
import { Router } from 'express';
import { z } from 'zod';
import { buildWeeklyReport } from '../reports/build-report.js';
import { isoWeekOf, localDate } from '../reports/iso-week.js';
import { renderReportChartSvg } from '../reports/render-report-chart.js';
import { periodDays } from '../reports/render-report-markdown.js';
import { getReport, listReports, reportContent, reportSummary } from '../reports/report-job.js';
import type { ResponseStats, WeeklyReport } from '../reports/report-types.js';
import { weekQuery } from './api-reports.js';
import { notFound } from './http-error.js';
import type { ResponderPagesDeps } from './pages-router.js';
import { span, utcMinute } from './render-format.js';
import { trustedHtml } from './render.js';

export type ReportPagesDeps = Pick<ResponderPagesDeps, 'db' | 'clock' | 'config' | 'catalog' | 'renderer'>;

const idParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
const ms = (v: number | null) => (v === null ? '—' : span(v));
/** The day of an instant on the report's calendar (REPORT_TZ), the one its weeks are cut on. */
const day = (iso: string, timeZone: string) => localDate(new Date(iso), timeZone);
const minute = (iso: string) => utcMinute(new Date(iso));

function statsRow(label: string, s: ResponseStats) {
  return { label, incidents: s.incidents, acknowledged: s.acknowledged, resolved: s.resolved, mtta: ms(s.mttaMs), mttr: ms(s.mttrMs) };
}

export function reportView(r: WeeklyReport) {
  const inc = r.incidents;
  return {
    week: r.week,
    periodWeek: r.period.week,
    periodText: `${periodDays(r.period.start, r.period.end, r.timeZone)} (${r.timeZone})`,
    generatedText: minute(r.generatedAt),
    asOfText: minute(r.asOf),
    staleAfterDays: r.staleAfterDays,
    runbookCount: r.runbookCount,
    summary: reportSummary(r),
    summaryMtta: ms(inc.overall.mttaMs),
    summaryMttr: ms(inc.overall.mttrMs),
    untested: r.untested,
    stale: r.stale.map((s) => ({ ...s, byDrill: s.lastTestedBy === 'drill' })),
    drills: {
      overdue: r.drills.overdue.map((d) => ({ ...d, dueText: day(d.dueAt, r.timeZone) })),
      dueThisWeek: r.drills.dueThisWeek.map((d) => ({ ...d, dueText: day(d.dueAt, r.timeZone) })),
      completedLastWeek: r.drills.completedLastWeek.map((d) => ({ ...d, completedText: minute(d.completedAt), passed: d.outcome === 'passed' })),
    },
    coverage: r.coverage,
    coverageCount: r.coverage.monIdsWithoutRunbook.length + r.coverage.unreachedRunbooks.length + r.coverage.unknownAlerts.length,
    lint: r.lint,
    stats: [statsRow('All', inc.overall), ...inc.bySeverity.map((s) => statsRow(s.severity, s)), ...inc.byRunbook.map((s) => statsRow(s.runbookId ?? 'no runbook', s))],
    incidents: inc.list.map((i) => ({ ...i, openedText: minute(i.openedAt), tta: ms(i.ttaMs), ttr: ms(i.ttrMs) })),
    escalations: inc.escalations,
    flapping: inc.flapping,
    failedNotifications: inc.failedNotifications.map((n) => ({ ...n, atText: minute(n.at) })),
    followUps: r.followUps,
    overruns: r.overruns.map((o) => ({ ...o, href: `/${o.subject === 'incident' ? 'incidents' : 'drills'}/${o.subjectId}`, expected: span(o.expectedMs), max: o.maxMs === null ? null : span(o.maxMs), took: span(o.actualMs) })),
    chart: trustedHtml(renderReportChartSvg(r.chart)),
    chartDays: r.chart.map((d) => ({ ...d, mtta: ms(d.mttaMs) })),
  };
}

export function reportPages(deps: ReportPagesDeps): Router {
  const router = Router();
  const { db, clock, renderer } = deps;
  const options = { timeZone: deps.config.report.timeZone, staleAfterDays: deps.config.staleAfterDays };

  router.get('/reports', async (_req, res) => {
    const now = clock.now();
    const rows = await listReports(db);
    renderer.page(
      res,
      'reports',
      {
        reports: rows.map((r) => ({ id: r.id, href: `/reports/${r.id}`, week: r.iso_week, periodText: periodDays(r.period_start, r.period_end, options.timeZone), generatedText: utcMinute(r.generated_at) })),
        currentWeek: isoWeekOf(now, options.timeZone),
        cron: deps.config.report.cron,
        timeZone: options.timeZone,
        contacts: deps.config.report.contacts,
      },
      { title: 'Weekly reports', section: 'reports', now },
    );
  });

  router.get('/reports/preview', async (req, res) => {
    const now = clock.now();
    const week = weekQuery.parse(req.query).week ?? isoWeekOf(now, options.timeZone);
    const report = await buildWeeklyReport(db, deps.catalog.current(), week, now, options);
    renderer.page(res, 'report', { ...reportView(report), preview: true }, { title: `Report ${week} (preview)`, section: 'reports', now });
  });

  router.get('/reports/:id', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const row = await getReport(db, id);
    if (!row) throw notFound(`report ${id}`);
    renderer.page(res, 'report', { ...reportView(reportContent(row)), id, markdownHref: `/reports/${id}/report.md` }, { title: `Report ${row.iso_week}`, section: 'reports', now: clock.now() });
  });

  router.get('/reports/:id/report.md', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const row = await getReport(db, id);
    if (!row) throw notFound(`report ${id}`);
    res.type('text/plain; charset=utf-8').setHeader('Content-Disposition', `inline; filename="runbook-report-${row.iso_week}.md"`);
    res.send(row.markdown);
  });

  return router;
}
