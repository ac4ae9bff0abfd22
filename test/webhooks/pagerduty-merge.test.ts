import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { wireBody } from '../support/webhook-payloads.js';

// Two PagerDuty incidents of MON-027 (two workers failed) are one router incident; a responder merges the second into the
// first. PagerDuty resolves the merged-away one (resolve_reason merge_resolve_reason) and never mentions it again.
const clock = fixedClock('2026-08-14T09:05:13Z');
let database: TestDatabase;
let service: Service;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database, {}, { clock });
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

const post = (body: string, webhookId: string) =>
  request(service.app).post('/webhooks/pagerduty').set({ 'Content-Type': 'application/json', 'X-Webhook-Id': webhookId }).send(body).expect(202);

/** The second incident, Q0RB5YKT2M4N6P, as it was triggered: the one the merge-resolved fixture resolves. */
const secondTriggered = () =>
  wireBody('pagerduty-triggered', (body) => {
    body.event.id = '01J5ZTZ8W4B6D8F0H2K4M6P8R0';
    body.event.occurred_at = '2026-08-14T09:06:02.311Z';
    Object.assign(body.event.data, {
      id: 'Q0RB5YKT2M4N6P',
      number: 4823,
      html_url: 'https://acme.pagerduty.com/incidents/Q0RB5YKT2M4N6P',
      incident_key: 'MON-027/payments-worker-2',
      created_at: '2026-08-14T09:06:02Z',
      title: '[MON-027] Settlement batch job failed on payments-worker-2',
    });
  });

const statusOf = async (id: number) => (await service.db.db.selectFrom('incidents').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
const instances = async (id: number) =>
  (await service.db.db.selectFrom('alert_instances').select(['fingerprint', 'status']).where('incident_id', '=', id).orderBy('fingerprint').execute()).map((a) => [a.fingerprint, a.status]);

describe('PagerDuty: an incident merged into another', () => {
  it('resolves the merged-away instance, keeps the router incident open while the survivor fires, and resolves it with the survivor', async () => {
    const [id] = (await post(wireBody('pagerduty-triggered'), 'merge-1')).body.incidents;
    clock.set('2026-08-14T09:06:03Z');
    expect((await post(secondTriggered(), 'merge-2')).body.incidents).toEqual([id]);
    expect(await instances(id)).toEqual([
      ['Q0RB5YKT2M4N6P', 'firing'],
      ['Q1ZB3WAXH8K2LQ', 'firing'],
    ]);

    clock.set('2026-08-14T09:12:41Z');
    expect((await post(wireBody('pagerduty-merge-resolved'), 'merge-3')).body).toMatchObject({ incidents: [id], alerts: 1 });
    expect(await instances(id)).toEqual([
      ['Q0RB5YKT2M4N6P', 'resolved'],
      ['Q1ZB3WAXH8K2LQ', 'firing'],
    ]);
    expect(await statusOf(id)).toBe('triggered');

    clock.set('2026-08-14T09:52:04Z');
    await post(wireBody('pagerduty-resolved'), 'merge-4');
    expect(await instances(id)).toEqual([
      ['Q0RB5YKT2M4N6P', 'resolved'],
      ['Q1ZB3WAXH8K2LQ', 'resolved'],
    ]);
    expect(await statusOf(id)).toBe('resolved');
  });
});
