import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { dueNotifications } from '../../src/incidents/outbox.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

// A burst of escalations leaves thousands of notifications due at once; each claim takes 64. Sorting the whole due
// backlog for every claim (first attempts before retries) was an external sort per claim at 20,000 due.
let database: TestDatabase;
let handle: DbHandle;
const now = new Date('2026-09-01T03:00:00Z');

beforeAll(async () => {
  database = await createTestDatabase();
  handle = await createDb({ databaseUrl: database.url, dataDir: database.dataDir });
  await migrateToLatest(handle.db);
  // 5,000 due, one in five a retry, plus delivered ones, as after a burst.
  await sql`
    insert into notifications (idempotency_key, kind, contact_id, channel_type, url, payload, status, attempts, next_attempt_at, created_at)
    select 'burst-' || g, 'escalation', 'level-one', 'webhook', 'http://127.0.0.1:9/hook', '{"text":"x"}'::jsonb,
           case when g % 3 = 0 then 'sent' else 'pending' end, case when g % 5 = 0 then 2 else 0 end,
           ${now}::timestamptz - make_interval(secs => g / 1000.0), ${now}::timestamptz
    from generate_series(1, 7500) g`.execute(handle.db);
  await sql`analyze notifications`.execute(handle.db);
}, 60_000);
afterAll(async () => {
  await handle?.close();
  await database?.drop();
});

describe('claiming due notifications', () => {
  it('reads them in claim order off an index instead of sorting the due backlog', async () => {
    const plan = (await dueNotifications(handle.db, now, 64).explain()).map((row) => String(Object.values(row)[0])).join('\n');
    expect(plan).toContain('notifications_due');
    expect(plan).not.toMatch(/\bSort\b/);
  });

  it('takes first attempts first, then the longest due', async () => {
    const rows = await handle.db.transaction().execute((tx) => dueNotifications(tx, now, 6000).execute());
    const firstRetry = rows.findIndex((r) => r.attempts > 0);
    expect(rows).toHaveLength(5000);
    expect(firstRetry).toBe(4000);
    expect(rows.slice(firstRetry).every((r) => r.attempts > 0)).toBe(true);
    for (const part of [rows.slice(0, firstRetry), rows.slice(firstRetry)]) {
      const times = part.map((r) => r.next_attempt_at.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
  });
});
