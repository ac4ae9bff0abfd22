// What the service runs on a timer for drills and reports: the weekly report on REPORT_CRON (node-cron, REPORT_TZ)
// and the cadence drill round every minute. Both run in every replica; the database decides who does the work.
import cron from 'node-cron';
import { startBackgroundLoop } from '../background-loop.js';
import type { Clock } from '../clock.js';
import { ConfigError, type Config } from '../config.js';
import type { Db } from '../db/create-db.js';
import { scheduleCadenceDrills } from '../drills/cadence.js';
import type { Logger } from '../logger.js';
import type { CatalogStore } from '../runbooks/catalog.js';
import { runWeeklyReportJob } from './report-job.js';

const CADENCE_EVERY_MS = 60_000;

/** REPORT_CRON is checked at startup, not at the first Monday. */
export function assertValidReportCron(config: Config): void {
  const check = cron.validateDetailed(config.report.cron);
  if (!check.valid) {
    throw new ConfigError([`REPORT_CRON: ${JSON.stringify(config.report.cron)} is not a cron expression (${check.errors.map((e) => `${e.field}: ${e.message}`).join('; ')})`]);
  }
}

export interface ScheduledJobs {
  /** Runs a cadence round now (the report keeps to its cron). */
  wake(): void;
  stop(): Promise<void>;
}

export function startDrillAndReportJobs(deps: { db: Db; catalog: CatalogStore; clock: Clock; config: Config; logger: Logger; onEnqueued: () => void }): ScheduledJobs {
  const { db, catalog, clock, config, logger } = deps;
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
  let running: Promise<void> | null = null;
  const task = cron.schedule(
    config.report.cron,
    () => {
      running = (async () => {
        try {
          const r = await runWeeklyReportJob(db, catalog.current(), clock.now(), {
            timeZone: config.report.timeZone,
            staleAfterDays: config.staleAfterDays,
            contacts: config.report.contacts,
            publicUrl: config.publicUrl,
          });
          if (r.reportId === null) return;
          logger.info({ week: r.week, report: r.reportId, notifications: r.notifications }, 'weekly report stored');
          if (r.unknownContacts.length) logger.warn({ contacts: r.unknownContacts }, 'REPORT_CONTACTS names contacts the matrix does not have; nothing sent to them');
          if (r.notifications) deps.onEnqueued();
        } catch (error) {
          logger.warn({ err: error }, 'weekly report failed; the next cron tick retries');
        }
      })();
      return running;
    },
    { timezone: config.report.timeZone, name: 'weekly-report', noOverlap: true },
  );
  return {
    wake: () => cadence.wake(),
    async stop() {
      await task.destroy();
      await running;
      await cadence.stop();
    },
  };
}
