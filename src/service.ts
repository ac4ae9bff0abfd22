import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import { SOURCES } from './alerts/alert.js';
import { hasSecret } from './alerts/verify-signature.js';
import { createApp, webhookSecrets } from './app.js';
import { startBackgroundLoop, type BackgroundLoop } from './background-loop.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { assertSafeListen } from './local-mode.js';
import { createDb, type DbHandle } from './db/create-db.js';
import { migrateToLatest } from './db/migrate.js';
import { routingFromCatalog } from './incidents/catalog-routing.js';
import { ESCALATION_LOCK_WAIT_MS, runEscalationTick } from './incidents/escalation-tick.js';
import { createIngestBatcher } from './incidents/ingest-batcher.js';
import { createOutboxSender, currentChannelUrl, outboxBacklog, type OutboxSender } from './incidents/outbox.js';
import { receiveBatch } from './incidents/receive.js';
import type { Routing } from './incidents/routing.js';
import { localHostGuard } from './http/local-host-guard.js';
import { webhookFastPath } from './http/webhooks.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { assertValidReportCron, startDrillAndReportJobs } from './reports/report-schedule.js';
import { parseResponders } from './responders/responders.js';
import { createCatalogStore, type Catalog, type CatalogStore } from './runbooks/catalog.js';
import { MATRIX_FILE } from './runbooks/catalog-sources.js';

export interface Service {
  app: Express;
  config: Config;
  db: DbHandle;
  catalog: CatalogStore;
  metrics: Metrics;
  logger: Logger;
  routing(): Routing;
  /** Listens on config.host:config.port (port 0 picks a free one) and starts the background loops. */
  start(): Promise<{ port: number; url: string }>;
  /** Graceful: stop accepting, finish in-flight requests and batches, stop the loops, close the database. */
  stop(): Promise<void>;
}

/** The service will not start as configured; each line says what to fix (`file:line: message` where there is one). */
export class StartRefused extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
    this.name = 'StartRefused';
  }
}

export interface ServiceOptions {
  clock?: Clock;
  logger?: Logger;
  /** Tests that drive the ticks by hand turn the loops off. */
  backgroundLoops?: boolean;
}

const ESCALATION_BATCH = 200;

export async function createService(config: Config, options: ServiceOptions = {}): Promise<Service> {
  assertSafeListen(config);
  assertValidReportCron(config);
  // Checked in full before the database opens: refused later, the open database (and its data directory lock) kept
  // the process alive, not listening, until something killed it.
  parseResponders(config.auth.responders);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  // A container restarted after a crash gets a new pid namespace and cannot check its old lock: it waits for it to go stale.
  const db = await createDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize, waitForUncheckableLock: true, onLockWait: (message) => logger.warn(message) });
  try {
    const applied = await migrateToLatest(db.db);
    if (applied.length) logger.info({ applied }, 'migrations applied');
  } catch (error) {
    await db.close();
    throw error;
  }

  const catalog = createCatalogStore(config.runbooksDir);
  const first = await catalog.reload();
  // After a bad edit a reload keeps the last good matrix; at start there is none, and a service without its matrix
  // opens every incident unrouted and pages nobody. A deploy or restart with a broken matrix.yml must fail loudly.
  // A missing matrix.yml (RUNBOOKS_DIR pointing at the wrong folder, say) is refused for the same reason.
  if (!catalog.current().matrix) {
    const matrixFile = path.join(config.runbooksDir, MATRIX_FILE);
    const present = catalog.current().files.some((f) => path.basename(f) === MATRIX_FILE);
    await db.close();
    throw new StartRefused(
      present
        ? [
            ...first.findings.filter((f) => f.severity === 'error' && path.basename(f.file) === MATRIX_FILE).map((f) => `${f.file}:${f.line}: ${f.message}`),
            `${MATRIX_FILE} is invalid and no earlier version is in service, so no alert could page anyone: fix it (npx runbook-router lint ${config.runbooksDir}) and start again`,
          ]
        : [`${matrixFile}: not found (RUNBOOKS_DIR=${config.runbooksDir}); without the incident response matrix no alert could page anyone`],
    );
  }
  if (first.findings.some((f) => f.severity === 'error')) {
    logger.warn({ errors: first.findings.filter((f) => f.severity === 'error').map((f) => `${f.file}:${f.line}: ${f.rule}: ${f.message}`) }, 'runbook catalog has errors');
  }
  const unrouted = first.findings.filter((f) => f.rule === 'matrix-unknown-runbook');
  if (unrouted.length) logger.warn({ routes: unrouted.map((f) => `${f.file}:${f.line}: ${f.message}`) }, 'the matrix routes alerts to runbooks that do not exist');
  // Said at start, not first at the week's end, when the report that nobody receives is already due.
  const startMatrix = catalog.current().matrix;
  const contacts = startMatrix?.contacts ?? {};
  const unknownReportContacts = config.report.contacts.filter((c) => !Object.hasOwn(contacts, c));
  if (startMatrix && unknownReportContacts.length) logger.warn({ contacts: unknownReportContacts }, 'REPORT_CONTACTS names contacts the matrix does not have; the weekly report will not be sent to them');
  let routingFor: { catalog: Catalog; routing: Routing } | null = null;
  const routing = (): Routing => {
    const current = catalog.current();
    if (routingFor?.catalog === current) return routingFor.routing;
    routingFor = { catalog: current, routing: routingFromCatalog(current) };
    return routingFor.routing;
  };

  const unsigned = SOURCES.filter((source) => !hasSecret(source, config.webhooks));
  if (unsigned.length) logger.warn({ sources: unsigned }, 'webhook sources without a secret accept unauthenticated deliveries');

  const loops: BackgroundLoop[] = [];
  let escalationLoop: BackgroundLoop | null = null;
  let outboxLoop: BackgroundLoop | null = null;
  let outbox: OutboxSender | null = null;

  const ingest = createIngestBatcher({
    maxWaitMs: config.batch.maxWaitMs,
    maxSize: config.batch.maxSize,
    concurrency: db.kind === 'postgres' ? 2 : 1,
    onBatch: (size) => metrics.batchSize.observe(size),
    commit: async (deliveries) => {
      const summary = await receiveBatch(db.db, deliveries, () => ({ routing: routing(), now: clock.now(), reopenWindowMs: config.reopenWindowMs, flappingAfter: config.flappingAfter }));
      metrics.ingestBatches.inc({ path: summary.singleStatement ? 'single' : 'transaction' });
      for (const opened of summary.opened) {
        metrics.incidentsOpened.inc({ severity: opened.severity });
        logger.info({ incident: opened.id, severity: opened.severity }, 'incident opened');
      }
      if (summary.escalationDue) escalationLoop?.wake();
      return summary.outcomes;
    },
  });

  const app = createApp({ config, db: db.db, clock, logger, metrics, ingest, catalog, routing, wakeEscalation: () => escalationLoop?.wake() });

  let server: Server | null = null;
  return {
    app,
    config,
    db,
    catalog,
    metrics,
    logger,
    routing,
    async start() {
      // Webhook deliveries in their plain form skip Express (see webhookFastPath); everything else is the Express app.
      const listener = localHostGuard(config, webhookFastPath({ db: db.db, ingest, secrets: webhookSecrets(config), maxBodyBytes: config.maxBodyBytes, answerWithinMs: config.webhookAnswerWithinMs, clock, metrics, logger }, app));
      server = await new Promise<Server>((resolve, reject) => {
        const s = createServer(listener);
        s.once('error', reject);
        s.listen(config.port, config.host, () => {
          s.off('error', reject);
          resolve(s);
        });
      });
      // Longer than typical load balancer idle timeouts, so they close first and never hit a closing socket.
      server.keepAliveTimeout = 65_000;
      if (options.backgroundLoops !== false) {
        escalationLoop = startBackgroundLoop(
          'escalation',
          config.escalationTickMs,
          async () => {
            const r = await runEscalationTick(db.db, { routing: routing(), now: clock.now(), clock: () => clock.now(), publicUrl: config.publicUrl, limit: ESCALATION_BATCH });
            for (const lag of r.lagsMs) metrics.timerLag.observe(Math.max(0, lag) / 1000);
            for (const severity of r.severities) metrics.escalationsFired.inc({ severity });
            if (r.fired) outboxLoop?.wake();
            if (r.unreachable.length) {
              // Nobody was paged for these levels: as loud as a notification that failed for good.
              metrics.notificationsSent.inc({ outcome: 'failed' }, r.unreachable.length);
              logger.warn({ incidents: r.unreachable }, 'escalation fired to a contact the matrix does not have (or with no channel): nobody was paged for it');
            }
            if (r.lockedOut?.length) {
              logger.warn(
                { incidents: r.lockedOut },
                `escalations due but not fired: another transaction or replica held a lock they need (most likely the incident's row) past ${ESCALATION_LOCK_WAIT_MS} ms; trying again next round`,
              );
            }
            if (r.error) logger.warn({ err: r.error }, 'escalations still due after the first pass could not be fired; trying again next round');
            return r.full;
          },
          logger,
        );
        outbox = createOutboxSender(db.db, () => clock.now(), config.notify, {
          onRecorded(r) {
            metrics.notificationsSent.inc({ outcome: 'sent' }, r.sent);
            metrics.notificationsSent.inc({ outcome: 'retry' }, r.retried);
            metrics.notificationsSent.inc({ outcome: 'failed' }, r.failed);
          },
          // The POSTs went out; their outcomes are not recorded, so their leases run out and they are sent again (receivers dedupe).
          onError: (error) => logger.warn({ err: error }, 'notification outcomes could not be recorded; they are sent again once their lease ends'),
          onFreed: () => void outboxLoop?.wake(),
          currentUrl: (n) => currentChannelUrl(routing())(n),
        });
        const sender = outbox;
        outboxLoop = startBackgroundLoop(
          'outbox',
          Math.min(config.escalationTickMs, 1000),
          async () => {
            const r = await sender.round();
            metrics.notificationsSent.inc({ outcome: 'cancelled' }, r.cancelled);
            metrics.outboxBacklog.set(await outboxBacklog(db.db));
            return r.more;
          },
          logger,
        );
        loops.push(escalationLoop, outboxLoop);
        loops.push(startDrillAndReportJobs({ db: db.db, catalog, clock, config, logger, onEnqueued: () => outboxLoop?.wake() }));
      }
      const port = (server.address() as AddressInfo).port;
      logger.info({ pid: process.pid, host: config.host, port, database: db.kind, location: db.location, runbooks: catalog.current().runbooks.size }, 'runbook-router listening');
      return { port, url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}` };
    },
    async stop() {
      if (server) {
        const closing = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeIdleConnections();
        // In-flight requests get a grace period; a client holding a keep-alive socket open does not hold the shutdown.
        const force = setTimeout(() => server?.closeAllConnections(), 10_000);
        await closing;
        clearTimeout(force);
      }
      await Promise.all(loops.map((l) => l.stop()));
      if (outbox?.inFlight()) {
        logger.info({ notifications: outbox.inFlight(), upToMs: config.notify.timeoutMs }, 'waiting for notifications in flight before stopping');
      }
      await outbox?.drain();
      await ingest.drain();
      await db.close();
    },
  };
}
