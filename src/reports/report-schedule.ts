// What the service runs on a timer for drills and reports: the weekly report on REPORT_CRON (node-cron, REPORT_TZ)
// and the cadence drill round every minute. Both run in every replica; the database decides who does the work.
// A failed report round is logged by the loop ('background round failed') and tried again a minute later.
import cron from 'node-cron';
import { startBackgroundLoop } from '../background-loop.js';
import type { Clock } from '../clock.js';
import { ConfigError, type Config } from '../config.js';
import type { Db } from '../db/create-db.js';
import { scheduleCadenceDrills } from '../drills/cadence.js';
import type { Logger } from '../logger.js';
import type { CatalogStore } from '../runbooks/catalog.js';
import { cronFiredBetween } from './cron-fired-between.js';
import { isoWeekBounds, isoWeekOf, offsetAt } from './iso-week.js';
import { runWeeklyReportJob } from './report-job.js';

const CADENCE_EVERY_MS = 60_000;
const REPORT_RETRY_EVERY_MS = 60_000;

/** REPORT_CRON is checked at startup, not at the first Monday. */
export function assertValidReportCron(config: Config): void {
  const check = cron.validateDetailed(config.report.cron);
  if (!check.valid) {
    throw new ConfigError([`REPORT_CRON: ${JSON.stringify(config.report.cron)} is not a cron expression (${check.errors.map((e) => `${e.field}: ${e.message}`).join('; ')})`]);
  }
}

export interface ScheduledJobs {
  /** Runs a cadence round now (the report keeps to its cron); resolves when it has finished. */
  wake(): Promise<void>;
  /**
   * Runs a weekly-report round now: makes this week's report if its cron time has passed and it is still missing.
   * Resolves when that round has finished.
   */
  wakeReport(): Promise<void>;
  stop(): Promise<void>;
}

export function startDrillAndReportJobs(deps: { db: Db; catalog: CatalogStore; clock: Clock; config: Config; logger: Logger; onEnqueued: () => void }): ScheduledJobs {
  const { db, catalog, clock, config, logger } = deps;
  const timeZone = config.report.timeZone;
  const cadence = startBackgroundLoop(
    'drill-cadence',
    CADENCE_EVERY_MS,
    async () => {
      const r = await scheduleCadenceDrills(db, catalog.current(), clock.now());
      if (r.scheduled || r.rescheduled || r.cancelled) logger.info(r, 'cadence drills updated');
      return false;
    },
    logger,
  );

  // The cron says when a week's report is due; the report loop makes it, and keeps trying every minute until it is
  // stored. A tick that fails (the database away at that minute) or that nobody heard (every replica down) would
  // otherwise leave the week without its report until next week's tick.
  let owedWeek: string | null = null;
  let scanned: { week: string; until: Date } | null = null;
  const seconds = cron.parse(config.report.cron).second;
  const task = cron.schedule(
    config.report.cron,
    () => {
      owedWeek = isoWeekOf(clock.now(), timeZone);
      report.wake();
    },
    { timezone: timeZone, name: 'weekly-report', noOverlap: true },
  );
  // Never started: the expression matched against wall-clock fields, for a report time inside a DST jump.
  const wallTask = cron.createTask(config.report.cron, () => {}, { timezone: 'UTC', name: 'weekly-report-wall-clock' });
  const zone = { offsetAt: (instant: Date) => offsetAt(instant, timeZone), matchWall: (wall: Date) => wallTask.match(wall) };
  const report = startBackgroundLoop(
    'weekly-report',
    REPORT_RETRY_EVERY_MS,
    async () => {
      const now = clock.now();
      const week = isoWeekOf(now, timeZone);
      if (owedWeek !== week) {
        const after = scanned?.week === week ? scanned.until : new Date(isoWeekBounds(week, timeZone).start.getTime() - 1);
        if (cronFiredBetween((d) => task.match(d), seconds, after, now, zone)) owedWeek = week;
        scanned = { week, until: now };
      }
      if (owedWeek !== week) return false;
      const r = await runWeeklyReportJob(db, catalog.current(), now, {
        timeZone,
        staleAfterDays: config.staleAfterDays,
        contacts: config.report.contacts,
        publicUrl: config.publicUrl,
      });
      owedWeek = null;
      if (r.reportId === null) return false;
      logger.info({ week: r.week, report: r.reportId, notifications: r.notifications }, 'weekly report stored');
      if (r.unknownContacts.length) logger.warn({ contacts: r.unknownContacts }, 'REPORT_CONTACTS names contacts the matrix does not have; nothing sent to them');
      if (r.notifications) deps.onEnqueued();
      return false;
    },
    logger,
  );
  return {
    wake: () => cadence.wake(),
    wakeReport: () => report.wake(),
    async stop() {
      await task.destroy();
      await wallTask.destroy();
      await report.stop();
      await cadence.stop();
    },
  };
}
