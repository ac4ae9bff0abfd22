// A drill scheduled for a plain day (`2026-11-30`) is due any time that day on the calendar of REPORT_TZ: it lands in
// the week holding that day there, is overdue only from the next day on, and is printed as that day on every page and
// in the report, in zones west of UTC (New York), east of it (Auckland) and in UTC itself. A timestamp with an offset
// keeps meaning that instant.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReportMarkdown } from '../../src/reports/render-report-markdown.js';
import { runWeeklyReportJob } from '../../src/reports/report-job.js';
import type { WeeklyReport } from '../../src/reports/report-types.js';
import type { Service } from '../../src/service.js';
import { csrfToken } from '../http/helpers.js';
import { writeCatalog } from '../reports/report-fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService, fixedClock } from '../support/test-service.js';

interface Zone {
  timeZone: string;
  /** The last instant of Monday 2026-11-30 there. */
  mondayEnd: string;
  /** The local day of 2026-11-30T15:00:00Z there. */
  instantDay: string;
  /** Local times as instants: Wednesday 2026-11-25 10:00, Monday 2026-11-30 09:00 and 23:30, Tuesday 2026-12-01 00:30. */
  wednesday: string;
  mondayMorning: string;
  mondayNight: string;
  tuesdayNight: string;
}

const ZONES: Zone[] = [
  {
    timeZone: 'America/New_York',
    mondayEnd: '2026-12-01T04:59:59.999Z',
    instantDay: '2026-11-30',
    wednesday: '2026-11-25T15:00:00Z',
    mondayMorning: '2026-11-30T14:00:00Z',
    mondayNight: '2026-12-01T04:30:00Z',
    tuesdayNight: '2026-12-01T05:30:00Z',
  },
  {
    timeZone: 'Pacific/Auckland',
    mondayEnd: '2026-11-30T10:59:59.999Z',
    instantDay: '2026-12-01',
    wednesday: '2026-11-24T21:00:00Z',
    mondayMorning: '2026-11-29T20:00:00Z',
    mondayNight: '2026-11-30T10:30:00Z',
    tuesdayNight: '2026-11-30T11:30:00Z',
  },
  {
    timeZone: 'UTC',
    mondayEnd: '2026-11-30T23:59:59.999Z',
    instantDay: '2026-11-30',
    wednesday: '2026-11-25T10:00:00Z',
    mondayMorning: '2026-11-30T09:00:00Z',
    mondayNight: '2026-11-30T23:30:00Z',
    tuesdayNight: '2026-12-01T00:30:00Z',
  },
];

const ids = (list: { id: number }[]) => list.map((d) => d.id);
/** The text of a markdown section, up to the next heading. */
const mdSection = (md: string, title: string) => md.split(`## ${title}\n`)[1]?.split('\n## ')[0] ?? '';
/** The cells of drill #id's row in a markdown table. */
const mdCells = (md: string, id: number) => (md.split('\n').find((l) => l.startsWith(`| [#${id}](`)) ?? '').split(' | ');
/** The Due cell of drill #id in a report page's drill tables. */
const pageDue = (page: string, id: number) => new RegExp(`/drills/${id}">#${id}</a>[\\s\\S]*?<td data-label="Due">([^<]*)</td>`).exec(page)?.[1];

for (const zone of ZONES) {
  describe(`a drill due on a plain day in ${zone.timeZone}`, () => {
    const clock = fixedClock(zone.wednesday);
    let database: TestDatabase;
    let service: Service;
    let agent: ReturnType<typeof request.agent>;
    const drill = { api: 0, form: 0, sunday: 0, instant: 0 };

    beforeAll(async () => {
      database = await createTestDatabase();
      service = await createTestService(database, { RUNBOOKS_DIR: await writeCatalog(), REPORT_TZ: zone.timeZone }, { clock });
      agent = request.agent(service.app);
    });
    afterAll(async () => {
      await service?.stop();
      await database?.drop();
    });

    const html = async (path: string) => (await agent.get(path).set('Accept', 'text/html').expect(200)).text;
    const drills = async () => (await agent.get('/api/drills').expect(200)).body;
    const preview = async (): Promise<WeeklyReport> => (await agent.get('/api/reports/preview?week=2026-W49').expect(200)).body;

    it('is due at the end of that day there, from the API and from the form', async () => {
      const api = await agent.post('/api/drills').send({ runbookId: 'RUN-003', dueAt: '2026-11-30' }).expect(201);
      drill.api = api.body.id;
      const token = csrfToken(await html('/drills'));
      const form = await agent.post('/drills').type('form').send({ runbookId: 'RUN-001', dueDate: '2026-11-30', _csrf: token }).expect(303);
      drill.form = Number(/^\/drills\/(\d+)$/.exec(form.headers.location!)![1]);
      drill.sunday = (await agent.post('/api/drills').send({ runbookId: 'RUN-002', dueAt: '2026-11-29' }).expect(201)).body.id;

      expect(api.body).toMatchObject({ dueAt: zone.mondayEnd, overdue: false });
      expect((await agent.get(`/api/drills/${drill.form}`).expect(200)).body.dueAt).toBe(zone.mondayEnd);
    });

    it('keeps a timestamp with an offset as that instant', async () => {
      const res = await agent.post('/api/drills').send({ runbookId: 'RUN-004', dueAt: '2026-11-30T10:00:00-05:00' }).expect(201);
      drill.instant = res.body.id;
      expect(res.body.dueAt).toBe('2026-11-30T15:00:00.000Z');
      const utc = await agent.post('/api/drills').send({ runbookId: 'RUN-004', dueAt: '2026-11-30T15:00:00Z' }).expect(201);
      expect(utc.body.dueAt).toBe('2026-11-30T15:00:00.000Z');
      await agent.post(`/api/drills/${utc.body.id}/cancel`).send({}).expect(200);
    });

    it('lands in the week that holds the day there', async () => {
      const lists = await drills();
      expect(ids(lists.overdue)).toEqual([]);
      expect(ids(lists.dueThisWeek)).toEqual([drill.sunday]);
      expect(ids(lists.later).sort()).toEqual([drill.api, drill.form, drill.instant].sort());
    });

    it('is printed as that day on the drills page and the drill page', async () => {
      const list = await html('/drills');
      expect(list.split(`<time datetime="${zone.mondayEnd}">2026-11-30</time>`).length - 1).toBe(2);
      expect(list).toContain('>2026-11-29</time>');
      expect(list).toContain(`<time datetime="2026-11-30T15:00:00.000Z">${zone.instantDay}</time>`);
      expect(await html(`/drills/${drill.api}`)).toContain(`<dt>Due</dt><dd>2026-11-30 (end of the day, ${zone.timeZone}) <span class="muted">`);
      // The runbooks list names each runbook's next drill by its day there too.
      const runbooks = await html('/runbooks');
      expect(runbooks).toContain('2026-11-29 (');
    });

    it('is due this week, not overdue, in the report made that Monday morning', async () => {
      clock.set(zone.mondayMorning);
      const report = await preview();
      expect(ids(report.drills.dueThisWeek).sort()).toEqual([drill.api, drill.form, drill.instant].sort());
      expect(report.drills.overdue.map((d) => [d.id, d.daysOverdue])).toEqual([[drill.sunday, 1]]);

      const md = renderReportMarkdown(report);
      expect(mdCells(mdSection(md, 'Drills due this week'), drill.api).slice(1, 4)).toEqual(['RUN-003', '2026-11-30', 'scheduled']);
      expect(mdCells(mdSection(md, 'Drills due this week'), drill.instant).slice(1, 3)).toEqual(['RUN-004', zone.instantDay]);
      expect(mdCells(mdSection(md, 'Drills overdue'), drill.sunday).slice(1, 4)).toEqual(['RUN-002', '2026-11-29', '1']);
      expect(mdSection(md, 'Drills overdue')).not.toContain(`[#${drill.api}]`);

      // The report the cron makes, as stored, delivered and shown.
      const job = await runWeeklyReportJob(service.db.db, service.catalog.current(), clock.now(), { timeZone: zone.timeZone, staleAfterDays: 90, contacts: [], publicUrl: 'https://rr.example.com' });
      expect(job.week).toBe('2026-W49');
      const stored = (await agent.get(`/reports/${job.reportId}/report.md`).expect(200)).text;
      expect(mdCells(mdSection(stored, 'Drills due this week'), drill.form).slice(1, 4)).toEqual(['RUN-001', '2026-11-30', 'scheduled']);
      const page = await html(`/reports/${job.reportId}`);
      expect(pageDue(page, drill.api)).toBe('2026-11-30');
      expect(pageDue(page, drill.sunday)).toBe('2026-11-29');
      expect(pageDue(page, drill.instant)).toBe(zone.instantDay);
    });

    it('is still not overdue late that Monday, and overdue from Tuesday on', async () => {
      // The instant is 15:00 UTC on Monday: already past by then in New York and UTC, Tuesday 04:00 still to come in Auckland.
      const instantPast = zone.instantDay === '2026-11-30';
      clock.set(zone.mondayNight);
      let lists = await drills();
      expect(ids(lists.dueThisWeek)).toContain(drill.api);
      expect(lists.dueThisWeek.find((d: { id: number }) => d.id === drill.form).overdue).toBe(false);
      expect(ids(lists.overdue).sort()).toEqual([drill.sunday, ...(instantPast ? [drill.instant] : [])].sort());

      clock.set(zone.tuesdayNight);
      lists = await drills();
      expect(ids(lists.overdue).sort()).toEqual([drill.api, drill.form, drill.sunday, ...(instantPast ? [drill.instant] : [])].sort());
      expect(lists.overdue.every((d: { overdue: boolean }) => d.overdue)).toBe(true);
      const report = await preview();
      expect(report.drills.overdue.map((d) => [d.id, d.daysOverdue]).sort()).toEqual(
        [[drill.sunday, 2], [drill.api, 1], [drill.form, 1], ...(instantPast ? [[drill.instant, 1]] : [])].sort(),
      );
      const md = renderReportMarkdown(report);
      expect(mdCells(mdSection(md, 'Drills overdue'), drill.api).slice(1, 4)).toEqual(['RUN-003', '2026-11-30', '1']);
    });
  });
}
