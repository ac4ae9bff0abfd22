import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService, fixedClock } from '../support/test-service.js';
import { seedDrill, writeCatalog } from '../reports/report-fixtures.js';

const MIN = 60_000;
const clock = fixedClock('2026-11-24T09:00:00Z'); // a Tuesday of 2026-W48
let database: TestDatabase;
let service: Service;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database, { RUNBOOKS_DIR: await writeCatalog() }, { clock });
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

const api = () => request(service.app);

describe('drills through the JSON API', () => {
  let drillId: number;

  it('schedules a drill by hand, due within a week unless a date is given', async () => {
    const res = await api().post('/api/drills').send({ runbookId: 'run-003', reason: 'new on-call engineer' }).expect(201);
    drillId = res.body.id;
    expect(res.headers.location).toBe(`/drills/${drillId}`);
    expect(res.body).toMatchObject({ runbookId: 'RUN-003', trigger: 'manual', status: 'scheduled', reason: 'new on-call engineer', dueAt: '2026-12-01T09:00:00.000Z', createdBy: 'local', runbookHash: null, overdue: false });
    const dated = await api().post('/api/drills').send({ runbookId: 'RUN-001', dueAt: '2026-11-26' }).expect(201);
    // A plain day: due until its end in REPORT_TZ (UTC here).
    expect(dated.body).toMatchObject({ dueAt: '2026-11-26T23:59:59.999Z', reason: 'scheduled by hand' });
    const unknown = await api().post('/api/drills').send({ runbookId: 'RUN-404' }).expect(400);
    expect(unknown.body.error).toBe('RUN-404 is not a runbook in the catalog');
    await api().post('/api/drills').send({ runbookId: 'pool' }).expect(400);
  });

  it('lists drills overdue, due this week, later and done', async () => {
    const overdue = await seedDrill(service.db.db, { runbookId: 'RUN-002', trigger: 'cadence', dueAt: '2026-09-29T00:00:00Z' });
    const done = await seedDrill(service.db.db, { runbookId: 'RUN-002', status: 'completed', outcome: 'gaps_found', gaps: 'x', dueAt: '2026-11-19T00:00:00Z', startedAt: '2026-11-19T09:00:00Z', completedAt: '2026-11-19T10:00:00Z' });
    const body = (await api().get('/api/drills').expect(200)).body;
    const ids = (list: { id: number }[]) => list.map((d) => d.id);
    expect(ids(body.overdue)).toEqual([overdue]);
    expect(body.overdue[0].overdue).toBe(true);
    expect(body.dueThisWeek.map((d: { runbookId: string }) => d.runbookId)).toEqual(['RUN-001']);
    expect(ids(body.later)).toEqual([drillId]);
    expect(ids(body.done)).toEqual([done]);
  });

  it('runs a drill: pins the runbook at start and times every step against its Duration:', async () => {
    const started = await api().post(`/api/drills/${drillId}/start`).send({}).expect(200);
    const hash = service.catalog.current().runbooks.get('RUN-003')!.hash;
    expect(started.body).toMatchObject({ status: 'running', startedAt: '2026-11-24T09:00:00.000Z', startedBy: 'local', runbookHash: hash });
    expect(await service.db.db.selectFrom('runbook_versions').select('runbook_id').where('hash', '=', hash).executeTakeFirst()).toEqual({ runbook_id: 'RUN-003' });

    clock.advance(4 * MIN);
    await api().post(`/api/drills/${drillId}/checks`).send({ key: 'step-1.v1' }).expect(200);
    const tick = await api().post(`/api/drills/${drillId}/checks`).send({ key: 'step-1' }).expect(200);
    expect(tick.body).toMatchObject({ key: 'step-1', checked: true, by: 'local', at: '2026-11-24T09:04:00.000Z', changed: true });
    clock.advance(7 * MIN);
    await api().post(`/api/drills/${drillId}/checks`).send({ key: 'step-2' }).expect(200);
    await api().post(`/api/drills/${drillId}/checks`).send({ key: 'step-9' }).expect(404);

    const detail = (await api().get(`/api/drills/${drillId}`).expect(200)).body;
    expect(detail).toMatchObject({ runbookTitle: 'Customer Reported Outage', runbookPinned: true, status: 'running' });
    expect(detail.steps.map((s: { key: string; actualMs: number; expectedMs: number; state: string }) => [s.key, s.actualMs, s.expectedMs, s.state])).toEqual([
      ['step-1', 4 * MIN, 10 * MIN, 'ok'],
      ['step-2', 7 * MIN, 5 * MIN, 'overrun'],
    ]);
    expect(detail.checks.map((c: { key: string }) => c.key).sort()).toEqual(['step-1', 'step-1.v1', 'step-2']);
  });

  it('completes with an outcome; gaps found must be written down', async () => {
    const missing = await api().post(`/api/drills/${drillId}/complete`).send({ outcome: 'gaps_found', gaps: '  ' }).expect(400);
    expect(missing.body.error).toMatch(/^write down the gaps found/);
    await api().post(`/api/drills/${drillId}/complete`).send({ outcome: 'maybe' }).expect(400);
    clock.advance(MIN);
    const done = await api().post(`/api/drills/${drillId}/complete`).send({ outcome: 'gaps_found', gaps: 'Step 2 took 7m, not 5m: the status page login is missing' }).expect(200);
    expect(done.body).toMatchObject({ status: 'completed', outcome: 'gaps_found', gaps: 'Step 2 took 7m, not 5m: the status page login is missing', completedAt: '2026-11-24T09:12:00.000Z' });
    await api().post(`/api/drills/${drillId}/complete`).send({ outcome: 'passed' }).expect(409);
    await api().post(`/api/drills/${drillId}/checks`).send({ key: 'step-1', checked: false }).expect(409);
    await api().post(`/api/drills/${drillId}/cancel`).send({}).expect(409);
  });

  it('cancels an open drill', async () => {
    const d = (await api().post('/api/drills').send({ runbookId: 'RUN-002' }).expect(201)).body;
    const res = await api().post(`/api/drills/${d.id}/cancel`).send({ reason: 'team offsite' }).expect(200);
    expect(res.body).toMatchObject({ status: 'cancelled', reason: 'scheduled by hand (cancelled by local: team offsite)' });
    await api().get('/api/drills/999999').expect(404);
  });
});

describe('a passed drill makes a stale runbook fresh', () => {
  it('in the catalog API and the weekly report, while lint keeps judging the file', async () => {
    const before = (await api().get('/api/runbooks/RUN-003').expect(200)).body;
    expect(before.lastTested).toEqual({ date: '2026-08-01', source: 'file', stale: true, ageDays: 115 });
    const preview = async () => (await api().get('/api/reports/preview?week=2026-W48').expect(200)).body;
    expect((await preview()).stale.map((s: { runbookId: string }) => s.runbookId)).toEqual(['RUN-002', 'RUN-003']);

    // The drill above found gaps: still stale. A passed one counts.
    const d = (await api().post('/api/drills').send({ runbookId: 'RUN-003' }).expect(201)).body;
    await api().post(`/api/drills/${d.id}/start`).send({}).expect(200);
    clock.advance(30 * MIN);
    await api().post(`/api/drills/${d.id}/complete`).send({ outcome: 'passed' }).expect(200);

    const after = (await api().get('/api/runbooks/RUN-003').expect(200)).body;
    expect(after.lastTested).toEqual({ date: '2026-11-24', source: 'drill', stale: false, ageDays: 0 });
    expect(after.fileLastTested).toBe('2026-08-01');
    const report = await preview();
    expect(report.stale.map((s: { runbookId: string }) => s.runbookId)).toEqual(['RUN-002']);
    // Completed this week: not among last week's drills (only the one seeded on 2026-11-19 is).
    expect(report.drills.completedLastWeek.map((x: { runbookId: string; outcome: string }) => [x.runbookId, x.outcome])).toEqual([['RUN-002', 'gaps_found']]);
    // lint reads files only: its stale warning stays until the Last Tested: line is updated.
    expect(after.findings.map((f: { rule: string }) => f.rule)).toContain('stale');
  });
});

// A tick that waited for the drill's lock while the drill was completed must not change the record: needs a second
// connection holding the lock, so the real server.
describe.runIf(process.env.DATABASE_URL)('a drill completed while a tick waits for it', () => {
  it('refuses the tick 409 once it gets the lock, and the completed drill keeps its boxes as they were', async () => {
    const id = (await api().post('/api/drills').send({ runbookId: 'RUN-003' }).expect(201)).body.id as number;
    await api().post(`/api/drills/${id}/checks`).send({ key: 'step-1', checked: true }).expect(200);
    const pg = (await import('pg')).default;
    const other = new pg.Client({ connectionString: database.url! });
    await other.connect();
    try {
      await other.query('begin');
      await other.query('select id from drills where id = $1 for update', [id]);
      // The tick reads the drill as running, then waits for its lock.
      const tick = api().post(`/api/drills/${id}/checks`).send({ key: 'step-2', checked: true }).then((r) => r);
      await new Promise((r) => setTimeout(r, 300));
      await other.query(`update drills set status = 'completed', outcome = 'passed', completed_at = now() where id = $1`, [id]);
      await other.query('commit');
      const answer = await tick;
      expect(answer.status).toBe(409);
      expect(answer.body.error).toBe(`drill ${id} is completed`);
    } finally {
      await other.end();
    }
    const checks = (await api().get(`/api/drills/${id}`).expect(200)).body.checks as { key: string; checked: boolean }[];
    expect(checks.filter((c) => c.checked).map((c) => c.key)).toEqual(['step-1']);
  });
});
