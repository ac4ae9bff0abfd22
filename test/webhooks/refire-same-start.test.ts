import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerAlert } from '../support/webhook-payloads.js';

// When Prometheus cannot reach Alertmanager for a few resend intervals, Alertmanager lets the alert expire and sends its
// resolution; once Prometheus reaches it again, the alert comes back with its first startsAt. By its date that firing is
// older than the resolution, and the ordering guard dropped it and every repeat of it: nobody was paged while it fired.
const clock = fixedClock('2026-09-01T03:00:00Z');
let database: TestDatabase;
let service: Service;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database, { REOPEN_WINDOW: '30m' }, { clock });
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

const post = (body: string) => request(service.app).post('/webhooks/alertmanager').set('Content-Type', 'application/json').send(body).expect(202);
const incidentsOf = (monId: string) => service.db.db.selectFrom('incidents').select(['id', 'status', 'reopen_count']).where('mon_id', '=', monId).orderBy('id').execute();
const instance = (fingerprint: string) => service.db.db.selectFrom('alert_instances').select(['status', 'last_event_at']).where('fingerprint', '=', fingerprint).executeTakeFirstOrThrow();
const STARTS = '2026-09-01T02:50:00Z';

describe('an Alertmanager alert firing again with its first startsAt', () => {
  it('reopens its incident when it comes more than a minute after the resolution was applied', async () => {
    const firing = alertmanagerAlert({ monId: 'MON-020', fingerprint: 'ref1000000000001', startsAt: STARTS, groupKey: 'g-r1' });
    const [id] = (await post(firing)).body.incidents;
    clock.advance(15 * 60_000);
    await post(alertmanagerAlert({ monId: 'MON-020', fingerprint: 'ref1000000000001', status: 'resolved', startsAt: STARTS, endsAt: '2026-09-01T03:14:00Z', groupKey: 'g-r1' }));
    expect(await incidentsOf('MON-020')).toMatchObject([{ status: 'resolved' }]);
    // A copy within the minute is a stale copy.
    clock.advance(30_000);
    await post(firing);
    expect(await incidentsOf('MON-020')).toMatchObject([{ status: 'resolved', reopen_count: 0 }]);
    // Five minutes on, the same alert (same bytes: same startsAt, zero endsAt) is the alert firing again.
    clock.advance(5 * 60_000);
    expect((await post(firing)).body.incidents).toEqual([id]);
    expect(await incidentsOf('MON-020')).toMatchObject([{ id, status: 'triggered', reopen_count: 1 }]);
    // The instance's last event time moves just past the resolution's, not back, so the next resolution still applies.
    expect((await instance('ref1000000000001')).last_event_at.toISOString()).toBe('2026-09-01T03:14:00.001Z');
    clock.advance(60_000);
    await post(alertmanagerAlert({ monId: 'MON-020', fingerprint: 'ref1000000000001', status: 'resolved', startsAt: STARTS, endsAt: '2026-09-01T03:21:00Z', groupKey: 'g-r1' }));
    expect(await incidentsOf('MON-020')).toMatchObject([{ status: 'resolved', reopen_count: 1 }]);
  });

  it('keeps the episode current after a re-fire: a repeat reopens it after a responder resolved it, and a late copy of the old resolution changes nothing', async () => {
    clock.set('2026-09-02T05:00:00Z');
    const starts = '2026-09-02T04:50:00Z';
    const firing = alertmanagerAlert({ monId: 'MON-022', fingerprint: 'ref3000000000001', startsAt: starts, groupKey: 'g-r3' });
    const expired = alertmanagerAlert({ monId: 'MON-022', fingerprint: 'ref3000000000001', status: 'resolved', startsAt: starts, endsAt: '2026-09-02T05:14:00Z', groupKey: 'g-r3' });
    const [id] = (await post(firing)).body.incidents;
    clock.advance(15 * 60_000);
    await post(expired);
    clock.advance(5 * 60_000);
    expect((await post(firing)).body.incidents).toEqual([id]);
    expect(await incidentsOf('MON-022')).toMatchObject([{ status: 'triggered', reopen_count: 1 }]);
    // A copy of the expiry's resolution, seen before: no newer than what re-fired the alert.
    clock.advance(60_000);
    await post(expired);
    expect(await incidentsOf('MON-022')).toMatchObject([{ status: 'triggered' }]);
    // A responder resolves it while it fires; Alertmanager's repeat (the same bytes) reopens it, as it would without the re-fire.
    await request(service.app).post(`/api/incidents/${id}/resolve`).send({ by: 'dana' }).expect(200);
    clock.advance(5 * 60_000);
    await post(firing);
    expect(await incidentsOf('MON-022')).toMatchObject([{ status: 'triggered', reopen_count: 2 }]);
    // Other bytes of the same episode are current too: they update the instance.
    clock.advance(60_000);
    await post(alertmanagerAlert({ monId: 'MON-022', fingerprint: 'ref3000000000001', startsAt: starts, groupKey: 'g-r3', annotations: { description: 'still going' } }));
    const row = await service.db.db.selectFrom('alert_instances').select(['values', 'last_seen_at']).where('fingerprint', '=', 'ref3000000000001').executeTakeFirstOrThrow();
    expect(row.values).toMatchObject({ description: 'still going' });
    expect(row.last_seen_at.toISOString()).toBe(clock.now().toISOString());
  });

  it('fires again in an incident still open for another alert (the one-statement path)', async () => {
    const a = alertmanagerAlert({ monId: 'MON-021', fingerprint: 'ref2000000000001', startsAt: STARTS, groupKey: 'g-r2' });
    const [id] = (await post(a)).body.incidents;
    await post(alertmanagerAlert({ monId: 'MON-021', fingerprint: 'ref2000000000002', startsAt: STARTS, groupKey: 'g-r2' }));
    clock.advance(10 * 60_000);
    await post(alertmanagerAlert({ monId: 'MON-021', fingerprint: 'ref2000000000002', status: 'resolved', startsAt: STARTS, endsAt: '2026-09-01T03:30:00Z', groupKey: 'g-r2' }));
    expect((await instance('ref2000000000002')).status).toBe('resolved');
    clock.advance(5 * 60_000);
    // Bytes not seen before (another annotation), every alert firing, the incident open: receive_firing applies it.
    const back = await post(alertmanagerAlert({ monId: 'MON-021', fingerprint: 'ref2000000000002', startsAt: STARTS, groupKey: 'g-r2', annotations: { description: 'back' } }));
    expect(back.body.incidents).toEqual([id]);
    expect((await instance('ref2000000000002')).status).toBe('firing');
    const events = await service.db.db.selectFrom('incident_events').select('kind').where('incident_id', '=', id).orderBy('id').execute();
    expect(events.map((e) => e.kind).filter((k) => k.startsWith('alert_'))).toEqual(['alert_firing', 'alert_firing', 'alert_resolved', 'alert_firing']);
  });
});
