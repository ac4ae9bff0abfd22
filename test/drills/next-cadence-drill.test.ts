// Completing a drill schedules the runbook's next cadence drill in the same request: the catalog must not say
// "Next drill: none scheduled" until the once-a-minute cadence round comes by. The background loops are off here, so
// only the completion itself can have scheduled it.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { csrfToken } from '../http/helpers.js';
import { seedDrill, writeCatalog } from '../reports/report-fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService, fixedClock } from '../support/test-service.js';

const MIN = 60_000;
const DAY = 86_400_000;
const clock = fixedClock('2026-11-24T09:00:00Z');
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
const openCadence = (runbookId: string) =>
  service.db.db.selectFrom('drills').select(['id', 'due_at', 'status']).where('runbook_id', '=', runbookId).where('trigger', '=', 'cadence').where('status', 'in', ['scheduled', 'running']).execute();
const nextDrill = async (runbookId: string) => (await api().get(`/api/runbooks/${runbookId}`).expect(200)).body.nextDrill as { id: number; dueAt: string; overdue: boolean } | null;

describe('completing a drill schedules the next cadence drill at once', () => {
  it('over the API: a passed cadence drill is followed by the next one, due drill_every after the pass', async () => {
    // RUN-001 is critical (drill_every 30d).
    const id = await seedDrill(service.db.db, { runbookId: 'RUN-001', trigger: 'cadence', dueAt: '2026-11-24T00:00:00Z', reason: 'critical runbooks are drilled every 30d' });
    await api().post(`/api/drills/${id}/start`).send({}).expect(200);
    clock.advance(20 * MIN);
    const done = await api().post(`/api/drills/${id}/complete`).send({ outcome: 'passed' }).expect(200);
    const next = await nextDrill('RUN-001');
    expect(next).not.toBeNull();
    expect(next!.id).not.toBe(id);
    expect(next).toEqual({ id: next!.id, dueAt: new Date(Date.parse(done.body.completedAt) + 30 * DAY).toISOString(), overdue: false });
    expect(await openCadence('RUN-001')).toEqual([{ id: next!.id, due_at: new Date('2026-12-24T09:20:00Z'), status: 'scheduled' }]);
  });

  it('over the API: gaps found still schedules the next one, due from the last pass (here the file date: overdue)', async () => {
    // RUN-002 is warning (90d), last tested 2026-07-01: a drill that found gaps does not make it tested.
    const id = await seedDrill(service.db.db, { runbookId: 'RUN-002', trigger: 'cadence', dueAt: '2026-09-29T00:00:00Z' });
    await api().post(`/api/drills/${id}/complete`).send({ outcome: 'gaps_found', gaps: 'step 2 needs the disk name' }).expect(200);
    expect(await nextDrill('RUN-002')).toMatchObject({ dueAt: '2026-09-29T00:00:00.000Z', overdue: true });
    expect(await openCadence('RUN-002')).toHaveLength(1);
  });

  it('over the API: a passed drill by hand moves the scheduled cadence drill at once', async () => {
    const [cadence] = await openCadence('RUN-001');
    const manual = (await api().post('/api/drills').send({ runbookId: 'RUN-001' }).expect(201)).body;
    clock.advance(DAY);
    await api().post(`/api/drills/${manual.id}/complete`).send({ outcome: 'passed' }).expect(200);
    expect(await openCadence('RUN-001')).toEqual([{ id: cadence!.id, due_at: new Date('2026-12-25T09:20:00Z'), status: 'scheduled' }]);
  });

  it('from the drill page: the catalog row shows the next drill, not "none scheduled"', async () => {
    const agent = request.agent(service.app);
    const html = async (path: string) => (await agent.get(path).set('Accept', 'text/html').expect(200)).text;
    const row = async (id: string) => (await html('/runbooks')).split('<tr>').find((r) => r.includes(`<span class="run-id">${id}</span>`)) ?? '';
    // RUN-003: warning by the default severity (90d).
    const id = await seedDrill(service.db.db, { runbookId: 'RUN-003', trigger: 'cadence', dueAt: '2026-10-30T00:00:00Z' });
    expect(await row('RUN-003')).toContain(`href="/drills/${id}"`);

    const token = csrfToken(await html(`/drills/${id}`));
    await agent.post(`/drills/${id}/complete`).type('form').send({ outcome: 'passed', gaps: '', _csrf: token }).expect(303);
    const [next] = await openCadence('RUN-003');
    expect(next).toBeDefined();
    const after = await row('RUN-003');
    expect(after).not.toContain('none scheduled');
    expect(after).toContain(`href="/drills/${next!.id}"`);
    expect(next!.due_at.getTime()).toBe(clock.now().getTime() + 90 * DAY);
  });
});
