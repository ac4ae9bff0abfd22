import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerAlert } from '../support/webhook-payloads.js';

// Senders stop waiting (PagerDuty after 5 s) and then retry; a commit still blocked by then is answered 503 at once.
let database: TestDatabase;
let service: Service;
let url: string;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database, { WEBHOOK_ANSWER_WITHIN: '300ms' });
  url = (await service.start()).url;
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

const post = (body: string) => fetch(`${url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('a delivery whose commit is held up', () => {
  it('is answered 503 within WEBHOOK_ANSWER_WITHIN, and its retry is applied exactly once', async () => {
    const body = alertmanagerAlert({ monId: 'MON-005', fingerprint: 'slow000000000001' });
    let release!: () => void;
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const held = service.db.db.transaction().execute(async (tx) => {
      // Inserts into the inbox wait for this lock (on the embedded database, for the one connection).
      await sql`lock table alert_events in exclusive mode`.execute(tx);
      locked();
      await new Promise<void>((r) => (release = r));
    });
    await isLocked;

    const started = Date.now();
    const first = await post(body);
    const waited = Date.now() - started;
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('5');
    expect(((await first.json()) as { error: string }).error).toMatch(/^not committed within 300 ms/);
    expect(waited).toBeLessThan(3000);

    release();
    await held;
    const retry = await post(body);
    expect(retry.status).toBe(202);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/runbook_router_deliveries_total\{source="alertmanager",outcome="unavailable"\} 1/);
    const inbox = await service.db.db.selectFrom('alert_events').select(['id']).execute();
    expect(inbox).toHaveLength(1);
    const instances = await service.db.db.selectFrom('alert_instances').select(['id']).where('fingerprint', '=', 'slow000000000001').execute();
    expect(instances).toHaveLength(1);
  });
});
