import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { runEscalationTick } from '../../src/incidents/escalation-tick.js';
import { runOutboxTick } from '../../src/incidents/outbox.js';
import type { Service } from '../../src/service.js';
import { startSink } from '../support/http-sink.js';
import { runbooksWithMatrix, sinkMatrix } from '../support/runbooks-dir.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { wireBody } from '../support/webhook-payloads.js';

// PagerDuty's `incident.unacknowledged` (someone there unacknowledged, or the acknowledgement timed out) moved the
// alert instance back to firing but left the incident acknowledged, so escalation never resumed.
const clock = fixedClock('2026-08-14T09:06:00Z');
let database: TestDatabase;
let sink: Awaited<ReturnType<typeof startSink>>;
let service: Service;

const deliver = (fixture: string, webhookId: string, edit?: (body: any) => void) =>
  request(service.app).post('/webhooks/pagerduty').set({ 'Content-Type': 'application/json', 'X-Webhook-Id': webhookId }).send(wireBody(fixture, edit)).expect(202);
const unacknowledged = (body: any) => {
  body.event.id = '01J5ZQB7T2W9E4H6K8M0P3R5UN';
  body.event.event_type = 'incident.unacknowledged';
  body.event.occurred_at = '2026-08-14T09:37:48.102Z';
  body.event.agent = null;
  body.event.data.status = 'triggered';
};
async function tick() {
  const fired = await runEscalationTick(service.db.db, { routing: service.routing(), now: clock.now(), publicUrl: service.config.publicUrl });
  await runOutboxTick(service.db.db, () => clock.now(), service.config.notify);
  return fired.fired;
}
async function incident(id: number) {
  const row = await service.db.db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const timeline = await service.db.db.selectFrom('incident_events').select(['kind', 'data']).where('incident_id', '=', id).orderBy('id').execute();
  return { status: row.status, acknowledgedBy: row.acknowledged_by, timeline };
}

beforeEach(async () => {
  clock.set('2026-08-14T09:06:00Z');
  database = await createTestDatabase();
  sink = await startSink();
  service = await createTestService(database, { RUNBOOKS_DIR: await runbooksWithMatrix(sinkMatrix(sink.url, { ackWithin: '5m' })) }, { clock });
});
afterEach(async () => {
  await service?.stop();
  await sink.close();
  await database.drop();
});

describe('PagerDuty takes its acknowledgement back', () => {
  it('moves the incident back to triggered and pages the level that had acknowledged again', async () => {
    const id = (await deliver('pagerduty-triggered', 'pd-1')).body.incidents[0];
    expect(await tick()).toBe(1);
    clock.set('2026-08-14T09:08:00Z');
    await deliver('pagerduty-acknowledged', 'pd-2');
    expect(await incident(id)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'Dana Okafor' });

    clock.set('2026-08-14T09:38:00Z');
    await deliver('pagerduty-acknowledged', 'pd-3', unacknowledged);
    const after = await incident(id);
    expect(after).toMatchObject({ status: 'triggered', acknowledgedBy: null });
    expect(after.timeline.at(-1)).toMatchObject({ kind: 'unacknowledged', data: { source: 'pagerduty' } });
    expect(await tick()).toBe(1);
    expect(sink.paths()).toEqual(['/level-one', '/level-one']);
  });

  it('leaves a responder\'s acknowledgement in the router standing', async () => {
    const id = (await deliver('pagerduty-triggered', 'pd-1')).body.incidents[0];
    await request(service.app).post(`/api/incidents/${id}/acknowledge`).send({ by: 'sam' }).expect(200);
    clock.set('2026-08-14T09:08:00Z');
    await deliver('pagerduty-acknowledged', 'pd-2');
    clock.set('2026-08-14T09:38:00Z');
    await deliver('pagerduty-acknowledged', 'pd-3', unacknowledged);
    expect(await incident(id)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'sam' });
    expect(await tick()).toBe(0);
  });
});
