import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { wireBody } from '../support/webhook-payloads.js';

// The page's statement is prepared once per connection; a replica must keep serving it while a newer release's
// migration adds a column to incidents.
let database: TestDatabase;
let service: Service;
let url: string;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database, { DB_POOL_SIZE: '1' });
  url = (await service.start()).url;
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

it.skipIf(!onRealPostgres)('serves the incident page on the same connection after a column is added to incidents', async () => {
  const res = await fetch(`${url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: wireBody('alertmanager-firing') });
  expect(res.status).toBe(202);
  const [id] = ((await res.json()) as { incidents: number[] }).incidents;
  expect((await fetch(`${url}/incidents/${id}`)).status).toBe(200);
  await sql`alter table incidents add column added_by_a_later_release text`.execute(service.db.db);
  const again = await fetch(`${url}/incidents/${id}`);
  expect(again.status).toBe(200);
  expect(await again.text()).toContain('MON-005');
});
