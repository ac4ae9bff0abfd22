import cron from 'node-cron';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { createLogger } from '../../src/logger.js';
import { cronFiredBetween } from '../../src/reports/cron-fired-between.js';
import { offsetAt } from '../../src/reports/iso-week.js';
import { startDrillAndReportJobs, type ScheduledJobs } from '../../src/reports/report-schedule.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { REPORT_MATRIX, writeCatalog } from './report-fixtures.js';

let database: TestDatabase;
let service: Service;
const running: ScheduledJobs[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const dir = await writeCatalog(undefined, REPORT_MATRIX('http://127.0.0.1:9/'));
  service = await createTestService(database, { RUNBOOKS_DIR: dir, REPORT_TZ: 'Europe/Berlin' });
});
afterAll(async () => {
  await Promise.all(running.map((j) => j.stop()));
  await service?.stop();
  await database?.drop();
});

function start(clock: ReturnType<typeof fixedClock>): ScheduledJobs {
  const jobs = startDrillAndReportJobs({ db: service.db.db, catalog: service.catalog, clock, config: service.config, logger: createLogger('silent'), onEnqueued: () => {} });
  running.push(jobs);
  return jobs;
}

const weeks = async () => (await service.db.db.selectFrom('reports').select(['iso_week', 'generated_at']).orderBy('id').execute()).map((r) => [r.iso_week, r.generated_at.toISOString()]);

async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const until = Date.now() + 10_000;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('cronFiredBetween', () => {
  const monday9 = (d: Date) => d.getUTCDay() === 1 && d.getUTCHours() === 9 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0;
  it('sees a firing time inside the span, including its end, and none outside it', () => {
    expect(cronFiredBetween(monday9, [0], new Date('2026-11-23T00:00:00Z'), new Date('2026-11-23T09:00:00Z'))).toBe(true);
    expect(cronFiredBetween(monday9, [0], new Date('2026-11-23T00:00:00Z'), new Date('2026-11-23T08:59:59Z'))).toBe(false);
    expect(cronFiredBetween(monday9, [0], new Date('2026-11-23T09:00:00Z'), new Date('2026-11-29T23:59:59Z'))).toBe(false);
  });
  it('tries the seconds a six-field expression names', () => {
    const at30 = (d: Date) => d.getUTCSeconds() === 30 && d.getUTCMinutes() === 5;
    expect(cronFiredBetween(at30, [0], new Date('2026-11-23T00:00:00Z'), new Date('2026-11-23T01:00:00Z'))).toBe(false);
    expect(cronFiredBetween(at30, [30], new Date('2026-11-23T00:00:00Z'), new Date('2026-11-23T01:00:00Z'))).toBe(true);
  });
});

describe('cronFiredBetween across a DST jump', () => {
  // Sundays 02:30 in Berlin: on 2026-03-29 the clocks go from 02:00 to 03:00 (01:00 UTC), so 02:30 never happens.
  const inBerlin = cron.createTask('30 2 * * 0', () => {}, { timezone: 'Europe/Berlin' });
  const onTheWall = cron.createTask('30 2 * * 0', () => {}, { timezone: 'UTC' });
  const zone = { offsetAt: (d: Date) => offsetAt(d, 'Europe/Berlin'), matchWall: (d: Date) => onTheWall.match(d) };
  const match = (d: Date) => inBerlin.match(d);
  afterAll(async () => {
    await inBerlin.destroy();
    await onTheWall.destroy();
  });

  it('fires a time the clocks skip at the first minute after the jump, as cron does', () => {
    const saturday = new Date('2026-03-28T00:00:00Z');
    expect(cronFiredBetween(match, [0], saturday, new Date('2026-03-30T00:00:00Z'))).toBe(false);
    expect(cronFiredBetween(match, [0], saturday, new Date('2026-03-30T00:00:00Z'), zone)).toBe(true);
    expect(cronFiredBetween(match, [0], saturday, new Date('2026-03-29T00:59:59Z'), zone)).toBe(false);
    expect(cronFiredBetween(match, [0], saturday, new Date('2026-03-29T01:00:00Z'), zone)).toBe(true);
    expect(cronFiredBetween(match, [0], new Date('2026-03-29T01:00:00Z'), new Date('2026-04-04T00:00:00Z'), zone)).toBe(false);
  });

  it('still fires once a normal week, and the autumn week too', () => {
    expect(cronFiredBetween(match, [0], new Date('2026-03-30T00:00:00Z'), new Date('2026-04-06T00:00:00Z'), zone)).toBe(true);
    expect(cronFiredBetween(match, [0], new Date('2026-10-24T00:00:00Z'), new Date('2026-10-26T00:00:00Z'), zone)).toBe(true);
    expect(cronFiredBetween((d) => d.getTime() < 0, [0], new Date('2026-10-24T00:00:00Z'), new Date('2026-10-26T00:00:00Z'), zone)).toBe(false);
  });
});

describe('the weekly report schedule', () => {
  it('makes the report of a week whose REPORT_CRON time the clocks skip, right after the jump', async () => {
    const clock = fixedClock('2026-03-29T00:50:00Z');
    const config = { ...service.config, report: { ...service.config.report, cron: '30 2 * * 0' } };
    const jobs = startDrillAndReportJobs({ db: service.db.db, catalog: service.catalog, clock, config, logger: createLogger('silent'), onEnqueued: () => {} });
    running.push(jobs);
    await jobs.wakeReport();
    expect((await weeks()).filter(([w]) => w === '2026-W13')).toEqual([]);
    clock.set('2026-03-29T01:00:30Z');
    jobs.wakeReport();
    expect((await eventually(weeks, (w) => w.some(([week]) => week === '2026-W13'))).filter(([w]) => w === '2026-W13')).toEqual([['2026-W13', '2026-03-29T01:00:30.000Z']]);
    await jobs.stop();
    await service.db.db.deleteFrom('notifications').execute();
    await service.db.db.deleteFrom('reports').execute();
  });


  // REPORT_CRON is the default, Monday 09:00, in Europe/Berlin: 08:00 UTC in November.
  it('makes the week’s report when its time passes while the service runs, judged by the service clock', async () => {
    const clock = fixedClock('2026-11-23T07:30:00Z');
    const jobs = start(clock);
    await jobs.wakeReport();
    expect(await weeks()).toEqual([]);
    clock.set('2026-11-23T08:00:30Z');
    jobs.wakeReport();
    expect(await eventually(weeks, (w) => w.length > 0)).toEqual([['2026-W48', '2026-11-23T08:00:30.000Z']]);
    await jobs.stop();
  });

  it('makes a report that is still owed when it starts after the report time (every replica was down at 09:00)', async () => {
    await service.db.db.deleteFrom('reports').execute();
    const clock = fixedClock('2026-11-25T13:15:00Z');
    const jobs = start(clock);
    expect(await eventually(weeks, (w) => w.length > 0)).toEqual([['2026-W48', '2026-11-25T13:15:00.000Z']]);
    await jobs.stop();
  });

  it('owes nothing in a week whose report time has not come yet', async () => {
    await service.db.db.deleteFrom('reports').execute();
    const clock = fixedClock('2026-11-30T07:59:00Z');
    const jobs = start(clock);
    await jobs.wakeReport();
    expect(await weeks()).toEqual([]);
    await jobs.stop();
  });
});
