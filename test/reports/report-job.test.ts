import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOutboxTick } from '../../src/incidents/outbox.js';
import { runWeeklyReportJob } from '../../src/reports/report-job.js';
import type { Service } from '../../src/service.js';
import { startSink } from '../support/http-sink.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService, fixedClock } from '../support/test-service.js';
import { REPORT_MATRIX, seedIncident, writeCatalog } from './report-fixtures.js';

const clock = fixedClock('2026-11-23T09:00:00Z');
let database: TestDatabase;
let sink: Awaited<ReturnType<typeof startSink>>;
let service: Service;

beforeAll(async () => {
  database = await createTestDatabase();
  sink = await startSink();
  const dir = await writeCatalog(undefined, REPORT_MATRIX(sink.url));
  service = await createTestService(database, { RUNBOOKS_DIR: dir, REPORT_CONTACTS: 'leads,nobody', PUBLIC_URL: 'https://rr.example.com' }, { clock });
});
afterAll(async () => {
  await service?.stop();
  await sink?.close();
  await database?.drop();
});

const job = () =>
  runWeeklyReportJob(service.db.db, service.catalog.current(), clock.now(), {
    timeZone: 'UTC',
    staleAfterDays: 90,
    contacts: service.config.report.contacts,
    publicUrl: service.config.publicUrl,
  });

describe('the weekly report job', () => {
  it('answers 404 on /api/reports/latest before the first report', async () => {
    const res = await request(service.app).get('/api/reports/latest').expect(404);
    expect(res.body.error).toMatch(/^no report yet/);
  });

  it('stores one report per ISO week and enqueues its delivery once, however many replicas run it', async () => {
    await seedIncident(service.db.db, { monId: 'MON-005', runbookId: 'RUN-001', severity: 'critical', openedAt: '2026-11-17T10:00:00Z', acknowledgedAt: '2026-11-17T10:06:00Z' });
    const results = await Promise.all([job(), job(), job()]);
    const stored = results.filter((r) => r.reportId !== null);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ week: '2026-W48', notifications: 2, unknownContacts: ['nobody'] });
    expect(results.map((r) => r.week)).toEqual(['2026-W48', '2026-W48', '2026-W48']);

    clock.advance(60_000);
    expect((await job()).reportId).toBeNull();
    const reports = await service.db.db.selectFrom('reports').selectAll().execute();
    expect(reports.map((r) => [r.iso_week, r.period_start.toISOString(), r.period_end.toISOString()])).toEqual([['2026-W48', '2026-11-16T00:00:00.000Z', '2026-11-23T00:00:00.000Z']]);
    const id = reports[0]!.id;
    const notifications = await service.db.db.selectFrom('notifications').select(['idempotency_key', 'report_id', 'kind', 'contact_id', 'channel_type']).orderBy('idempotency_key').execute();
    expect(notifications).toEqual([
      { idempotency_key: `report-${id}-leads-0`, report_id: id, kind: 'weekly_report', contact_id: 'leads', channel_type: 'webhook' },
      { idempotency_key: `report-${id}-leads-1`, report_id: id, kind: 'weekly_report', contact_id: 'leads', channel_type: 'slack' },
    ]);

    expect(await runOutboxTick(service.db.db, () => clock.now(), service.config.notify)).toMatchObject({ sent: 2 });
    const hook = sink.received.find((r) => r.path === '/leads')!;
    expect(hook.headers['idempotency-key']).toBe(`report-${id}-leads-0`);
    expect(hook.body).toMatchObject({ type: 'weekly_report', reportId: id, week: '2026-W48', url: `https://rr.example.com/reports/${id}`, summary: { incidents: 1, mttaMs: 360_000, untested: 1, stale: 2 } });
    expect(hook.body.markdown).toContain('# Weekly runbook report 2026-W48');
    const slack = sink.received.find((r) => r.path === '/slack')!;
    expect(slack.body.text).toContain(`<https://rr.example.com/reports/${id}|Open the report>`);
    expect(slack.body.text).toContain('1 incidents last week');

    // The next week gets its own report.
    clock.set('2026-11-30T09:00:00Z');
    expect((await job()).week).toBe('2026-W49');
    expect(await service.db.db.selectFrom('reports').select('iso_week').orderBy('iso_week').execute()).toEqual([{ iso_week: '2026-W48' }, { iso_week: '2026-W49' }]);
  });

  it('serves stored reports as JSON', async () => {
    const list = (await request(service.app).get('/api/reports').expect(200)).body.reports;
    expect(list.map((r: { week: string }) => r.week)).toEqual(['2026-W49', '2026-W48']);
    const latest = (await request(service.app).get('/api/reports/latest').expect(200)).body;
    expect(latest).toMatchObject({ id: list[0].id, week: '2026-W49', periodStart: '2026-11-23T00:00:00.000Z', report: { week: '2026-W49', period: { week: '2026-W48' } } });
    const w48 = (await request(service.app).get(`/api/reports/${list[1].id}`).expect(200)).body;
    expect(w48.report.incidents.overall).toEqual({ incidents: 1, acknowledged: 1, resolved: 0, mttaMs: 360_000, mttrMs: null });
    expect(w48.markdown).toContain('| all | 1 | 1 | 6m | 0 | — |');
    await request(service.app).get('/api/reports/999999').expect(404);
    const preview = (await request(service.app).get('/api/reports/preview?week=2026-W48').expect(200)).body;
    expect(preview.incidents.overall.mttaMs).toBe(360_000);
    const bad = await request(service.app).get('/api/reports/preview?week=2027-W53').expect(400);
    expect(bad.body.error).toContain('2027 has no week 53');
    expect((await request(service.app).get('/api/reports/preview?week=0099-W01').expect(400)).body.error).toContain('expected a week from 1970 on');
  });
});
