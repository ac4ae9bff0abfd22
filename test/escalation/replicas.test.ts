import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSink } from '../support/http-sink.js';
import { runbooksWithMatrix, sinkMatrix } from '../support/runbooks-dir.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { alertmanagerAlert } from '../support/webhook-payloads.js';

// Replicas coordinate only through PostgreSQL, so this runs on the real server.
describe.runIf(process.env.DATABASE_URL)('two replicas on one PostgreSQL under a storm', () => {
  let database: TestDatabase;
  let sink: Awaited<ReturnType<typeof startSink>>;
  let replicas: ServiceProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    sink = await startSink();
    const dir = await runbooksWithMatrix(sinkMatrix(sink.url, { ackWithin: '2s' }));
    const env = { DATABASE_URL: database.url!, RUNBOOKS_DIR: dir, ESCALATION_TICK: '200ms', NOTIFY_BACKOFF: '200ms' };
    replicas = await Promise.all([startServiceProcess(env), startServiceProcess(env)]);
  });
  afterAll(async () => {
    for (const r of replicas) expect(await r.stop()).toBe(0);
    await sink?.close();
    await database?.drop();
  });

  it('keeps one incident per MON- id and notifies each level exactly once', async () => {
    const monIds = ['MON-005', 'MON-901', 'MON-902', 'MON-903', 'MON-904'];
    const deliveries = Array.from({ length: 400 }, (_, i) => ({
      replica: replicas[i % 2]!,
      body: alertmanagerAlert({ monId: monIds[i % monIds.length]!, fingerprint: `f${String(i % 37).padStart(15, '0')}`, groupKey: `storm-${i}` }),
    }));
    const statuses: number[] = [];
    for (let i = 0; i < deliveries.length; i += 40) {
      const slice = deliveries.slice(i, i + 40);
      const answers = await Promise.all(slice.map((d) => fetch(`${d.replica.url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: d.body })));
      statuses.push(...answers.map((a) => a.status));
    }
    // A refusal here is rare (one CI run of about twenty on 2026-12-01); the replicas' own log says why.
    expect(statuses.filter((s) => s !== 202), `replica logs:\n${replicas.map((r) => r.output().slice(-4000)).join('\n-----\n')}`).toEqual([]);

    const open = (await (await fetch(`${replicas[0]!.url}/api/incidents?status=open`)).json()) as { incidents: { monId: string }[] };
    expect(open.incidents.map((i) => i.monId).sort()).toEqual(monIds);

    // Level 1 for all five at once, then level 2 for MON-005 after its 2s ack window (webhook + slack channels).
    await sink.waitFor(7, 15_000);
    await new Promise((r) => setTimeout(r, 3000));
    const byPath = sink.received.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.path]: (acc[r.path] ?? 0) + 1 }), {});
    expect(byPath).toEqual({ '/level-one': 5, '/level-two': 1, '/slack': 1 });
    const keys = sink.received.map((r) => r.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(keys.length);
    const levelOne = sink.received.filter((r) => r.path === '/level-one').map((r) => r.body.monId).sort();
    expect(levelOne).toEqual(monIds);
  });
});
