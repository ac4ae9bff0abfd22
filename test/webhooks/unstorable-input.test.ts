import { createHash } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerAlert, wireBody } from '../support/webhook-payloads.js';

// Authentic deliveries whose text the database cannot store as it is. Before the fixes each one failed its transaction
// and got a 500 on every retry, so the sender retried it forever (PagerDuty queueing everything behind it) and it was
// never applied. Each must now be either applied (202) or refused as bad input (400), never a 500.
let database: TestDatabase;
let service: Service;

const post = (source: string, body: string, headers: Record<string, string> = {}) =>
  request(service.app).post(`/webhooks/${source}`).set({ 'Content-Type': 'application/json', ...headers }).send(body);

const countRows = async (table: 'incidents' | 'alert_events' | 'rejected_deliveries') =>
  Number((await service.db.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

/** Text that does not compress, so its length is its size in an index row (PostgreSQL compresses repetitive keys). */
function incompressible(length: number): string {
  let text = '';
  for (let i = 0; text.length < length; i++) text += createHash('sha256').update(String(i)).digest('hex');
  return text.slice(0, length);
}

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database);
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

describe('deliveries with text the database cannot store verbatim', () => {
  it('applies a body whose strings escape a lone UTF-16 surrogate, with U+FFFD in its place', async () => {
    // JSON.parse accepts "\ud800"; PostgreSQL's json input refuses it. Datadog substitutes user text into its template.
    const body = wireBody('datadog-triggered', (b) => {
      b.alert_id = 'surrogate-1';
      b.title = '[Triggered on {host:pg-primary-1}] [MON-777] pool \\ud83d';
    }).replace('\\\\ud83d', '\\ud83d');
    expect(body).toContain('pool \\ud83d"');
    const res = await post('datadog', body).expect(202);
    expect(res.body.incidents).toHaveLength(1);
    const incident = (await request(service.app).get(`/api/incidents/${res.body.incidents[0]}`).expect(200)).body;
    expect(incident.alerts[0].title).toBe('pool \uFFFD');
  });

  it('applies a lone surrogate in a label key and value', async () => {
    const body = alertmanagerAlert({ monId: 'MON-778', fingerprint: 'surrogate0000002', labels: { team: 'KEY' } })
      .replace('"KEY"', '"x\\udc00"')
      .replace('"team"', '"te\\udbffam"');
    const res = await post('alertmanager', body).expect(202);
    const incident = (await request(service.app).get(`/api/incidents/${res.body.incidents[0]}`).expect(200)).body;
    expect(incident.alerts[0].labels['te\uFFFDam']).toBe('x\uFFFD');
  });

  it('keeps a valid escaped surrogate pair as it is', async () => {
    const body = alertmanagerAlert({ monId: 'MON-779', fingerprint: 'surrogate0000003', labels: { team: 'KEY' } }).replace('"KEY"', '"\\ud83d\\udd25"');
    const res = await post('alertmanager', body).expect(202);
    const incident = (await request(service.app).get(`/api/incidents/${res.body.incidents[0]}`).expect(200)).body;
    expect(incident.alerts[0].labels.team).toBe('🔥');
  });

  it('applies an alert whose fingerprint is longer than an index row can hold, and the same one again joins it', async () => {
    const fingerprint = incompressible(9000);
    const first = await post('alertmanager', alertmanagerAlert({ monId: null, fingerprint })).expect(202);
    expect(first.body.incidents).toHaveLength(1);
    const again = await post('alertmanager', alertmanagerAlert({ monId: null, fingerprint, startsAt: '2026-08-14T09:19:00Z' })).expect(202);
    expect(again.body.incidents).toEqual(first.body.incidents);
  });

  it('applies a Datadog default-payload alert whose title (its identity) is very long', async () => {
    const body = wireBody('datadog-default-payload', (b) => {
      b.title = `[Triggered on {host:a}] ${incompressible(9000)}`;
    });
    await post('datadog', body).expect(202);
  });

  it('applies a PagerDuty delivery with an X-Webhook-Id longer than an index row, and answers its retry as a repeat', async () => {
    const webhookId = incompressible(9000);
    const body = wireBody('pagerduty-triggered');
    const first = await post('pagerduty', body, { 'X-Webhook-Id': webhookId }).expect(202);
    expect(first.body.duplicate).toBe(false);
    const retry = await post('pagerduty', body, { 'X-Webhook-Id': webhookId }).expect(202);
    expect(retry.body).toMatchObject({ duplicate: true, incidents: first.body.incidents });
  });

  it.each([
    ['alertmanager', alertmanagerAlert({ monId: 'MON-780', fingerprint: 'faraway000000001', startsAt: '9999-12-31T23:59:59-12:00' }), /alerts\.0\.startsAt: expected a time between/],
    ['alertmanager', alertmanagerAlert({ monId: 'MON-780', fingerprint: 'faraway000000002', startsAt: '0001-01-01T00:00:00+01:00' }), /alerts\.0\.startsAt: expected a time between/],
    ['pagerduty', wireBody('pagerduty-triggered', (b) => (b.event.occurred_at = '9999-12-31T23:00:00-02:00')), /event\.occurred_at: expected a time between/],
    ['datadog', wireBody('datadog-triggered', (b) => (b.date = '300000000000000')), /date: expected epoch milliseconds no later than 9999-12-31/],
  ])('refuses a %s timestamp outside years 0001-9999 with 400, keeping the body', async (source, body, message) => {
    const incidents = await countRows('incidents');
    const inbox = await countRows('alert_events');
    const rejected = await countRows('rejected_deliveries');
    const res = await post(source, body).expect(400);
    expect(res.body.error).toMatch(message);
    expect(await countRows('incidents')).toBe(incidents);
    expect(await countRows('alert_events')).toBe(inbox);
    expect(await countRows('rejected_deliveries')).toBe(rejected + 1);
  });
});
