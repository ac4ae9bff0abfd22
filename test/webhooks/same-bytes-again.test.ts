import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerAlert, wireBody } from '../support/webhook-payloads.js';

// Senders other than PagerDuty send no delivery id, so a delivery is known by its body's hash. Grafana's legacy alerting
// has no timestamps: a rule that goes alerting → ok → alerting sends the very bytes of its first alerting again.
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

const post = (source: string, body: string) => request(service.app).post(`/webhooks/${source}`).set('Content-Type', 'application/json').send(body).expect(202);
const incidentsOf = (monId: string) => service.db.db.selectFrom('incidents').select(['id', 'status', 'reopen_count', 'next_escalation_at']).where('mon_id', '=', monId).orderBy('id').execute();
const inboxRows = async () => Number((await service.db.db.selectFrom('alert_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

describe('a notification with the same bytes as an earlier one', () => {
  const alerting = wireBody('grafana-legacy-alerting');
  const ok = wireBody('grafana-legacy-ok');

  it('is a retry while what it says is still true: answered again, applied once', async () => {
    const first = await post('grafana', alerting);
    const rows = await inboxRows();
    clock.advance(60_000);
    const retry = await post('grafana', alerting);
    expect(retry.body).toEqual({ incidents: first.body.incidents, duplicate: true, alerts: 1 });
    expect(await inboxRows()).toBe(rows);
    expect(await incidentsOf('MON-005')).toMatchObject([{ status: 'triggered', reopen_count: 0 }]);
  });

  it('is applied again once its alert has changed since: a legacy rule firing again after ok reopens its incident and pages', async () => {
    clock.advance(60_000);
    await post('grafana', ok);
    expect(await incidentsOf('MON-005')).toMatchObject([{ status: 'resolved', next_escalation_at: null }]);

    clock.advance(5 * 60_000);
    const again = await post('grafana', alerting);
    expect(again.body).toMatchObject({ duplicate: false, alerts: 1 });
    const [incident, ...more] = await incidentsOf('MON-005');
    expect(more).toEqual([]);
    expect(incident).toMatchObject({ status: 'triggered', reopen_count: 1 });
    expect(incident!.next_escalation_at).not.toBeNull();
    expect(again.body.incidents).toEqual([incident!.id]);

    // Its own retry is a retry, and the same ok again resolves it again.
    clock.advance(60_000);
    const rows = await inboxRows();
    expect((await post('grafana', alerting)).body).toMatchObject({ duplicate: true });
    expect(await inboxRows()).toBe(rows);
    clock.advance(60_000);
    expect((await post('grafana', ok)).body).toMatchObject({ duplicate: false });
    expect(await incidentsOf('MON-005')).toMatchObject([{ status: 'resolved', reopen_count: 1 }]);
    const kinds = (await service.db.db.selectFrom('incident_events').select('kind').where('incident_id', '=', incident!.id).orderBy('id').execute()).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'alert_firing' || k === 'alert_resolved' || k === 'reopened' || k === 'resolved')).toEqual([
      'alert_firing', 'alert_resolved', 'resolved', 'reopened', 'alert_firing', 'alert_resolved', 'resolved',
    ]);
  });

  it('is still a retry when it is older than what changed its alert: an Alertmanager firing retried after its resolution reopens nothing', async () => {
    const firing = alertmanagerAlert({ monId: 'MON-012', fingerprint: 'b17e000000000001', startsAt: '2026-09-01T02:50:00Z', groupKey: 'g-1' });
    await post('alertmanager', firing);
    clock.advance(60_000);
    await post('alertmanager', alertmanagerAlert({ monId: 'MON-012', fingerprint: 'b17e000000000001', status: 'resolved', startsAt: '2026-09-01T02:50:00Z', endsAt: '2026-09-01T03:05:00Z', groupKey: 'g-1' }));
    expect(await incidentsOf('MON-012')).toMatchObject([{ status: 'resolved', reopen_count: 0 }]);
    clock.advance(60_000);
    await post('alertmanager', firing);
    expect(await incidentsOf('MON-012')).toMatchObject([{ status: 'resolved', reopen_count: 0, next_escalation_at: null }]);
  });
});
