import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWeeklyReportJob } from '../../src/reports/report-job.js';
import type { Service } from '../../src/service.js';
import { csrfToken } from '../http/helpers.js';
import { seedDrill, writeCatalog } from '../reports/report-fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService, fixedClock } from '../support/test-service.js';

const MIN = 60_000;
const clock = fixedClock('2026-11-24T09:00:00Z');
let database: TestDatabase;
let service: Service;
let agent: ReturnType<typeof request.agent>;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database, { RUNBOOKS_DIR: await writeCatalog() }, { clock });
  agent = request.agent(service.app);
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

const html = async (path: string) => (await agent.get(path).set('Accept', 'text/html').expect(200).expect('Content-Type', /html/)).text;
async function post(path: string, form: Record<string, string>, from: string, expected = 303) {
  const token = csrfToken(await html(from));
  const res = await agent.post(path).type('form').send({ ...form, _csrf: token });
  expect(res.status, res.text.slice(0, 500)).toBe(expected);
  return res;
}
/** The catalog row of a runbook on /runbooks. */
const catalogRow = (page: string, id: string) => page.split('<tr>').find((row) => row.includes(`<span class="run-id">${id}</span>`)) ?? '';

describe('drill pages', () => {
  let id: number;

  it('lists drills and schedules one from the form', async () => {
    await seedDrill(service.db.db, { runbookId: 'RUN-002', trigger: 'cadence', dueAt: '2026-09-29T00:00:00Z', reason: 'warning runbooks are drilled every 90d' });
    const list = await html('/drills');
    expect(list).toContain('<a href="/drills" aria-current="page">Drills</a>');
    expect(list).toContain('1 drill overdue');
    expect(list).toContain('warning runbooks are drilled every 90d');
    expect(list).toContain('<option value="RUN-003">RUN-003 Customer Reported Outage</option>');

    const res = await post('/drills', { runbookId: 'RUN-003', dueDate: '2026-11-27', reason: 'new on-call <engineer>' }, '/drills');
    id = Number(/^\/drills\/(\d+)$/.exec(res.headers.location!)![1]);
    const page = await html(`/drills/${id}`);
    expect(page).toContain('new on-call &lt;engineer&gt;');
    expect(page).toContain('Start the drill');
    expect(page).toContain(`action="/drills/${id}/steps/step-1"`);
    expect(page).toContain('2026-11-27 (end of the day, UTC)');
    expect(page).toMatch(/Runbook last tested<\/dt><dd>2026-08-01 <span class="flag flag-stale">Stale<\/span>/);
    expect(await html('/drills')).toContain(`<a href="/drills/${id}">#${id}</a>`);
  });

  it('runs it: start, tick steps (timed), record the outcome', async () => {
    expect((await post(`/drills/${id}/start`, {}, `/drills/${id}`)).headers.location).toBe(`/drills/${id}#runbook`);
    clock.advance(4 * MIN);
    expect((await post(`/drills/${id}/steps/step-1`, { checked: 'true' }, `/drills/${id}`)).headers.location).toBe(`/drills/${id}#check-step-1`);
    clock.advance(9 * MIN);
    await post(`/drills/${id}/steps/step-2`, { checked: 'true' }, `/drills/${id}`);
    let page = await html(`/drills/${id}`);
    expect(page).toContain('Version pinned when the drill started');
    expect(page).toContain('took 4m');
    expect(page).toContain('took 9m');
    expect(page).toContain('Step 2 Do Thing 2: took 9m, estimated 5m');

    const refused = await agent.post(`/drills/${id}/complete`).type('form').send({ outcome: 'passed', _csrf: 'x'.repeat(43) });
    expect(refused.status).toBe(403);

    clock.advance(MIN);
    await post(`/drills/${id}/complete`, { outcome: 'passed', gaps: '' }, `/drills/${id}`);
    page = await html(`/drills/${id}`);
    expect(page).toContain('Outcome: <span class="flag flag-ok">Passed</span>');
    expect(page).not.toContain(`action="/drills/${id}/steps/`);
    expect(page).toMatch(/Runbook last tested<\/dt><dd>2026-11-24 <span class="muted">· passed drill<\/span><\/dd>/);
    // The outcome sent again (a resubmitted form): refused, and the page says what is in the way.
    const again = await post(`/drills/${id}/complete`, { outcome: 'passed', gaps: '' }, '/drills', 409);
    expect(again.text).toContain('<h1>Cannot do that now</h1>');
    expect(again.text).toContain(`Drill ${id} is completed. Nothing was changed.`);
  });

  it('shows the passed drill on the catalog page: the stale runbook is fresh', async () => {
    const row = catalogRow(await html('/runbooks'), 'RUN-003');
    expect(row).toContain('2026-11-24');
    expect(row).toContain('passed drill');
    expect(row).not.toContain('Stale');
    expect(catalogRow(await html('/runbooks'), 'RUN-002')).toContain('Stale');
  });

  it('answers bad forms with the error page', async () => {
    const res = await post('/drills', { runbookId: 'RUN-404' }, '/drills', 400);
    expect(res.text).toContain('RUN-404 is not a runbook in the catalog');
    expect((await agent.get('/drills/424242').set('Accept', 'text/html')).status).toBe(404);
  });
});

describe('report pages', () => {
  it('previews any week with its chart, and shows stored reports', async () => {
    const preview = await html('/reports/preview?week=2026-W48');
    expect(preview).toContain('Weekly runbook report 2026-W48');
    expect(preview).toContain('Preview built just now, not stored or sent.');
    expect(preview).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(preview).toMatch(/<a href="\/runbooks\/RUN-002"><span class="run-id">RUN-002<\/span> Disk Full<\/a>/);
    expect(preview).not.toContain('href="/runbooks/RUN-003"><span class="run-id">');

    const empty = await html('/reports');
    expect(empty).toContain('No report yet');
    // The report a week makes covers the week before it, so the preview link says whose incidents it shows.
    expect(empty).toMatch(/<a href="\/reports\/preview\?week=(\d{4}-W\d\d)">Preview the \1 report<\/a> \(last week's incidents and the catalog as they stand now\)/);
    const r = await runWeeklyReportJob(service.db.db, service.catalog.current(), clock.now(), { timeZone: 'UTC', staleAfterDays: 90, contacts: [], publicUrl: 'https://rr.example.com' });
    const list = await html('/reports');
    expect(list).toContain(`<a href="/reports/${r.reportId}">2026-W48</a>`);
    const page = await html(`/reports/${r.reportId}`);
    expect(page).toContain('Incidents of last week (2026-W47, 2026-11-16 to 2026-11-22 (UTC))');
    expect(page).toContain(`href="/reports/${r.reportId}/report.md"`);
    const md = await agent.get(`/reports/${r.reportId}/report.md`).expect(200).expect('Content-Type', 'text/plain; charset=utf-8');
    expect(md.text).toContain('# Weekly runbook report 2026-W48');
  });
});
