// Two real `runbook-router serve` processes on one PostgreSQL, both running the report cron every second: one report
// is stored and one delivery reaches the contact.
import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/create-db.js';
import { startSink } from '../support/http-sink.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { REPORT_MATRIX, writeCatalog } from './report-fixtures.js';

describe.runIf(process.env.DATABASE_URL)('the weekly report with two replicas', () => {
  let database: TestDatabase | undefined;
  let sink: Awaited<ReturnType<typeof startSink>> | undefined;
  const processes: ServiceProcess[] = [];

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await sink?.close();
    await database?.drop();
  });

  it('makes one report and one delivery per ISO week', async () => {
    database = await createTestDatabase();
    sink = await startSink();
    const env = {
      DATABASE_URL: database.url!,
      DATA_DIR: database.dataDir,
      RUNBOOKS_DIR: await writeCatalog(undefined, REPORT_MATRIX(sink.url)),
      REPORT_CRON: '* * * * * *',
      REPORT_CONTACTS: 'oncall',
      LOG_LEVEL: 'info',
    };
    processes.push(...(await Promise.all([startServiceProcess(env), startServiceProcess(env)])));

    await sink.waitFor(1, 20_000);
    // Both replicas keep firing every second; give them a few more rounds to (not) send again.
    await new Promise((r) => setTimeout(r, 4000));
    expect(sink.paths()).toEqual(['/oncall']);
    const delivery = sink.received[0]!;
    expect(delivery.body).toMatchObject({ type: 'weekly_report', week: expect.stringMatching(/^\d{4}-W\d{2}$/) });

    const handle = await createDb({ databaseUrl: database.url, dataDir: database.dataDir, poolSize: 1 });
    try {
      const reports = await handle.db.selectFrom('reports').select(['id', 'iso_week']).execute();
      expect(reports).toEqual([{ id: delivery.body.reportId, iso_week: delivery.body.week }]);
      expect(delivery.headers['idempotency-key']).toBe(`report-${reports[0]!.id}-oncall-0`);
      const notifications = await handle.db.selectFrom('notifications').select(['status', 'report_id']).execute();
      expect(notifications).toEqual([{ status: 'sent', report_id: reports[0]!.id }]);
    } finally {
      await handle.close();
    }
    // Exactly one replica logged storing it.
    expect(processes.map((p) => (p.output().match(/weekly report stored/g) ?? []).length).sort()).toEqual([0, 1]);
    expect(await Promise.all(processes.map((p) => p.stop()))).toEqual([0, 0]);
  });
});
