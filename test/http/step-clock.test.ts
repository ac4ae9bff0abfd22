import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { runbooksWithMatrix, sinkMatrix } from '../support/runbooks-dir.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService, fixedClock } from '../support/test-service.js';
import { alertmanagerAlert } from '../support/webhook-payloads.js';

// Where each step's clock starts. A reopen clears the acknowledgement: the page, the step API and the retro timed the new
// episode's steps from the first opening (a 2-minute step "took 22m — OVERRUN") while the weekly report timed them from
// the reopening. And a step behind a manual checkpoint was timed from the step before it, so the wait for the approval
// counted as the step's work.
const clock = fixedClock('2026-09-01T03:00:00Z');
let database: TestDatabase;
let service: Service;

const post = (body: string) => request(service.app).post('/webhooks/alertmanager').set('Content-Type', 'application/json').send(body).expect(202);
const alert = (status: 'firing' | 'resolved', startsAt: string, endsAt?: string, fingerprint = 'dddd000000000001') =>
  alertmanagerAlert({ monId: 'MON-005', fingerprint, status, startsAt, ...(endsAt ? { endsAt } : {}) });
const tick = (id: number, key: string) => request(service.app).post(`/api/incidents/${id}/steps/${key}`).send({ checked: true, by: 'dana' }).expect(200);
const steps = async (id: number) => (await request(service.app).get(`/api/incidents/${id}/steps`).expect(200)).body.steps as { key: string; startedAt: string | null; actualMs: number | null; state: string }[];

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database, { RUNBOOKS_DIR: await runbooksWithMatrix(sinkMatrix('http://127.0.0.1:9', { ackWithin: '5m' })) }, { clock });
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

describe('the step clock of a reopened incident', () => {
  it('starts at the reopening on the page, in the step API and in the retro, as in the weekly report', async () => {
    const id = (await post(alert('firing', '2026-09-01T02:59:00Z'))).body.incidents[0];
    clock.set('2026-09-01T03:01:00Z');
    await request(service.app).post(`/api/incidents/${id}/acknowledge`).send({ by: 'dana' }).expect(200);
    clock.set('2026-09-01T03:05:00Z');
    await post(alert('resolved', '2026-09-01T02:59:00Z', '2026-09-01T03:05:00Z'));
    clock.set('2026-09-01T03:20:00Z');
    expect((await post(alert('firing', '2026-09-01T03:19:50Z'))).body.incidents).toEqual([id]);

    // Step 1 of RUN-001 expects 3m (max 5m); two minutes into the new episode it is running, not overrun.
    clock.set('2026-09-01T03:22:00Z');
    const running = (await request(service.app).get(`/api/incidents/${id}/steps`).expect(200)).body.steps[0];
    expect(running).toMatchObject({ key: 'step-1', startedAt: '2026-09-01T03:20:00.000Z', state: 'running' });
    const page = (await request(service.app).get(`/incidents/${id}`).expect(200)).text;
    expect(page).not.toMatch(/overrun/i);

    await request(service.app).post(`/api/incidents/${id}/steps/step-1`).send({ checked: true, by: 'dana' }).expect(200);
    const done = (await request(service.app).get(`/api/incidents/${id}/steps`).expect(200)).body.steps[0];
    expect(done).toMatchObject({ startedAt: '2026-09-01T03:20:00.000Z', actualMs: 120_000, state: 'ok' });
    const retro = (await request(service.app).get(`/incidents/${id}/retro.md`).expect(200)).text;
    expect(retro).toMatch(/### Step 1: .*took 2m\)/);
    expect(retro).not.toMatch(/OVERRUN/);
    await post(alert('resolved', '2026-09-01T03:19:50Z', '2026-09-01T03:30:00Z'));
  });

  it('times a step worked in a reopened episode from the reopening, running or ticked, not from the earlier episode\'s last tick', async () => {
    clock.set('2026-09-02T10:00:00Z');
    const id = (await post(alert('firing', '2026-09-02T09:59:00Z', undefined, 'dddd000000000002'))).body.incidents[0];
    clock.set('2026-09-02T10:02:00Z');
    await tick(id, 'step-1');
    clock.set('2026-09-02T10:10:00Z');
    await post(alert('resolved', '2026-09-02T09:59:00Z', '2026-09-02T10:10:00Z', 'dddd000000000002'));
    clock.set('2026-09-02T10:35:00Z');
    expect((await post(alert('firing', '2026-09-02T10:34:50Z', undefined, 'dddd000000000002'))).body.incidents).toEqual([id]);
    clock.set('2026-09-02T10:37:00Z');
    // Step 2 expects 5m: two minutes into the reopened episode, not 35 minutes after step 1.
    expect((await steps(id))[1]).toMatchObject({ key: 'step-2', startedAt: '2026-09-02T10:35:00.000Z', actualMs: 120_000, state: 'running' });
    // Ticked in the reopened episode, it took 3 minutes of it, not 36 since step 1's tick: on the page, in the retro and
    // in the weekly report alike.
    clock.set('2026-09-02T10:38:00Z');
    await tick(id, 'step-2');
    expect((await steps(id))[1]).toMatchObject({ startedAt: '2026-09-02T10:35:00.000Z', actualMs: 180_000, state: 'ok' });
    expect((await request(service.app).get(`/incidents/${id}/retro.md`).expect(200)).text).toMatch(/### Step 2: .*took 3m\)/);
    const week = (await request(service.app).get('/api/reports/preview?week=2026-W36').expect(200)).body;
    expect(week.overruns.filter((o: { subjectId: number }) => o.subjectId === id)).toEqual([]);
    await post(alert('resolved', '2026-09-02T10:34:50Z', '2026-09-02T10:40:00Z', 'dddd000000000002'));
  });

  it('starts the step behind a manual checkpoint when the checkpoint is confirmed', async () => {
    clock.set('2026-09-03T10:00:00Z');
    const id = (await post(alert('firing', '2026-09-03T09:59:00Z', undefined, 'dddd000000000003'))).body.incidents[0];
    await request(service.app).post(`/api/incidents/${id}/acknowledge`).send({ by: 'dana' }).expect(200);
    for (const [at, key] of [['10:02', 'step-1'], ['10:06', 'step-2'], ['10:10', 'step-3']] as const) {
      clock.set(`2026-09-03T${at}:00Z`);
      await tick(id, key);
    }
    // Step 3 is a manual checkpoint: step 4 does not run while it waits for the approval...
    clock.set('2026-09-03T10:25:00Z');
    expect((await steps(id))[3]).toMatchObject({ key: 'step-4', startedAt: null, state: 'pending' });
    await tick(id, 'step-3.checkpoint');
    // ...and starts when the approval came, 15 minutes after step 3 was ticked.
    clock.set('2026-09-03T10:28:00Z');
    expect((await steps(id))[3]).toMatchObject({ startedAt: '2026-09-03T10:25:00.000Z', actualMs: 180_000, state: 'running' });
    const step4 = (await request(service.app).get(`/api/incidents/${id}/steps`).expect(200)).body.items.find((i: { key: string }) => i.key.startsWith('step-4'));
    await tick(id, step4.key);
    expect((await steps(id))[3]).toMatchObject({ startedAt: '2026-09-03T10:25:00.000Z', actualMs: 180_000 });
  });
});
