import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { runbooksWithMatrix } from '../support/runbooks-dir.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerAlert } from '../support/webhook-payloads.js';

// An outage: alerts for many monitors at once, each opening its incident, many monitors sharing a runbook. Concurrent
// batches each pin the runbooks of the incidents they open; pinned in an order of their own, two batches deadlocked and
// PostgreSQL broke each deadlock only after deadlock_timeout (1 s) of stalled ingestion.
const RUNBOOKS = ['RUN-001', 'RUN-002', 'RUN-003', 'RUN-004', 'RUN-005'];
const MON_IDS = Array.from({ length: 40 }, (_, i) => `MON-${700 + i}`);
const ROUNDS = 12;

function sharedRunbookMatrix(): string {
  const alerts = MON_IDS.map((mon, i) => `  ${mon}: { title: "Monitor ${mon}", runbook: ${RUNBOOKS[(i * 7) % RUNBOOKS.length]}, severity: info, escalation: [nobody] }`).join('\n');
  return `
severities:
  critical: { ack_within: 5m, drill_every: 30d }
  warning:  { ack_within: 5m, drill_every: 90d }
  info:     { page: false, drill_every: 180d }
contacts:
  nobody: { name: Nobody, notify: [{ type: webhook, url: "http://127.0.0.1:9/nobody" }] }
default:
  severity: info
  escalation: [nobody]
alerts:
${alerts}
`;
}

describe.runIf(process.env.DATABASE_URL)('many incidents opening at once (PostgreSQL)', () => {
  let database: TestDatabase;
  // Two replicas on one database, each sent every other monitor: their batches run at the same time.
  let replicas: Service[] = [];
  let urls: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    // A short wait and several connections: many small batches in flight together.
    const env = { RUNBOOKS_DIR: await runbooksWithMatrix(sharedRunbookMatrix()), BATCH_MAX_WAIT: '1ms' };
    replicas = await Promise.all([createTestService(database, env), createTestService(database, env)]);
    urls = await Promise.all(replicas.map(async (r) => (await r.start()).url));
  });
  afterAll(async () => {
    for (const r of replicas) await r.stop();
    await database?.drop();
  });

  it('opens them all without a deadlock', async () => {
    const db = replicas[0]!.db.db;
    for (let round = 0; round < ROUNDS; round++) {
      // Each round opens new incidents (the previous ones resolved a day ago, beyond the reopen window) and pins runbook
      // versions not pinned yet: pinning a version that exists waits for nobody.
      await db.updateTable('incidents').set({ status: 'resolved', resolved_at: new Date(Date.now() - 86_400_000), next_escalation_at: null, runbook_hash: null }).execute();
      await db.deleteFrom('runbook_versions').execute();
      const answers = await Promise.all(
        MON_IDS.map((mon, i) =>
          fetch(`${urls[i % 2]}/webhooks/alertmanager`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: alertmanagerAlert({ monId: mon, fingerprint: `r${round}-${i}`, groupKey: `g-${round}-${i}` }),
          }),
        ),
      );
      expect(answers.map((a) => a.status).filter((s) => s !== 202)).toEqual([]);
    }
    const incidents = await db.selectFrom('incidents').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(incidents.n)).toBe(MON_IDS.length * ROUNDS);
    // Backends report their statistics when they exit: close the service's connections before reading them.
    for (const r of replicas.splice(0)) await r.stop();
    const client = new pg.Client({ connectionString: database.url! });
    await client.connect();
    try {
      const { rows } = await client.query<{ deadlocks: string }>('select deadlocks from pg_stat_database where datname = current_database()');
      expect(Number(rows[0]!.deadlocks)).toBe(0);
    } finally {
      await client.end();
    }
  });
});
