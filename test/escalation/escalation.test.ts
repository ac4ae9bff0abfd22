import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { runEscalationTick } from '../../src/incidents/escalation-tick.js';
import { runOutboxTick } from '../../src/incidents/outbox.js';
import type { Service } from '../../src/service.js';
import { startSink } from '../support/http-sink.js';
import { runbooksWithMatrix, sinkMatrix } from '../support/runbooks-dir.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerAlert } from '../support/webhook-payloads.js';

type Sink = Awaited<ReturnType<typeof startSink>>;
const T0 = '2026-09-01T03:00:00Z';

let database: TestDatabase;
let sink: Sink;
let service: Service;
const clock = fixedClock(T0);
const closers: (() => Promise<void>)[] = [];

async function start(env: Record<string, string> = {}, matrix = { ackWithin: '5m', repeatEvery: '10m' }) {
  const dir = await runbooksWithMatrix(sinkMatrix(sink.url, matrix));
  return createTestService(database, { RUNBOOKS_DIR: dir, PUBLIC_URL: 'https://rr.example.com', NOTIFY_BACKOFF: '1s', ...env }, { clock });
}

/** One round of what the background loops do: fire due escalations, then send what they enqueued. */
async function tick(s: Service = service) {
  const fired = await runEscalationTick(s.db.db, { routing: s.routing(), now: clock.now(), publicUrl: s.config.publicUrl });
  const sent = await runOutboxTick(s.db.db, () => clock.now(), s.config.notify);
  return { fired: fired.fired, ...sent };
}

const fire = (s: Service, monId: string, fingerprint = 'ffff000000000001') =>
  request(s.app).post('/webhooks/alertmanager').set('Content-Type', 'application/json').send(alertmanagerAlert({ monId, fingerprint })).expect(202);

beforeEach(async () => {
  clock.set(T0);
  database = await createTestDatabase();
  sink = await startSink();
});
afterEach(async () => {
  await service?.stop().catch(() => undefined);
  await sink.close();
  await database.drop();
});
afterAll(async () => {
  for (const c of closers) await c();
});

describe('escalation through the matrix chain', () => {
  it('notifies level 1 at open, level 2 after ack_within, repeats the last level, and nothing after acknowledge', async () => {
    service = await start();
    const id = (await fire(service, 'MON-005')).body.incidents[0];
    expect(await tick()).toMatchObject({ fired: 1, sent: 1 });
    expect(sink.paths()).toEqual(['/level-one']);
    expect(sink.received[0]!.body).toMatchObject({ type: 'escalation', incidentId: id, monId: 'MON-005', runbookId: 'RUN-001', severity: 'critical', level: 1, url: `https://rr.example.com/incidents/${id}` });

    clock.advance(4 * 60_000);
    expect(await tick()).toMatchObject({ fired: 0, sent: 0 });
    clock.advance(61_000);
    expect(await tick()).toMatchObject({ fired: 1, sent: 2 });
    expect(sink.paths()).toEqual(['/level-one', '/level-two', '/slack']);
    const slack = sink.received.find((r) => r.path === '/slack')!.body;
    expect(slack.text).toContain(`<https://rr.example.com/incidents/${id}|Open incident #${id}>`);

    clock.advance(10 * 60_000);
    expect(await tick()).toMatchObject({ fired: 1, sent: 2 });
    expect(sink.paths()).toEqual(['/level-one', '/level-two', '/slack', '/level-two', '/slack']);

    await request(service.app).post(`/api/incidents/${id}/acknowledge`).send({ by: 'dana' }).expect(200);
    clock.advance(60 * 60_000);
    expect(await tick()).toMatchObject({ fired: 0, sent: 0 });
    expect(sink.received).toHaveLength(5);

    const keys = sink.received.map((r) => r.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(5);
    const detail = (await request(service.app).get(`/api/incidents/${id}`).expect(200)).body;
    expect(detail).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'dana', escalationLevel: 2, nextEscalationAt: null });
    const kinds = detail.timeline.map((e: { kind: string }) => e.kind);
    expect(kinds.filter((k: string) => k === 'escalated')).toHaveLength(2);
    expect(kinds.filter((k: string) => k === 'escalation_repeated')).toHaveLength(1);
    expect(kinds.filter((k: string) => k === 'notification_sent')).toHaveLength(5);
    expect(kinds.at(-1)).toBe('acknowledged');
  });

  it('schedules a drill of the runbook within 7 days once the incident escalated past level 1', async () => {
    service = await start();
    const id = (await fire(service, 'MON-005')).body.incidents[0];
    await tick();
    clock.advance(5 * 60_000);
    await tick();
    const drill = await service.db.db.selectFrom('drills').selectAll().where('incident_id', '=', id).executeTakeFirstOrThrow();
    expect(drill).toMatchObject({ runbook_id: 'RUN-001', trigger: 'escalation', status: 'scheduled', reason: `escalated incident ${id}` });
    expect(drill.due_at.getTime()).toBe(clock.now().getTime() + 7 * 86_400_000);
    clock.advance(10 * 60_000);
    await tick();
    expect(await service.db.db.selectFrom('drills').select('id').where('incident_id', '=', id).execute()).toHaveLength(1);
  });

  it('opens an info incident without paging anyone', async () => {
    service = await start();
    const id = (await fire(service, 'MON-012')).body.incidents[0];
    clock.advance(60 * 60_000);
    expect(await tick()).toMatchObject({ fired: 0, sent: 0 });
    expect(sink.received).toHaveLength(0);
    expect((await request(service.app).get(`/api/incidents/${id}`)).body).toMatchObject({ severity: 'info', status: 'triggered', nextEscalationAt: null });
  });

  it('stops escalating when the incident resolves', async () => {
    service = await start();
    const id = (await fire(service, 'MON-005')).body.incidents[0];
    await tick();
    await request(service.app).post(`/api/incidents/${id}/resolve`).send({ by: 'sam' }).expect(200);
    clock.advance(60 * 60_000);
    expect(await tick()).toMatchObject({ fired: 0 });
    expect(sink.paths()).toEqual(['/level-one']);
  });
});

describe('a contact removed from the matrix while an incident escalates to it', () => {
  it('is named by the reload, and the level that fires to it is reported as paging nobody', async () => {
    const matrix = sinkMatrix(sink.url, { ackWithin: '5m' });
    const dir = await runbooksWithMatrix(matrix);
    service = await createTestService(database, { RUNBOOKS_DIR: dir, PUBLIC_URL: 'https://rr.example.com' }, { clock });
    const id = (await fire(service, 'MON-005')).body.incidents[0];
    expect(await tick()).toMatchObject({ fired: 1, sent: 1 });

    // The lead's contact is renamed: MON-005's chain in the matrix follows, the open incident keeps the chain it opened with.
    await fs.writeFile(path.join(dir, 'matrix.yml'), matrix.replaceAll('level-two', 'db-lead'));
    const reload = await request(service.app).post('/api/runbooks/reload').send({}).expect(200);
    expect(reload.body).toMatchObject({ ok: true, warnings: [`open incident ${id} escalates to contact "level-two", which the matrix no longer has (or has no channel): its pages will not be sent`] });

    // Renaming level-one instead names nobody: this incident has paged level one already, and level two repeats.
    await fs.writeFile(path.join(dir, 'matrix.yml'), matrix.replaceAll('level-one', 'on-call'));
    expect((await request(service.app).post('/api/runbooks/reload').send({}).expect(200)).body.warnings).toEqual([]);
    await fs.writeFile(path.join(dir, 'matrix.yml'), matrix.replaceAll('level-two', 'db-lead'));
    await request(service.app).post('/api/runbooks/reload').send({}).expect(200);

    clock.advance(5 * 60_000);
    const round = await runEscalationTick(service.db.db, { routing: service.routing(), now: clock.now(), publicUrl: service.config.publicUrl });
    expect(round).toMatchObject({ fired: 1, unreachable: [{ incidentId: id, contact: 'level-two' }] });
    const failed = await service.db.db.selectFrom('incident_events').select('data').where('incident_id', '=', id).where('kind', '=', 'notification_failed').execute();
    expect(failed.map((e) => e.data)).toEqual([{ contact: 'level-two', level: 2, error: 'contact "level-two" is not in the matrix or has no channel' }]);
    // Once acknowledged, it pages nobody: nothing to warn about.
    await request(service.app).post(`/api/incidents/${id}/acknowledge`).send({ by: 'dana' }).expect(200);
    expect((await request(service.app).post('/api/runbooks/reload').send({}).expect(200)).body.warnings).toEqual([]);
  });
});

describe('a reopening after a matrix reload', () => {
  const resolve = (s: Service, monId: string) =>
    request(s.app).post('/webhooks/alertmanager').set('Content-Type', 'application/json')
      .send(alertmanagerAlert({ monId, fingerprint: 'ffff000000000001', status: 'resolved', startsAt: '2026-09-01T02:59:00Z', endsAt: '2026-09-01T03:01:00Z' })).expect(202);
  const refire = (s: Service, monId: string) =>
    request(s.app).post('/webhooks/alertmanager').set('Content-Type', 'application/json')
      .send(alertmanagerAlert({ monId, fingerprint: 'ffff000000000001', startsAt: '2026-09-01T03:02:00Z' })).expect(202);

  it('pages the chain the matrix has now, not the one the incident first opened with', async () => {
    const matrix = sinkMatrix(sink.url, { ackWithin: '5m' });
    const dir = await runbooksWithMatrix(matrix);
    service = await createTestService(database, { RUNBOOKS_DIR: dir, PUBLIC_URL: 'https://rr.example.com' }, { clock });
    const id = (await fire(service, 'MON-005')).body.incidents[0];
    await tick();
    clock.advance(60_000);
    await resolve(service, 'MON-005');
    // Level one is gone from the matrix; MON-005 now pages the lead first.
    await fs.writeFile(path.join(dir, 'matrix.yml'), matrix.replace(/ {2}level-one:.*\n/, '').replaceAll('escalation: [level-one, level-two]', 'escalation: [level-two]').replaceAll('escalation: [level-one]', 'escalation: [level-two]'));
    await request(service.app).post('/api/runbooks/reload').send({}).expect(200);
    clock.advance(60_000);
    expect((await refire(service, 'MON-005')).body.incidents).toEqual([id]);
    expect(await tick()).toMatchObject({ fired: 1, sent: 2 });
    expect(sink.paths()).toEqual(['/level-one', '/level-two', '/slack']);
    const incident = (await request(service.app).get(`/api/incidents/${id}`).expect(200)).body;
    expect(incident).toMatchObject({ status: 'triggered', escalationChain: ['level-two'] });
    expect(incident.timeline.filter((e: { kind: string }) => e.kind === 'notification_failed')).toEqual([]);
  });

  it('pages a reopening whose severity a reload raised from info to critical', async () => {
    const matrix = sinkMatrix(sink.url, { ackWithin: '5m' });
    const dir = await runbooksWithMatrix(matrix);
    service = await createTestService(database, { RUNBOOKS_DIR: dir, PUBLIC_URL: 'https://rr.example.com' }, { clock });
    const id = (await fire(service, 'MON-012')).body.incidents[0];
    expect(await tick()).toMatchObject({ fired: 0, sent: 0 });
    clock.advance(60_000);
    await resolve(service, 'MON-012');
    await fs.writeFile(path.join(dir, 'matrix.yml'), matrix.replace('severity: info', 'severity: critical'));
    await request(service.app).post('/api/runbooks/reload').send({}).expect(200);
    clock.advance(60_000);
    await refire(service, 'MON-012');
    expect(await tick()).toMatchObject({ fired: 1, sent: 1 });
    expect(sink.paths()).toEqual(['/level-one']);
    expect((await request(service.app).get(`/api/incidents/${id}`).expect(200)).body).toMatchObject({ status: 'triggered', severity: 'critical' });
  });
});

describe('restart mid-escalation', () => {
  it('sends the level that fell due while stopped exactly once, skipping none', async () => {
    service = await start();
    const id = (await fire(service, 'MON-005')).body.incidents[0];
    await tick();
    expect(sink.paths()).toEqual(['/level-one']);
    await service.stop();

    clock.advance(30 * 60_000); // ack_within (5m) and two repeat periods pass while nothing runs
    service = await start();
    expect(await tick()).toMatchObject({ fired: 1, sent: 2 });
    expect(await tick()).toMatchObject({ fired: 0, sent: 0 });
    expect(sink.paths()).toEqual(['/level-one', '/level-two', '/slack']);
    const detail = (await request(service.app).get(`/api/incidents/${id}`)).body;
    expect(detail.escalationLevel).toBe(2);
    // The next repeat counts from when the level was actually sent, so a restart never fires a burst.
    expect(detail.nextEscalationAt).toBe(new Date(clock.now().getTime() + 10 * 60_000).toISOString());
  });
});

describe('outbox delivery', () => {
  it('retries a failing receiver with backoff and the same Idempotency-Key until it answers 200', async () => {
    await sink.close();
    sink = await startSink((_req, index) => (index < 3 ? 500 : 200));
    service = await start({ NOTIFY_BACKOFF: '10s', NOTIFY_MAX_ATTEMPTS: '6' });
    const id = (await fire(service, 'MON-005')).body.incidents[0];
    expect(await tick()).toMatchObject({ fired: 1, retried: 1 });
    for (const wait of [10_000, 20_000, 40_000]) {
      expect(await tick()).toMatchObject({ sent: 0, retried: 0 }); // not due yet
      clock.advance(wait);
      await tick();
    }
    expect(sink.received.map((r) => r.path)).toEqual(['/level-one', '/level-one', '/level-one', '/level-one']);
    expect(new Set(sink.received.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    const row = await service.db.db.selectFrom('notifications').selectAll().where('incident_id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'sent', attempts: 4 });
    clock.advance(60_000);
    await tick();
    expect(sink.received).toHaveLength(4);
  });

  it('marks a notification to a receiver that never answers as failed, visible in the timeline', async () => {
    await sink.close();
    sink = await startSink(() => 'hang');
    service = await start({ NOTIFY_TIMEOUT: '200ms', NOTIFY_MAX_ATTEMPTS: '2', NOTIFY_BACKOFF: '1s' });
    const id = (await fire(service, 'MON-005')).body.incidents[0];
    expect(await tick()).toMatchObject({ retried: 1 });
    clock.advance(1000);
    expect(await tick()).toMatchObject({ failed: 1 });
    const row = await service.db.db.selectFrom('notifications').selectAll().where('incident_id', '=', id).executeTakeFirstOrThrow();
    expect(row.status).toBe('failed');
    expect(row.last_error).toMatch(/no answer within 200ms/);
    const timeline = (await request(service.app).get(`/api/incidents/${id}`)).body.timeline;
    expect(timeline.at(-1)).toMatchObject({ kind: 'notification_failed', data: { contact: 'level-one', attempts: 2 } });
  });
});
