// JSON API for weekly reports: the stored ones (list, latest, by id) and a preview of any week built on the spot.
import { Router } from 'express';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Db } from '../db/create-db.js';
import type { Report } from '../db/schema.js';
import { buildWeeklyReport, type ReportOptions } from '../reports/build-report.js';
import { isoWeekOf, parseIsoWeek, formatIsoWeek } from '../reports/iso-week.js';
import { getReport, latestReport, listReports, reportContent } from '../reports/report-job.js';
import type { CatalogStore } from '../runbooks/catalog.js';
import { HttpError, notFound } from './http-error.js';

export interface ReportsDeps {
  db: Db;
  clock: Clock;
  catalog: CatalogStore;
  options: ReportOptions;
}

const idParam = z.object({ id: z.coerce.number().int().positive() });
export const weekQuery = z.object({
  week: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text === '') return undefined;
      try {
        return formatIsoWeek(parseIsoWeek(text));
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
});

export function storedReportJson(row: Report) {
  return { id: row.id, week: row.iso_week, periodStart: row.period_start.toISOString(), periodEnd: row.period_end.toISOString(), generatedAt: row.generated_at.toISOString(), report: reportContent(row), markdown: row.markdown };
}

export function reportsApi(deps: ReportsDeps): Router {
  const router = Router();
  router.get('/reports', async (_req, res) => {
    const rows = await listReports(deps.db);
    res.json({ reports: rows.map((r) => ({ id: r.id, week: r.iso_week, periodStart: r.period_start.toISOString(), periodEnd: r.period_end.toISOString(), generatedAt: r.generated_at.toISOString() })) });
  });
  router.get('/reports/latest', async (_req, res) => {
    const row = await latestReport(deps.db);
    if (!row) throw new HttpError(404, 'no report yet: the first is made at the next REPORT_CRON time (see /api/reports/preview for one now)');
    res.json(storedReportJson(row));
  });
  router.get('/reports/preview', async (req, res) => {
    const now = deps.clock.now();
    const week = weekQuery.parse(req.query).week ?? isoWeekOf(now, deps.options.timeZone);
    res.json(await buildWeeklyReport(deps.db, deps.catalog.current(), week, now, deps.options));
  });
  router.get('/reports/:id', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const row = await getReport(deps.db, id);
    if (!row) throw notFound(`report ${id}`);
    res.json(storedReportJson(row));
  });
  return router;
}
