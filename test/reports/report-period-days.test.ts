// The days a report covers, as its readers' calendar shows them. The period's bounds are Monday 00:00 in REPORT_TZ,
// instants whose UTC dates are a day off on one side in every zone but UTC: "2026-11-15 to 2026-11-22" for a week that
// ran Monday 16 to Sunday 22 November in Tokyo, or "... to 2026-11-23" in New York.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { reportView } from '../../src/http/pages-reports.js';
import { buildWeeklyReport } from '../../src/reports/build-report.js';
import { renderReportMarkdown } from '../../src/reports/render-report-markdown.js';
import { runWeeklyReportJob } from '../../src/reports/report-job.js';
import { loadCatalog, type Catalog } from '../../src/runbooks/catalog.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService, fixedClock } from '../support/test-service.js';
import { writeCatalog } from './report-fixtures.js';

// The report of 2026-W48 counts 2026-W47: Monday 16 to Sunday 22 November.
const NOW = new Date('2026-11-23T12:00:00Z');

let database: TestDatabase;
let handle: DbHandle;
let catalog: Catalog;

beforeAll(async () => {
  database = await createTestDatabase();
  handle = await createDb({ databaseUrl: database.url, dataDir: database.dataDir });
  await migrateToLatest(handle.db);
  catalog = await loadCatalog(await writeCatalog());
});
afterAll(async () => {
  await handle?.close();
  await database?.drop();
});

describe('the period of a report in REPORT_TZ', () => {
  for (const timeZone of ['UTC', 'America/New_York', 'Asia/Tokyo']) {
    it(`${timeZone}: Monday 16 to Sunday 22 November, on the page and in the markdown`, async () => {
      const report = await buildWeeklyReport(handle.db, catalog, '2026-W48', NOW, { timeZone, staleAfterDays: 90 });
      expect(report.period.week).toBe('2026-W47');
      expect(reportView(report).periodText).toBe(`2026-11-16 to 2026-11-22 (${timeZone})`);
      expect(renderReportMarkdown(report)).toContain(`Incidents of last week (2026-W47, 2026-11-16 to 2026-11-22, ${timeZone})`);
    });
  }
});

describe('the list of stored reports in REPORT_TZ', () => {
  it('shows the days of each report on the calendar of REPORT_TZ', async () => {
    const db = await createTestDatabase();
    const service = await createTestService(db, { RUNBOOKS_DIR: await writeCatalog(), REPORT_TZ: 'Asia/Tokyo' }, { clock: fixedClock(NOW.toISOString()) });
    try {
      const r = await runWeeklyReportJob(service.db.db, service.catalog.current(), NOW, { timeZone: 'Asia/Tokyo', staleAfterDays: 90, contacts: [], publicUrl: 'https://rr.example.com' });
      const list = (await request(service.app).get('/reports').set('Accept', 'text/html').expect(200)).text;
      expect(list).toMatch(new RegExp(`<a href="/reports/${r.reportId}">2026-W48</a></td>\\s*<td data-label="Incidents of">2026-11-16 to 2026-11-22</td>`));
    } finally {
      await service.stop();
      await db.drop();
    }
  });
});
