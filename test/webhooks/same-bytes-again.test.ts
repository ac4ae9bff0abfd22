import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapters } from '../../src/alerts/adapters.js';
import { deliveryKey } from '../../src/alerts/delivery-key.js';
import { fixedClock } from '../../src/clock.js';
import { receiveBatch, type Delivery } from '../../src/incidents/receive.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from '../support/test-database.js';
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

  it('is applied again when a responder resolved its incident while it still fired: an Alertmanager repeat hours later opens an incident, as a repeat with other bytes does', async () => {
    const firing = alertmanagerAlert({ monId: 'MON-014', fingerprint: 'b17e000000000041', startsAt: '2026-09-01T02:50:00Z', groupKey: 'g-41' });
    const first = (await post('alertmanager', firing)).body.incidents[0];
    await request(service.app).post(`/api/incidents/${first}/resolve`).send({ by: 'dana' }).expect(200);
    clock.advance(4 * 60 * 60_000);
    const repeat = await post('alertmanager', firing);
    expect(repeat.body).toMatchObject({ duplicate: false, alerts: 1 });
    const [resolved, reopened, ...more] = await incidentsOf('MON-014');
    expect(more).toEqual([]);
    expect(resolved).toMatchObject({ id: first, status: 'resolved' });
    expect(reopened).toMatchObject({ status: 'triggered' });
    expect(repeat.body.incidents).toEqual([reopened!.id]);
    // The repeat's own retry is a retry.
    clock.advance(60_000);
    expect((await post('alertmanager', firing)).body).toMatchObject({ incidents: [reopened!.id], duplicate: true });
  });
});

describe('a re-fire of one rule while another rule of its MON- id has the open incident', () => {
  const rule = (ruleId: number, state: 'alerting' | 'ok') => wireBody(state === 'ok' ? 'grafana-legacy-ok' : 'grafana-legacy-alerting', (b) => {
    b.ruleId = ruleId;
    b.ruleName = `Pool rule ${ruleId}`;
    b.tags.mon_id = 'MON-006';
  });

  it('joins that incident, so the other rule recovering does not resolve it while this one fires; a retry is answered with it', async () => {
    const first = (await post('grafana', rule(70, 'alerting'))).body.incidents[0];
    clock.advance(60_000);
    await post('grafana', rule(70, 'ok'));
    clock.advance(40 * 60_000);
    const second = (await post('grafana', rule(71, 'alerting'))).body.incidents[0];
    expect(second).not.toBe(first);

    clock.advance(60_000);
    expect((await post('grafana', rule(70, 'alerting'))).body).toMatchObject({ incidents: [second], duplicate: false });
    clock.advance(60_000);
    expect((await post('grafana', rule(70, 'alerting'))).body).toMatchObject({ incidents: [second], duplicate: true });
    clock.advance(60_000);
    await post('grafana', rule(71, 'ok'));
    expect((await incidentsOf('MON-006')).map((i) => [i.id, i.status])).toEqual([[first, 'resolved'], [second, 'triggered']]);
  });
});

describe.skipIf(!onRealPostgres)('a re-fire beside a batch that locks incidents in key order (PostgreSQL)', () => {
  it('takes its incident locks in the same order, so neither waits on the other in a cycle', async () => {
    const ctx = () => ({ routing: service.routing(), now: clock.now(), reopenWindowMs: service.config.reopenWindowMs, flappingAfter: service.config.flappingAfter });
    const delivery = (source: 'grafana' | 'alertmanager', rawBody: string): Delivery => {
      const headers = { 'content-type': 'application/json' };
      return { source, deliveryKey: deliveryKey(source, headers, Buffer.from(rawBody)), rawBody, headers, receivedAt: clock.now(), alerts: adapters[source](JSON.parse(rawBody), clock.now()) };
    };
    // MON-006's incident is open with rule 70 firing (above), so rule 70's ok body, seen before, is a re-fire.
    const okBody = wireBody('grafana-legacy-ok', (b) => {
      b.ruleId = 70;
      b.ruleName = 'Pool rule 70';
      b.tags.mon_id = 'MON-006';
    });
    await post('alertmanager', alertmanagerAlert({ monId: 'MON-013', fingerprint: 'b17e000000000013', startsAt: '2026-09-01T03:00:00Z', groupKey: 'g-13' }));
    const other = new pg.Client({ connectionString: database.url! });
    await other.connect();
    try {
      await other.query('begin');
      // As receive_firing on another replica: MON-006's incident first, then MON-013's (group-key order).
      await other.query(`select id from incidents where group_key = 'mon:MON-006' and status <> 'resolved' for update`);
      const batch = receiveBatch(service.db.db, [delivery('grafana', okBody), delivery('alertmanager', alertmanagerAlert({ monId: 'MON-013', fingerprint: 'b17e000000000014', startsAt: '2026-09-01T03:30:00Z', groupKey: 'g-13' }))], ctx);
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      await other.query(`select id from incidents where group_key = 'mon:MON-013' and status <> 'resolved' for update`);
      // Granted at once: the batch waits for MON-006 before it locks MON-013.
      expect(Date.now() - started).toBeLessThan(500);
      await other.query('commit');
      expect((await batch).outcomes.map((o) => o.duplicate)).toEqual([false, false]);
    } finally {
      await other.end();
    }
  });
});
