import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerAlert } from '../support/webhook-payloads.js';

// The receive path's two hot statements: raw bodies joined into one parameter, and run as prepared statements.
let database: TestDatabase;
let service: Service;
let url: string;

beforeAll(async () => {
  database = await createTestDatabase();
  // A long wait and one connection: deliveries sent together share one transaction, on one PostgreSQL session.
  service = await createTestService(database, { BATCH_MAX_WAIT: '300ms', DB_POOL_SIZE: '1' });
  url = (await service.start()).url;
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

const post = (body: string) => fetch(`${url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('raw bodies of a batch', () => {
  it('keeps each delivery of one transaction byte for byte, whatever its text holds', async () => {
    const texts = [
      'plain',
      'escaped control characters: \u001e \u0000 \u001f',
      'a backslash \\ and "quotes" and a newline\nin a value',
      'unicode: ünïcødé 🚨 \u2028',
      '',
      'x'.repeat(20_000),
    ];
    const bodies = texts.map((text, i) => {
      const compact = alertmanagerAlert({ fingerprint: `raw-${i}`, annotations: { description: text } });
      // Whitespace between tokens is part of the bytes kept too.
      return i % 2 ? JSON.stringify(JSON.parse(compact), null, 2) : compact;
    });
    const answers = await Promise.all(bodies.map(post));
    expect(answers.map((r) => r.status)).toEqual(bodies.map(() => 202));

    const rows = await service.db.db.selectFrom('alert_events').select(['raw_body', sql<string>`xmin::text`.as('tx')]).where('raw_body', 'like', '%"raw-%').execute();
    expect(rows).toHaveLength(bodies.length);
    expect(new Set(rows.map((r) => r.tx)).size).toBe(1);
    expect(rows.map((r) => r.raw_body).sort()).toEqual([...bodies].sort());
  });
});

describe('U+0000, which PostgreSQL text and jsonb cannot hold', () => {
  it('is accepted as U+FFFD in keys and values, and the raw body keeps its escape as sent', async () => {
    const body = alertmanagerAlert({ fingerprint: 'nul-1', labels: { 'odd\u0000key': 'a\u0000b' }, annotations: { description: 'before\u0000after' } });
    expect(body).toContain('\\u0000');
    const res = await post(body);
    expect(res.status).toBe(202);
    const instance = await service.db.db.selectFrom('alert_instances').select(['labels', 'values']).where('fingerprint', '=', 'nul-1').executeTakeFirstOrThrow();
    expect(instance.labels['odd\uFFFDkey']).toBe('a\uFFFDb');
    expect(Object.values(instance.values)).toContain('before\uFFFDafter');
    const stored = await service.db.db.selectFrom('alert_events').select('raw_body').where('raw_body', 'like', '%nul-1%').executeTakeFirstOrThrow();
    expect(stored.raw_body).toBe(body);
  });
});

describe('the two paths of a batch', () => {
  it('applies firing alerts of open incidents in one call, and everything else in a transaction', async () => {
    const paths = async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const count = (path: string) => Number(new RegExp(`^runbook_router_ingest_batches_total\\{path="${path}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
      return { single: count('single'), transaction: count('transaction') };
    };
    const before = await paths();
    // No MON- id: each fingerprint is a group of its own, so each delivery opens an incident.
    for (let i = 0; i < 3; i++) expect((await post(alertmanagerAlert({ monId: null, fingerprint: `paths-open-${i}` }))).status).toBe(202);
    const opened = await paths();
    expect(opened.transaction - before.transaction).toBe(3);
    expect(opened.single).toBe(before.single);
    // The same alerts again (new deliveries: another group key), their incidents open: the one-call path.
    for (let i = 0; i < 3; i++) expect((await post(alertmanagerAlert({ monId: null, fingerprint: `paths-open-${i}`, groupKey: `again-${i}` }))).status).toBe(202);
    const again = await paths();
    expect(again.single - opened.single).toBe(3);
    expect(again.transaction).toBe(opened.transaction);
    // A resolution needs the transaction.
    expect((await post(alertmanagerAlert({ monId: null, fingerprint: 'paths-open-0', status: 'resolved' }))).status).toBe(202);
    expect((await paths()).transaction - again.transaction).toBe(1);
  });
});

describe.skipIf(!onRealPostgres)('prepared statements (PostgreSQL)', () => {
  it('runs the batch statements as named statements planned once', async () => {
    // Openings take the transactional path (its look-up and write); firing alerts of open incidents the one call.
    for (let i = 0; i < 8; i++) expect((await post(alertmanagerAlert({ monId: null, fingerprint: `prep-${i}` }))).status).toBe(202);
    for (let i = 0; i < 8; i++) expect((await post(alertmanagerAlert({ monId: null, fingerprint: `prep-${i}`, groupKey: `prep-again-${i}` }))).status).toBe(202);
    // One connection in the pool, so this session is the one that ran the batches.
    const { rows } = await sql<{ name: string; statement: string; generic_plans: number }>`
      select name, statement, generic_plans from pg_prepared_statements where name like 'rr\\_%'`.execute(service.db.db);
    const lookup = rows.find((r) => /known as/.test(r.statement));
    // The openings' write (instances, timeline and inbox rows in one statement); the earlier tests' resolutions ran the
    // variant without the instances only once or twice, too few for a generic plan.
    const write = rows.find((r) => /insert into alert_instances/.test(r.statement) && /insert into alert_events/.test(r.statement));
    const firing = rows.find((r) => /select receive_firing/.test(r.statement));
    for (const statement of [lookup, write, firing]) {
      expect(statement, JSON.stringify(rows)).toBeDefined();
      // Every run had the same text: after five custom plans PostgreSQL keeps one generic plan.
      expect(Number(statement!.generic_plans)).toBeGreaterThan(0);
    }
  });
});
