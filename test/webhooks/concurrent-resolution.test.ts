import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adapters } from '../../src/alerts/adapters.js';
import { deliveryKey } from '../../src/alerts/delivery-key.js';
import { fixedClock } from '../../src/clock.js';
import { applyDeliveries, receiveBatch, type Delivery, type ReceiveContext } from '../../src/incidents/receive.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerAlert } from '../support/webhook-payloads.js';

// A firing and its resolution handled at the same moment: two replicas, or the two batches one process keeps in flight
// on PostgreSQL. One batch is held open mid-transaction (another connection), so this needs the real server.
describe.runIf(process.env.DATABASE_URL)('a resolution handled while another batch changes the same group', () => {
  const clock = fixedClock('2026-09-01T10:10:00Z');
  let database: TestDatabase;
  let service: Service;

  beforeEach(async () => {
    database = await createTestDatabase();
    service = await createTestService(database, {}, { clock });
  });
  afterEach(async () => {
    await service.stop();
    await database.drop();
  });

  const context = (): ReceiveContext => ({ routing: service.routing(), now: clock.now(), reopenWindowMs: service.config.reopenWindowMs, flappingAfter: service.config.flappingAfter });
  const delivery = (opts: Parameters<typeof alertmanagerAlert>[0]): Delivery => {
    const rawBody = alertmanagerAlert({ monId: 'MON-005', ...opts });
    const headers = { 'content-type': 'application/json' };
    const receivedAt = clock.now();
    return { source: 'alertmanager', deliveryKey: deliveryKey('alertmanager', headers, Buffer.from(rawBody)), rawBody, headers, receivedAt, alerts: adapters.alertmanager(JSON.parse(rawBody), receivedAt) };
  };
  const firing = (startsAt: string, groupKey: string) => delivery({ fingerprint: 'fp-1', status: 'firing', startsAt, groupKey });
  const resolved = (startsAt: string, endsAt: string, groupKey: string) => delivery({ fingerprint: 'fp-1', status: 'resolved', startsAt, endsAt, groupKey });

  /** Applies `held` in a transaction left open until the returned release() is called. */
  async function holdOpen(held: Delivery) {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let applied!: () => void;
    const ready = new Promise<void>((r) => (applied = r));
    const done = service.db.db.transaction().execute(async (tx) => {
      const summary = await applyDeliveries(tx, [held], context());
      applied();
      await gate;
      return summary;
    });
    await ready;
    return { release, done };
  }
  const incident = () => service.db.db.selectFrom('incidents').selectAll().where('mon_id', '=', 'MON-005').orderBy('id').execute();
  const instance = () => service.db.db.selectFrom('alert_instances').select(['status', 'last_event_at']).where('fingerprint', '=', 'fp-1').executeTakeFirstOrThrow();

  it('resolves an incident whose opening was not committed yet when the resolution came', async () => {
    const opening = await holdOpen(firing('2026-09-01T10:00:00Z', 'g-1'));
    let settled = false;
    const resolution = receiveBatch(service.db.db, [resolved('2026-09-01T10:00:00Z', '2026-09-01T10:05:00Z', 'g-2')], context).finally(() => (settled = true));
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(settled).toBe(false); // it waits for the opening instead of deciding without it
    } finally {
      opening.release();
    }
    const opened = await opening.done;
    const answer = await resolution;

    const [only, ...more] = await incident();
    expect(more).toEqual([]);
    expect(answer.outcomes[0]!.incidentIds).toEqual([only!.id]);
    expect(opened.outcomes[0]!.incidentIds).toEqual([only!.id]);
    expect(only!.status).toBe('resolved');
    expect((await instance()).status).toBe('resolved');
  });

  it('resolves a reopened incident whose reopening was not committed yet when the resolution came', async () => {
    // Episode 1: fired and resolved.
    await receiveBatch(service.db.db, [firing('2026-09-01T09:00:00Z', 'e1-f')], context);
    await receiveBatch(service.db.db, [resolved('2026-09-01T09:00:00Z', '2026-09-01T09:05:00Z', 'e1-r')], context);
    expect((await incident()).map((i) => i.status)).toEqual(['resolved']);

    // Episode 2: its firing reopens, held open; its resolution comes meanwhile.
    const reopening = await holdOpen(firing('2026-09-01T10:00:00Z', 'e2-f'));
    const resolution = receiveBatch(service.db.db, [resolved('2026-09-01T10:00:00Z', '2026-09-01T10:05:00Z', 'e2-r')], context);
    await new Promise((r) => setTimeout(r, 200));
    reopening.release();
    await reopening.done;
    await resolution;

    const [only, ...more] = await incident();
    expect(more).toEqual([]);
    expect(only).toMatchObject({ status: 'resolved', reopen_count: 1 });
    expect(await instance()).toEqual({ status: 'resolved', last_event_at: new Date('2026-09-01T10:05:00Z') });
    const kinds = (await service.db.db.selectFrom('incident_events').select('kind').where('incident_id', '=', only!.id).orderBy('id').execute()).map((e) => e.kind);
    expect(kinds.slice(-3)).toEqual(['alert_firing', 'alert_resolved', 'resolved']);
  });
});
