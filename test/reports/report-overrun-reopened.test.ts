import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinRunbook } from '../../src/incidents/runbook-pin.js';
import { buildWeeklyReport } from '../../src/reports/build-report.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService, fixedClock } from '../support/test-service.js';
import { seedCheck, seedEvent, seedIncident, writeCatalog } from './report-fixtures.js';

// A reopened incident's steps are timed from its latest acknowledgement (src/incidents/step-clock.ts, shared with the page
// and the retro): the report timed them from the first acknowledgement of the earlier episode and listed a 2-minute step as over by a day.
const clock = fixedClock('2026-11-23T09:00:00Z');
let database: TestDatabase;
let service: Service;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database, { RUNBOOKS_DIR: await writeCatalog() }, { clock });
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

describe('step overruns of a reopened incident', () => {
  it('are timed from the acknowledgement of the episode the steps were done in', async () => {
    const db = service.db.db;
    const runbook = service.catalog.current().runbooks.get('RUN-001')!;
    const hash = await pinRunbook(db, runbook, new Date('2026-11-16T10:00:00Z'));
    const id = await seedIncident(db, { monId: 'MON-005', runbookId: 'RUN-001', runbookHash: hash, severity: 'critical', openedAt: '2026-11-16T10:00:00Z', acknowledgedAt: '2026-11-17T15:00:00Z', status: 'acknowledged', reopenCount: 1 });
    await seedEvent(db, id, 'acknowledged', '2026-11-16T10:01:00Z');
    await seedEvent(db, id, 'resolved', '2026-11-16T10:30:00Z');
    await seedEvent(db, id, 'reopened', '2026-11-17T14:00:00Z');
    await seedEvent(db, id, 'acknowledged', '2026-11-17T15:00:00Z');
    // Step 1 expects 3m (max 5m); ticked 2 minutes after the second acknowledgement.
    await seedCheck(db, { incidentId: id }, 'step-1', '2026-11-17T15:02:00Z');
    await seedCheck(db, { incidentId: id }, 'step-2', '2026-11-17T15:40:00Z');
    const report = await buildWeeklyReport(db, service.catalog.current(), '2026-W48', clock.now(), { timeZone: 'UTC', staleAfterDays: 90 });
    expect(report.overruns.map((o) => [o.stepKey, o.actualMs / 60_000])).toEqual([['step-2', 38]]);
  });

  it('are timed from the acknowledgement of an earlier episode when the steps were done in that one', async () => {
    const db = service.db.db;
    const runbook = service.catalog.current().runbooks.get('RUN-001')!;
    const hash = await pinRunbook(db, runbook, new Date('2026-11-18T10:00:00Z'));
    // Worked and resolved on the 18th; reopened on the 19th and resolved by its alert, never acknowledged again.
    const id = await seedIncident(db, { monId: 'MON-005', runbookId: 'RUN-001', runbookHash: hash, severity: 'critical', openedAt: '2026-11-18T10:00:00Z', status: 'resolved', reopenCount: 1 });
    await seedEvent(db, id, 'acknowledged', '2026-11-18T12:00:00Z');
    await seedCheck(db, { incidentId: id }, 'step-1', '2026-11-18T12:02:00Z');
    await seedEvent(db, id, 'resolved', '2026-11-18T12:30:00Z');
    await seedEvent(db, id, 'reopened', '2026-11-19T09:00:00Z');
    await seedEvent(db, id, 'resolved', '2026-11-19T09:20:00Z');
    const report = await buildWeeklyReport(db, service.catalog.current(), '2026-W48', clock.now(), { timeZone: 'UTC', staleAfterDays: 90 });
    expect(report.overruns.filter((o) => o.subjectId === id)).toEqual([]);
  });
});
