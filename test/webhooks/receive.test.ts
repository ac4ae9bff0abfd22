import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerAlert, signedHeaders, wireBody } from '../support/webhook-payloads.js';

const clock = fixedClock('2026-08-14T09:20:00Z');
let database: TestDatabase;
let service: Service;

const post = (source: string, body: Buffer | string, headers: Record<string, string> = { 'Content-Type': 'application/json' }) =>
  request(service.app).post(`/webhooks/${source}`).set(headers).send(typeof body === 'string' ? body : body.toString('utf8'));

const incident = async (id: number) => (await request(service.app).get(`/api/incidents/${id}`).expect(200)).body;
const countRows = async (table: 'incidents' | 'alert_events' | 'rejected_deliveries' | 'alert_instances', of: Service = service) =>
  Number((await of.db.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database, { REOPEN_WINDOW: '30m', FLAPPING_AFTER: '2' }, { clock });
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

describe('alerts in: one incident per MON- id, across sources', () => {
  let mon005: number;

  it('opens an incident from an Alertmanager delivery, with the runbook, severity and chain from the matrix', async () => {
    const res = await post('alertmanager', wireBody('alertmanager-firing')).expect(202);
    expect(res.body.incidents).toHaveLength(1);
    expect(res.body.duplicate).toBe(false);
    mon005 = res.body.incidents[0];
    const body = await incident(mon005);
    expect(body).toMatchObject({ monId: 'MON-005', runbookId: 'RUN-001', severity: 'critical', status: 'triggered', source: 'alertmanager', alertCount: 1 });
    expect(body.runbookHash).toMatch(/^[0-9a-f]{64}$/);
    expect(body.escalationChain.length).toBeGreaterThanOrEqual(2);
    expect(body.alerts[0]).toMatchObject({ source: 'alertmanager', fingerprint: 'adb2b69742b0474d', status: 'firing' });
    expect(body.timeline.map((e: { kind: string }) => e.kind)).toEqual(['opened', 'alert_firing']);
  });

  it('joins the same monitor seen by Datadog to the same incident', async () => {
    const res = await post('datadog', wireBody('datadog-triggered')).expect(202);
    expect(res.body.incidents).toEqual([mon005]);
    const body = await incident(mon005);
    expect(body.alertCount).toBe(2);
    expect(body.alerts.map((a: { source: string }) => a.source).sort()).toEqual(['alertmanager', 'datadog']);
  });

  it('stays open while any instance fires and resolves when all have resolved', async () => {
    await post('alertmanager', wireBody('alertmanager-resolved')).expect(202);
    expect((await incident(mon005)).status).toBe('triggered');
    await post('datadog', wireBody('datadog-recovered')).expect(202);
    const body = await incident(mon005);
    expect(body.status).toBe('resolved');
    expect(body.resolvedBy).toBe('datadog');
    expect(body.timeline.at(-1)).toMatchObject({ kind: 'resolved', actor: 'datadog' });
  });

  it('lists incidents by status, newest first', async () => {
    clock.set('2026-08-14T09:30:00Z');
    const newer = (await post('alertmanager', alertmanagerAlert({ monId: 'MON-321', fingerprint: '0000aaaa0000b321' })).expect(202)).body.incidents[0];
    const list = async (status: string) => (await request(service.app).get(`/api/incidents?status=${status}`).expect(200)).body.incidents as { id: number }[];

    const all = await list('all');
    expect(all.map((i) => i.id)).toEqual([newer, mon005]);
    expect(all[1]).toMatchObject({ id: mon005, monId: 'MON-005', status: 'resolved', alertCount: 2, flapping: false });
    expect(Object.keys(all[1]!)).toEqual(expect.arrayContaining(['id', 'monId', 'runbookId', 'status', 'severity', 'title', 'source', 'openedAt', 'acknowledgedAt', 'resolvedAt', 'escalationLevel', 'alertCount', 'flapping']));
    expect((await list('open')).map((i) => i.id)).toEqual([newer]);
    expect((await list('triggered')).map((i) => i.id)).toEqual([newer]);
    expect((await list('resolved')).map((i) => i.id)).toEqual([mon005]);
    expect(await list('acknowledged')).toEqual([]);
    await request(service.app).get('/api/incidents?status=bogus').expect(400);
  });
});

describe('Grafana: reopen within the window, flapping after repeated reopens', () => {
  it('reopens the same incident, then marks it flapping', async () => {
    clock.set('2026-08-14T09:41:00Z');
    const opened = (await post('grafana', wireBody('grafana-firing')).expect(202)).body.incidents[0];
    clock.set('2026-08-14T10:12:00Z');
    await post('grafana', wireBody('grafana-resolved')).expect(202);
    expect((await incident(opened)).status).toBe('resolved');

    clock.set('2026-08-14T10:20:00Z');
    const again = wireBody('grafana-firing', (b) => {
      b.alerts[0].startsAt = '2026-08-14T10:19:00Z';
    });
    expect((await post('grafana', again).expect(202)).body.incidents).toEqual([opened]);
    let body = await incident(opened);
    expect(body).toMatchObject({ status: 'triggered', reopenCount: 1, flapping: false });

    clock.set('2026-08-14T10:25:00Z');
    await post('grafana', wireBody('grafana-resolved', (b) => { b.alerts[0].startsAt = '2026-08-14T10:19:00Z'; b.alerts[0].endsAt = '2026-08-14T10:24:00Z'; })).expect(202);
    clock.set('2026-08-14T10:27:00Z');
    await post('grafana', wireBody('grafana-firing', (b) => { b.alerts[0].startsAt = '2026-08-14T10:26:00Z'; })).expect(202);
    body = await incident(opened);
    expect(body).toMatchObject({ status: 'triggered', reopenCount: 2, flapping: true });
    expect(body.timeline.filter((e: { kind: string }) => e.kind === 'flapping')).toHaveLength(1);
  });

  it('opens a new incident when the monitor fires again after the window', async () => {
    clock.set('2026-08-14T11:00:00Z');
    const first = (await post('grafana', wireBody('grafana-resolved', (b) => { b.alerts[0].startsAt = '2026-08-14T10:26:00Z'; b.alerts[0].endsAt = '2026-08-14T10:59:00Z'; })).expect(202)).body.incidents[0];
    expect((await incident(first)).status).toBe('resolved');
    clock.set('2026-08-14T12:00:00Z');
    const later = (await post('grafana', wireBody('grafana-firing', (b) => { b.alerts[0].startsAt = '2026-08-14T11:59:00Z'; })).expect(202)).body.incidents[0];
    expect(later).not.toBe(first);
    expect((await incident(later)).reopenCount).toBe(0);
  });
});

describe('PagerDuty: acknowledged acknowledges, resolved resolves', () => {
  it('follows the PagerDuty incident through its states', async () => {
    clock.set('2026-08-14T09:05:13Z');
    const id = (await post('pagerduty', wireBody('pagerduty-triggered'), { 'Content-Type': 'application/json', 'X-Webhook-Id': 'pd-1' }).expect(202)).body.incidents[0];
    expect(await incident(id)).toMatchObject({ monId: 'MON-027', status: 'triggered' });
    clock.set('2026-08-14T09:07:49Z');
    await post('pagerduty', wireBody('pagerduty-acknowledged'), { 'Content-Type': 'application/json', 'X-Webhook-Id': 'pd-2' }).expect(202);
    expect(await incident(id)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'Dana Okafor', acknowledgedAt: '2026-08-14T09:07:49.000Z' });
    clock.set('2026-08-14T09:52:04Z');
    await post('pagerduty', wireBody('pagerduty-resolved'), { 'Content-Type': 'application/json', 'X-Webhook-Id': 'pd-3' }).expect(202);
    expect((await incident(id)).status).toBe('resolved');
  });

  it('answers a repeated X-Webhook-Id again without applying it twice', async () => {
    const before = await countRows('alert_events');
    const res = await post('pagerduty', wireBody('pagerduty-triggered'), { 'Content-Type': 'application/json', 'X-Webhook-Id': 'pd-1' }).expect(202);
    expect(res.body.duplicate).toBe(true);
    expect(await countRows('alert_events')).toBe(before);
  });
});

describe('alerts without a known MON- id are never dropped', () => {
  it('opens a "no runbook" incident per source and fingerprint', async () => {
    clock.set('2026-08-15T08:00:00Z');
    const a = (await post('alertmanager', alertmanagerAlert({ monId: null, fingerprint: 'f00dfeed00000001' })).expect(202)).body.incidents[0];
    const b = (await post('alertmanager', alertmanagerAlert({ monId: null, fingerprint: 'f00dfeed00000002' })).expect(202)).body.incidents[0];
    const again = (await post('alertmanager', alertmanagerAlert({ monId: null, fingerprint: 'f00dfeed00000001', groupKey: 'other' })).expect(202)).body.incidents[0];
    expect(a).not.toBe(b);
    expect(again).toBe(a);
    const body = await incident(a);
    expect(body).toMatchObject({ monId: null, runbookId: null, runbookHash: null });
    expect(body.timeline[0]).toMatchObject({ kind: 'opened', data: { noRunbook: true, knownMonId: false } });
  });

  it('routes an unknown MON- id to the default escalation with no runbook', async () => {
    const id = (await post('alertmanager', alertmanagerAlert({ monId: 'MON-999', fingerprint: 'aaaa000000000999' })).expect(202)).body.incidents[0];
    expect(await incident(id)).toMatchObject({ monId: 'MON-999', runbookId: null });
  });
});

describe('ordering guard', () => {
  it('never lets an older event override a newer one', async () => {
    clock.set('2026-08-16T10:00:00Z');
    const fp = 'bbbb000000000001';
    const id = (await post('alertmanager', alertmanagerAlert({ monId: 'MON-005', fingerprint: fp, startsAt: '2026-08-16T09:00:00Z' })).expect(202)).body.incidents[0];
    await post('alertmanager', alertmanagerAlert({ monId: 'MON-005', fingerprint: fp, status: 'resolved', startsAt: '2026-08-16T09:00:00Z', endsAt: '2026-08-16T09:30:00Z' })).expect(202);
    expect((await incident(id)).status).toBe('resolved');
    // A late duplicate of the original firing notification (older event time) arrives after the resolution.
    await post('alertmanager', alertmanagerAlert({ monId: 'MON-005', fingerprint: fp, startsAt: '2026-08-16T09:00:00Z', groupKey: 'late-copy' })).expect(202);
    const body = await incident(id);
    expect(body.status).toBe('resolved');
    expect(body.reopenCount).toBe(0);
    expect(body.alerts.find((a: { fingerprint: string }) => a.fingerprint === fp).status).toBe('resolved');
  });
});

describe('repeats and storms', () => {
  it('applies the same delivery replayed 10 times once', async () => {
    clock.set('2026-08-17T10:00:00Z');
    const body = alertmanagerAlert({ monId: 'MON-012', fingerprint: 'cccc000000000001' });
    const before = await countRows('alert_events');
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push((await post('alertmanager', body).expect(202)).body);
    expect(await countRows('alert_events')).toBe(before + 1);
    expect(new Set(answers.map((a) => a.incidents[0])).size).toBe(1);
    expect(answers.filter((a) => a.duplicate)).toHaveLength(9);
    const row = await service.db.db.selectFrom('alert_events').select(['repeat_count']).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(row.repeat_count).toBe(9);
    const timeline = (await incident(answers[0].incidents[0])).timeline.filter((e: { kind: string; data: { fingerprint?: string } }) => e.kind === 'alert_firing' && e.data.fingerprint === 'cccc000000000001');
    expect(timeline).toHaveLength(1);
  });

  it('turns 50 parallel deliveries of the same new alert into exactly one incident', async () => {
    clock.set('2026-08-18T10:00:00Z');
    const bodies = Array.from({ length: 50 }, (_, i) => alertmanagerAlert({ monId: 'MON-041', fingerprint: 'dddd000000000001', groupKey: `copy-${i}` }));
    const answers = await Promise.all(bodies.map((b) => post('alertmanager', b)));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(202));
    expect(new Set(answers.map((a) => a.body.incidents[0])).size).toBe(1);
    const open = await service.db.db.selectFrom('incidents').select('id').where('group_key', '=', 'mon:MON-041').execute();
    expect(open).toHaveLength(1);
    const identical = await Promise.all(Array.from({ length: 20 }, () => post('alertmanager', bodies[0]!)));
    expect(identical.every((a) => a.status === 202 && a.body.incidents[0] === open[0]!.id)).toBe(true);
  });
});

describe('bad input: a clear 4xx, kept for inspection, nothing else changed', () => {
  it.each([
    ['not JSON', Buffer.from('{"alerts": [', 'utf8'), 'application/json', /body is not valid JSON/],
    ['an empty body', Buffer.alloc(0), 'application/json', /empty body/],
    ['a form-encoded body', Buffer.from('payload=%7B%7D', 'utf8'), 'application/x-www-form-urlencoded', /Content-Type must be application\/json/],
    ['a top-level array', Buffer.from('[]', 'utf8'), 'application/json', /invalid alertmanager payload/],
    ['labels with a number', alertmanagerAlert({ fingerprint: 'eeee000000000001', labels: { severity: 3 as unknown as string } }), 'application/json', /alerts\.0\.labels\.severity/],
    ['alerts not an array', Buffer.from(JSON.stringify({ version: '4', status: 'firing', alerts: { a: 1 } }), 'utf8'), 'application/json', /alerts/],
  ])('rejects %s with 400', async (_what, body, contentType, message) => {
    const incidents = await countRows('incidents');
    const inbox = await countRows('alert_events');
    const rejected = await countRows('rejected_deliveries');
    const res = await post('alertmanager', body, { 'Content-Type': contentType }).expect(400);
    expect(res.body.error).toMatch(message);
    expect(await countRows('incidents')).toBe(incidents);
    expect(await countRows('alert_events')).toBe(inbox);
    expect(await countRows('rejected_deliveries')).toBe(rejected + 1);
  });

  it('says where a schema problem is', async () => {
    const res = await post('grafana', Buffer.from(JSON.stringify({ alerts: [{ status: 'firing', labels: { a: 1 } }] }))).expect(400);
    expect(res.body.issues.some((i: { path: string }) => i.path.startsWith('alerts.0'))).toBe(true);
  });

  it('refuses a body over MAX_BODY_BYTES with 413', async () => {
    const incidents = await countRows('incidents');
    const huge = Buffer.from(JSON.stringify({ version: '4', alerts: [], pad: 'x'.repeat(1_100_000) }));
    const res = await post('alertmanager', huge).expect(413);
    expect(res.body.error).toMatch(/over the limit of 1048576 bytes/);
    expect(await countRows('incidents')).toBe(incidents);
  });

  it('answers 404 for an unknown source and 405 for PUT on a source other than grafana', async () => {
    await post('nagios', Buffer.from('{}')).expect(404);
    await request(service.app).put('/webhooks/alertmanager').set('Content-Type', 'application/json').send(wireBody('alertmanager-firing')).expect(405);
    await request(service.app).put('/webhooks/grafana').set('Content-Type', 'application/json').send(wireBody('grafana-firing')).expect(202);
  });

  it('counts deliveries by source and outcome in /metrics', async () => {
    const text = (await request(service.app).get('/metrics').expect(200)).text;
    expect(text).toMatch(/runbook_router_deliveries_total\{source="alertmanager",outcome="rejected"\} [1-9]/);
    expect(text).toMatch(/runbook_router_deliveries_total\{source="alertmanager",outcome="duplicate"\} [1-9]/);
    expect(text).toMatch(/runbook_router_deliveries_total\{source="pagerduty",outcome="accepted"\} 3/);
  });
});

describe('signed deliveries', () => {
  let signed: Service;
  let signedDb: TestDatabase;
  const secrets = {
    pagerduty: ['pd-old', 'pd-new'],
    grafanaHmac: 'grafana-secret',
    grafanaSignatureHeader: 'X-Grafana-Alerting-Signature',
    grafanaTimestampHeader: 'X-Grafana-Alerting-Timestamp',
    grafanaToleranceS: 300,
    alertmanagerToken: 'am-token',
    datadogToken: 'dd-token',
  };
  beforeAll(async () => {
    signedDb = await createTestDatabase();
    signed = await createTestService(signedDb, {
      PAGERDUTY_WEBHOOK_SECRETS: 'pd-old,pd-new',
      GRAFANA_WEBHOOK_HMAC_SECRET: 'grafana-secret',
      ALERTMANAGER_WEBHOOK_TOKEN: 'am-token',
      DATADOG_WEBHOOK_TOKEN: 'dd-token',
    });
  });
  afterAll(async () => {
    await signed?.stop();
    await signedDb?.drop();
  });
  const signedCounts = async () => ({
    incidents: await countRows('incidents', signed),
    alert_events: await countRows('alert_events', signed),
    rejected_deliveries: await countRows('rejected_deliveries', signed),
    alert_instances: await countRows('alert_instances', signed),
  });

  it.each([
    ['alertmanager', 'alertmanager-firing'],
    ['grafana', 'grafana-firing'],
    ['datadog', 'datadog-triggered'],
    ['pagerduty', 'pagerduty-triggered'],
  ] as const)('%s: unsigned gets 401 and changes nothing; signed gets 202', async (source, fixture) => {
    const body = wireBody(fixture);
    const before = await signedCounts();
    const denied = await request(signed.app).post(`/webhooks/${source}`).set('Content-Type', 'application/json').send(body).expect(401);
    expect(denied.body.error).toMatch(/authentication failed/);
    expect(await signedCounts()).toEqual(before);

    // Grafana and PagerDuty sign the body itself: one changed byte is refused. Alertmanager and Datadog send a token.
    const bodySigned = source === 'grafana' || source === 'pagerduty';
    const tampered = await request(signed.app).post(`/webhooks/${source}`).set(signedHeaders(source, body, secrets)).send(`${body} `).expect(bodySigned ? 401 : 202);
    if (bodySigned) expect(await signedCounts()).toEqual(before);
    else expect(tampered.body.duplicate).toBe(false);

    const ok = await request(signed.app).post(`/webhooks/${source}`).set(signedHeaders(source, body, secrets)).send(body).expect(202);
    expect(ok.body.incidents).toHaveLength(1);
    expect((await signedCounts()).alert_events).toBe(before.alert_events + (bodySigned ? 1 : 2));
  });

  it('accepts a PagerDuty signature made with either secret during rotation', async () => {
    const body = wireBody('pagerduty-acknowledged');
    const onlyNew = signedHeaders('pagerduty', body, { ...secrets, pagerduty: ['pd-new'] });
    await request(signed.app).post('/webhooks/pagerduty').set(onlyNew).set('X-Webhook-Id', 'rot-1').send(body).expect(202);
    const wrong = signedHeaders('pagerduty', body, { ...secrets, pagerduty: ['someone-else'] });
    await request(signed.app).post('/webhooks/pagerduty').set(wrong).set('X-Webhook-Id', 'rot-2').send(body).expect(401);
  });

  it('refuses a Grafana signature outside the timestamp window', async () => {
    const body = wireBody('grafana-resolved');
    const stale = signedHeaders('grafana', body, secrets, new Date(Date.now() - 10 * 60_000));
    await request(signed.app).post('/webhooks/grafana').set(stale).send(body).expect(401);
  });
});
