import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/create-db.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { runReport } from '../../src/reports/report-command.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { ROOT } from '../support/test-service.js';
import { seedEvent, seedIncident, writeCatalog } from './report-fixtures.js';

let database: TestDatabase;
let env: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase();
  const handle = await createDb({ databaseUrl: database.url, dataDir: database.dataDir });
  await migrateToLatest(handle.db);
  const id = await seedIncident(handle.db, { monId: 'MON-005', runbookId: 'RUN-001', severity: 'critical', openedAt: '2026-11-10T10:00:00Z', acknowledgedAt: '2026-11-10T10:03:00Z', resolvedAt: '2026-11-10T10:45:00Z' });
  await seedEvent(handle.db, id, 'acknowledged', '2026-11-10T10:03:00Z');
  await handle.close();
  env = { DATA_DIR: database.dataDir, RUNBOOKS_DIR: await writeCatalog(), ...(database.url ? { DATABASE_URL: database.url } : {}) };
});
afterAll(async () => {
  await database?.drop();
});

async function run(args: string[], now = '2026-11-23T09:00:00Z') {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runReport(args, { out: (s) => out.push(s), err: (s) => err.push(s), now: new Date(now), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('runbook-router report', () => {
  it('prints any week as JSON', async () => {
    const r = await run(['--week', '2026-W47', '--format', 'json']);
    expect(r).toMatchObject({ code: 0, err: '' });
    const report = JSON.parse(r.out);
    expect(report.week).toBe('2026-W47');
    expect(report.incidents.overall).toEqual({ incidents: 1, acknowledged: 1, resolved: 1, mttaMs: 180_000, mttrMs: 2_700_000 });
    expect(report.untested.map((u: { runbookId: string }) => u.runbookId)).toEqual(['RUN-004']);
  });

  it('defaults to the current week in REPORT_TZ, as markdown', async () => {
    const r = await run([], '2026-11-16T03:00:00Z');
    expect(r.code).toBe(0);
    expect(r.out).toContain('# Weekly runbook report 2026-W47');
    expect(r.out).toContain('| all | 1 | 1 | 3m | 1 | 45m |');
    // Monday 03:00 UTC is still Sunday of 2026-W46 in New York.
    env.REPORT_TZ = 'America/New_York';
    expect((await run([], '2026-11-16T03:00:00Z')).out).toContain('# Weekly runbook report 2026-W46');
    delete env.REPORT_TZ;
  });

  it('explains bad arguments with exit code 2', async () => {
    expect(await run(['--week', '2026-W60'])).toMatchObject({ code: 2, err: expect.stringContaining('runbook-router report: 2026 has no week 60 (it has 53)') });
    expect(await run(['--format', 'html'])).toMatchObject({ code: 2, err: expect.stringContaining('--format must be markdown or json, got "html"') });
    expect(await run(['--weak'])).toMatchObject({ code: 2, err: expect.stringContaining('unknown argument "--weak"') });
  });

  it('runs as a real command', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin/runbook-router.js'), 'report', '--week=2026-W47'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    expect(stdout).toContain('# Weekly runbook report 2026-W47');
    expect(stdout).toContain('- MON-099 (Queue stuck): runbook RUN-404 does not exist');
  });
});

describe.skipIf(Boolean(process.env.DATABASE_URL))('runbook-router report without a database yet', () => {
  it('says so and creates nothing in the data directory it was pointed at', async () => {
    const missing = path.join(ROOT, '.no-such-data-dir');
    const out: string[] = [];
    const err: string[] = [];
    const code = await runReport([], { out: (s) => out.push(s), err: (s) => err.push(s), now: new Date('2026-11-23T09:00:00Z'), env: { ...env, DATA_DIR: missing } });
    expect(code).toBe(1);
    expect(err.join('\n')).toContain(`runbook-router report: no database in ${missing} yet; start the service once (npm start) or run "runbook-router migrate"`);
    expect(existsSync(missing)).toBe(false);
  });
});
