import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerAlert } from '../support/webhook-payloads.js';

// A resolution that arrives before its firing (the firing was refused with a 503 and retried later, or the two reached
// two replicas at once and the resolution went first), for an alert that has no incident yet.
const clock = fixedClock('2026-09-01T10:10:00Z');
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

const post = (monId: string, fingerprint: string, status: 'firing' | 'resolved', startsAt: string, endsAt: string | undefined, groupKey: string) =>
  request(service.app)
    .post('/webhooks/alertmanager')
    .set('Content-Type', 'application/json')
    .send(alertmanagerAlert({ monId, fingerprint, status, startsAt, ...(endsAt ? { endsAt } : {}), groupKey }))
    .expect(202);
const incidentsOf = (monId: string) => service.db.db.selectFrom('incidents').select(['id', 'status', 'next_escalation_at']).where('mon_id', '=', monId).execute();
const instanceOf = (fingerprint: string) => service.db.db.selectFrom('alert_instances').select(['status', 'last_event_at']).where('fingerprint', '=', fingerprint).executeTakeFirstOrThrow();
const early = () => service.db.db.selectFrom('early_resolutions').selectAll().execute();

describe('a resolution that arrives before its firing', () => {
  it('is kept, and the late firing it resolves opens an incident that is resolved at once, paging nobody', async () => {
    const resolution = await post('MON-005', 'early-1', 'resolved', '2026-09-01T10:00:00Z', '2026-09-01T10:05:00Z', 'r-1');
    expect(resolution.body).toMatchObject({ incidents: [] });
    expect(await early()).toMatchObject([{ fingerprint: 'early-1', resolved_event_at: new Date('2026-09-01T10:05:00Z') }]);

    clock.advance(30_000);
    const firing = await post('MON-005', 'early-1', 'firing', '2026-09-01T10:00:00Z', undefined, 'f-1');
    const [incident, ...more] = await incidentsOf('MON-005');
    expect(more).toEqual([]);
    expect(firing.body.incidents).toEqual([incident!.id]);
    expect(incident).toMatchObject({ status: 'resolved', next_escalation_at: null });
    expect(await instanceOf('early-1')).toEqual({ status: 'resolved', last_event_at: new Date('2026-09-01T10:05:00Z') });
    expect(await early()).toEqual([]);
    const kinds = (await service.db.db.selectFrom('incident_events').select('kind').where('incident_id', '=', incident!.id).orderBy('id').execute()).map((e) => e.kind);
    expect(kinds).toEqual(['opened', 'alert_firing', 'alert_resolved', 'resolved']);
    expect(await service.db.db.selectFrom('notifications').select('id').where('incident_id', '=', incident!.id).execute()).toEqual([]);
  });

  it('does not hold back a newer firing: the alert fired again, so its incident opens and pages', async () => {
    await post('MON-006', 'early-2', 'resolved', '2026-09-01T09:00:00Z', '2026-09-01T09:05:00Z', 'r-2');
    await post('MON-006', 'early-2', 'firing', '2026-09-01T10:00:00Z', undefined, 'f-2');
    expect((await incidentsOf('MON-006')).map((i) => i.status)).toEqual(['triggered']);
    expect((await instanceOf('early-2')).status).toBe('firing');
    expect(await early()).toEqual([]);
  });

  it('is forgotten after a week', async () => {
    await post('MON-007', 'early-3', 'resolved', '2026-09-01T10:00:00Z', '2026-09-01T10:05:00Z', 'r-3');
    clock.advance(8 * 86_400_000);
    await post('MON-008', 'early-4', 'resolved', '2026-09-09T10:00:00Z', '2026-09-09T10:05:00Z', 'r-4');
    expect((await early()).map((r) => r.fingerprint)).toEqual(['early-4']);
  });
});
