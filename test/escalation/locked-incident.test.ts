import pg from 'pg';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { runEscalationTick } from '../../src/incidents/escalation-tick.js';
import type { Service } from '../../src/service.js';
import { runbooksWithMatrix, sinkMatrix } from '../support/runbooks-dir.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerAlert } from '../support/webhook-payloads.js';

// A receive batch holds its incidents' row locks until it commits; in a storm on one incident the batches hold that lock
// back to back. Another connection holding the lock needs a real server: the embedded database has one connection.
describe.runIf(process.env.DATABASE_URL)('an escalation due on an incident another transaction has locked', () => {
  const clock = fixedClock('2026-09-01T03:00:00Z');
  let database: TestDatabase;
  let service: Service;
  let holder: pg.Client;

  beforeEach(async () => {
    clock.set('2026-09-01T03:00:00Z');
    database = await createTestDatabase();
    // A second critical MON- id with two levels, so two incidents fall due together.
    const matrix = sinkMatrix('http://127.0.0.1:9', { ackWithin: '5m' }).replace(
      'alerts:\n',
      'alerts:\n  MON-006:\n    title: Replica lag\n    runbook: RUN-002\n    severity: critical\n    escalation: [level-one, level-two]\n',
    );
    const dir = await runbooksWithMatrix(matrix);
    service = await createTestService(database, { RUNBOOKS_DIR: dir }, { clock });
    holder = new pg.Client({ connectionString: database.url! });
    await holder.connect();
  });
  afterEach(async () => {
    await holder.end().catch(() => undefined);
    await service.stop();
    await database.drop();
  });

  const open = async (monId: string) => {
    const res = await request(service.app).post('/webhooks/alertmanager').set('Content-Type', 'application/json').send(alertmanagerAlert({ monId, fingerprint: `${monId}-a` })).expect(202);
    return res.body.incidents[0] as number;
  };
  const tick = (lockWaitMs = 5_000) => runEscalationTick(service.db.db, { routing: service.routing(), now: clock.now(), clock: () => clock.now(), publicUrl: 'https://rr.example.com', lockWaitMs });
  const levelOf = async (id: number) => (await holder.query<{ escalation_level: number }>('select escalation_level from incidents where id = $1', [id])).rows[0]!.escalation_level;
  /** What a receive batch does to the incidents it adds alerts to, left uncommitted. */
  const lockAsReceiveBatch = async (...ids: number[]) => {
    await holder.query('begin');
    await holder.query('select id from incidents where id = any($1) order by group_key for update', [ids]);
  };

  it('waits for the lock instead of skipping the incident, and fires it once the batch commits', async () => {
    const id = await open('MON-005');
    expect((await tick()).fired).toBe(1); // level 1 at open
    clock.advance(5 * 60_000);

    await lockAsReceiveBatch(id);
    let settled = false;
    const round = tick().finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    // Time passes while the tick waits: the escalation is fired at the time the lock was had, not the round's start.
    clock.advance(30_000);
    await holder.query('commit');

    const result = await round;
    expect(result).toMatchObject({ fired: 1, lagsMs: [30_000], full: false });
    expect(result.lockedOut).toBeUndefined();
    expect(await levelOf(id)).toBe(2);
    const escalated = await holder.query<{ at: Date }>(`select at from incident_events where incident_id = $1 and kind = 'escalated' and data->>'level' = '2'`, [id]);
    expect(escalated.rows.map((r) => r.at.toISOString())).toEqual(['2026-09-01T03:05:30.000Z']);
    // Fired once: the next round finds nothing due.
    expect((await tick()).fired).toBe(0);
  });

  it('gives up on a lock held past lockWaitMs, says which incident, fires the others, and fires it when the lock is gone', async () => {
    const stuck = await open('MON-005');
    const other = await open('MON-006');
    expect((await tick()).fired).toBe(2);
    clock.advance(5 * 60_000);

    await lockAsReceiveBatch(stuck);
    const started = performance.now();
    const result = await tick(200);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(result.fired).toBe(1);
    expect(result.lockedOut).toEqual([stuck]);
    expect(await levelOf(other)).toBe(2);
    expect(await levelOf(stuck)).toBe(1);

    await holder.query('commit');
    const next = await tick(200);
    expect(next).toMatchObject({ fired: 1 });
    expect(next.lockedOut).toBeUndefined();
    expect(await levelOf(stuck)).toBe(2);
  });

  it('waits for locks for lockWaitMs in all, not for each locked incident, and reports each one it could not fire', async () => {
    const a = await open('MON-005');
    const b = await open('MON-006');
    expect((await tick()).fired).toBe(2);
    clock.advance(5 * 60_000);

    await lockAsReceiveBatch(a, b);
    const started = performance.now();
    const result = await tick(1_000);
    const took = performance.now() - started;
    // Waiting for each in turn would take at least 2 s.
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(1_800);
    expect(result.fired).toBe(0);
    expect(result.lockedOut?.sort()).toEqual([a, b].sort());
    await holder.query('commit');
    expect((await tick()).fired).toBe(2);
  });
});
