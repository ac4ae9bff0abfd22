import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerAlert } from '../support/webhook-payloads.js';

// A checkbox key in the URL went to the database as it came: a NUL gave a 500 ("invalid byte sequence") where the
// sender should have been told which part of the request was wrong.
let database: TestDatabase;
let service: Service;
let id: number;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database);
  const res = await request(service.app).post('/webhooks/alertmanager').set('Content-Type', 'application/json').send(alertmanagerAlert({ monId: 'MON-005', fingerprint: 'eeee000000000001' })).expect(202);
  id = res.body.incidents[0];
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

describe('checkbox keys in URLs', () => {
  it.each([
    ['follow-up', (key: string) => `/api/incidents/${id}/follow-ups/${key}`, { done: true }],
    ['step', (key: string) => `/api/incidents/${id}/steps/${key}`, { checked: true }],
  ])('a %s key holding a NUL is a 400 naming the key, and changes nothing', async (_kind, url, body) => {
    const before = (await request(service.app).get(`/api/incidents/${id}`).expect(200)).body.timeline.length;
    const res = await request(service.app).post(url('a%00b')).send(body).expect(400);
    expect(JSON.stringify(res.body)).toContain('expected a checkbox key such as step-2, step-2.v1 or post-1');
    expect((await request(service.app).get(`/api/incidents/${id}`).expect(200)).body.timeline.length).toBe(before);
  });

  it('still finds real keys (404 for a follow-up that does not exist yet, 200 for a step)', async () => {
    await request(service.app).post(`/api/incidents/${id}/follow-ups/post-1`).send({ done: true }).expect(404);
    await request(service.app).post(`/api/incidents/${id}/steps/step-1.v1`).send({ checked: true }).expect(200);
  });
});
