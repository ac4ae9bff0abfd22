import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { wireBody } from '../support/webhook-payloads.js';

// Someone presses "Test" on the Grafana contact point (or "Send Test" on a legacy notification channel) while setting it up.
const clock = fixedClock('2026-08-14T10:20:32Z');
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

const post = (body: string) => request(service.app).post('/webhooks/grafana').set('Content-Type', 'application/json').send(body);
const incidents = () => service.db.db.selectFrom('incidents').select(['id', 'status']).execute();
const inbox = () => service.db.db.selectFrom('alert_events').select(['source', 'raw_body', 'alert_count', 'incident_ids']).orderBy('id').execute();

describe('Grafana test notifications', () => {
  it.each(['grafana-test-button', 'grafana-legacy-test', 'grafana-legacy-test-random-id'])('%s: answered 202 and kept in the inbox, opening no incident and paging nobody', async (fixture) => {
    const before = (await inbox()).length;
    const body = wireBody(fixture);
    const res = await post(body).expect(202);
    expect(res.body).toEqual({ incidents: [], duplicate: false, alerts: 0 });
    expect(await incidents()).toEqual([]);
    expect(await service.db.db.selectFrom('notifications').select('id').execute()).toEqual([]);
    expect((await inbox()).slice(before)).toEqual([{ source: 'grafana', raw_body: body, alert_count: 0, incident_ids: [] }]);
  });

  it('still opens an incident for a real alert sent right after the test', async () => {
    const res = await post(wireBody('grafana-firing')).expect(202);
    expect(res.body.incidents).toHaveLength(1);
    expect((await incidents()).map((i) => i.status)).toEqual(['triggered']);
  });
});
