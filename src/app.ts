import express, { type Express } from 'express';
import { SOURCES } from './alerts/alert.js';
import type { WebhookSecrets } from './alerts/verify-signature.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Db } from './db/create-db.js';
import { drillsApi } from './http/api-drills.js';
import { incidentsApi } from './http/api-incidents.js';
import { reportsApi } from './http/api-reports.js';
import { runbooksApi } from './http/api-runbooks.js';
import { stepsApi } from './http/api-steps.js';
import { jsonApiWrites } from './http/csrf.js';
import { storableBody } from './http/storable-body.js';
import { errorHandler } from './http/error-handler.js';
import { healthRoutes } from './http/health.js';
import { pageNotFound } from './http/pages.js';
import { responderPages } from './http/pages-router.js';
import { pageForms, securityHeaders, staticAssets } from './http/pages-security.js';
import { createRenderer } from './http/render.js';
import { responderAuth } from './http/responder-auth.js';
import { webhookHandler } from './http/webhooks.js';
import type { IngestBatcher } from './incidents/ingest-batcher.js';
import type { Routing } from './incidents/routing.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { CatalogStore } from './runbooks/catalog.js';

export interface AppDeps {
  config: Config;
  db: Db;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  ingest: IngestBatcher;
  catalog: CatalogStore;
  routing: () => Routing;
  /** Asks the escalation loop to look now (after a responder action or a reload). */
  wakeEscalation: () => void;
}

export function webhookSecrets(config: Config): WebhookSecrets {
  return config.webhooks;
}

const LOOKS_LIKE_A_WEBHOOK = new RegExp(`webhook|${SOURCES.join('|')}`, 'i');

/** The whole HTTP surface; never listens (main.ts and the tests do). */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = req.path.startsWith('/webhooks/') ? 'webhook' : req.path.startsWith('/api/') ? 'api' : 'page';
      deps.metrics.httpDuration.observe({ route, status: `${Math.floor(res.statusCode / 100)}xx` }, seconds);
      deps.logger.info({ method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request');
    });
    next();
  });

  // Webhooks read their own raw body (signatures are over the exact bytes) and never see responder authentication.
  const webhooks = webhookHandler({ db: deps.db, ingest: deps.ingest, secrets: webhookSecrets(deps.config), maxBodyBytes: deps.config.maxBodyBytes, answerWithinMs: deps.config.webhookAnswerWithinMs, clock: deps.clock, metrics: deps.metrics, logger: deps.logger });
  app.post('/webhooks/:source', webhooks);
  app.put('/webhooks/:source', webhooks);

  app.use(healthRoutes({ db: deps.db, metrics: deps.metrics }));

  // Responder surface: security headers and static assets, then responder authentication for everything below;
  // API writes must be JSON (the CSRF argument is in http/csrf.ts).
  const renderer = createRenderer();
  app.use(securityHeaders());
  app.use('/static', staticAssets());
  app.use(responderAuth(deps.config).middleware);
  app.use('/api', jsonApiWrites({ publicUrl: deps.config.publicUrl }));
  // Every /api request passes here, so the routers mounted after it see the parsed, checked body too.
  app.use('/api', express.json({ limit: '1mb', strict: false }), storableBody(), incidentsApi({ db: deps.db, clock: deps.clock }));
  app.use('/api', drillsApi({ db: deps.db, clock: deps.clock, catalog: deps.catalog, timeZone: deps.config.report.timeZone }));
  app.use('/api', reportsApi({ db: deps.db, clock: deps.clock, catalog: deps.catalog, options: { timeZone: deps.config.report.timeZone, staleAfterDays: deps.config.staleAfterDays } }));

  app.use('/api', stepsApi({ db: deps.db, clock: deps.clock }), runbooksApi({ db: deps.db, clock: deps.clock, config: deps.config, catalog: deps.catalog }));
  // HTML pages: form bodies and their CSRF check, then the pages (drill and report pages mount after pageForms too).
  app.use(pageForms({ renderer, logger: deps.logger, publicUrl: deps.config.publicUrl }));
  app.use(responderPages({ db: deps.db, clock: deps.clock, config: deps.config, catalog: deps.catalog, routing: deps.routing, renderer, logger: deps.logger }));
  app.use(pageNotFound(renderer));

  app.use((req, res) => {
    const hint = LOOKS_LIKE_A_WEBHOOK.test(req.path) ? `; monitoring tools post to /webhooks/<source>, one of ${SOURCES.join(', ')}` : '';
    res.status(404).json({ error: `no route for ${req.method} ${req.path}${hint}` });
  });
  app.use(errorHandler(deps.logger));
  return app;
}
