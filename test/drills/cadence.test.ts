import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { runbookSeverity } from '../../src/drills/cadence-policy.js';
import { scheduleCadenceDrills } from '../../src/drills/cadence.js';
import { completeDrill } from '../../src/drills/drill-store.js';
import { loadCatalog, type Catalog } from '../../src/runbooks/catalog.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { writeCatalog } from '../reports/report-fixtures.js';

const NOW = new Date('2026-11-23T09:00:00Z');
let database: TestDatabase;
let handle: DbHandle;
let dir: string;
let catalog: Catalog;

beforeAll(async () => {
  database = await createTestDatabase();
  handle = await createDb({ databaseUrl: database.url, dataDir: database.dataDir });
  await migrateToLatest(handle.db);
  dir = await writeCatalog();
  catalog = await loadCatalog(dir);
});
afterAll(async () => {
  await handle?.close();
  await database?.drop();
});

const openCadence = () =>
  handle.db.selectFrom('drills').select(['id', 'runbook_id', 'due_at', 'reason']).where('trigger', '=', 'cadence').where('status', 'in', ['scheduled', 'running']).orderBy('runbook_id').execute();
const dues = async () => (await openCadence()).map((d) => [d.runbook_id, d.due_at.toISOString()]);

describe('cadence drills', () => {
  it("takes a runbook's most urgent severity among the alerts that reach it, else the default", () => {
    expect(runbookSeverity(catalog, 'RUN-001')).toBe('critical'); // MON-005 critical, MON-013 warning
    expect(runbookSeverity(catalog, 'RUN-002')).toBe('warning');
    expect(runbookSeverity(catalog, 'RUN-003')).toBe('warning'); // no alert: the default severity
    expect(runbookSeverity({ ...catalog, matrix: null }, 'RUN-001')).toBeNull();
  });

  it('schedules one drill per runbook at effective last tested + drill_every, once however often it runs', async () => {
    const results = await Promise.all([scheduleCadenceDrills(handle.db, catalog, NOW), scheduleCadenceDrills(handle.db, catalog, NOW)]);
    expect(results.reduce((n, r) => n + r.scheduled, 0)).toBe(4);
    expect(await dues()).toEqual([
      ['RUN-001', '2026-12-01T00:00:00.000Z'], // 2026-11-01 + 30d
      ['RUN-002', '2026-09-29T00:00:00.000Z'], // 2026-07-01 + 90d: overdue
      ['RUN-003', '2026-10-30T00:00:00.000Z'], // 2026-08-01 + 90d (default severity)
      ['RUN-004', NOW.toISOString()], // never tested: due at once
    ]);
    expect((await openCadence()).find((d) => d.runbook_id === 'RUN-004')!.reason).toBe('warning runbooks are drilled every 90d; never tested');
    expect(await scheduleCadenceDrills(handle.db, catalog, new Date(NOW.getTime() + 60_000))).toEqual({ scheduled: 0, rescheduled: 0, cancelled: 0 });
  });

  it('moves the next cadence drill after a passed drill, and schedules the next one when the cadence drill itself passes', async () => {
    const run002 = (await openCadence()).find((d) => d.runbook_id === 'RUN-002')!;
    const passedAt = new Date('2026-11-24T10:00:00Z');
    await completeDrill(handle.db, run002.id, { outcome: 'passed', runbook: catalog.runbooks.get('RUN-002')!, by: 'dana', now: passedAt });
    // A gaps-found drill does not count as tested.
    const manual = await handle.db.insertInto('drills').values({ runbook_id: 'RUN-003', reason: 'x', trigger: 'manual', status: 'scheduled', due_at: NOW, created_at: NOW }).returning('id').executeTakeFirstOrThrow();
    await completeDrill(handle.db, manual.id, { outcome: 'gaps_found', gaps: 'step 2 unclear', runbook: catalog.runbooks.get('RUN-003')!, by: 'dana', now: passedAt });
    expect(await scheduleCadenceDrills(handle.db, catalog, passedAt)).toEqual({ scheduled: 1, rescheduled: 0, cancelled: 0 });
    expect(await dues()).toEqual([
      ['RUN-001', '2026-12-01T00:00:00.000Z'],
      ['RUN-002', '2027-02-22T10:00:00.000Z'], // 2026-11-24 10:00 + 90d
      ['RUN-003', '2026-10-30T00:00:00.000Z'],
      ['RUN-004', NOW.toISOString()],
    ]);

    // A passed drill of another kind moves the scheduled cadence drill.
    const other = await handle.db.insertInto('drills').values({ runbook_id: 'RUN-001', reason: 'x', trigger: 'manual', status: 'scheduled', due_at: NOW, created_at: NOW }).returning('id').executeTakeFirstOrThrow();
    await completeDrill(handle.db, other.id, { outcome: 'passed', runbook: catalog.runbooks.get('RUN-001')!, by: 'dana', now: new Date('2026-11-25T00:00:00Z') });
    expect(await scheduleCadenceDrills(handle.db, catalog, new Date('2026-11-25T00:01:00Z'))).toEqual({ scheduled: 0, rescheduled: 1, cancelled: 0 });
    expect((await dues())[0]).toEqual(['RUN-001', '2026-12-25T00:00:00.000Z']);
  });

  it('cancels the scheduled cadence drill of a runbook that left the catalog', async () => {
    await fs.rm(path.join(dir, 'RUN-003.md'));
    const smaller = await loadCatalog(dir);
    expect(await scheduleCadenceDrills(handle.db, smaller, new Date('2026-11-26T00:00:00Z'))).toEqual({ scheduled: 0, rescheduled: 0, cancelled: 1 });
    expect((await dues()).map((d) => d[0])).toEqual(['RUN-001', 'RUN-002', 'RUN-004']);
    const cancelled = await handle.db.selectFrom('drills').select(['status', 'reason']).where('runbook_id', '=', 'RUN-003').where('trigger', '=', 'cadence').executeTakeFirstOrThrow();
    expect(cancelled).toEqual({ status: 'cancelled', reason: 'warning runbooks are drilled every 90d (cancelled: RUN-003 is no longer in the catalog)' });
    // An empty catalog (a failed load) cancels nothing.
    expect(await scheduleCadenceDrills(handle.db, { ...smaller, runbooks: new Map() }, new Date('2026-11-26T00:00:00Z'))).toEqual({ scheduled: 0, rescheduled: 0, cancelled: 0 });
  });
});
