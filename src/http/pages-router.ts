// The HTML pages of the responder surface, with their own error page (errors of /api keep their JSON).
import { Router } from 'express';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Db } from '../db/create-db.js';
import type { Routing } from '../incidents/routing.js';
import type { Logger } from '../logger.js';
import type { CatalogStore } from '../runbooks/catalog.js';
import { pageErrors } from './pages.js';
import { drillPages } from './pages-drills.js';
import { incidentPages } from './pages-incidents.js';
import { reportPages } from './pages-reports.js';
import { catalogPages } from './pages-runbooks.js';
import type { Renderer } from './render.js';

export interface ResponderPagesDeps {
  db: Db;
  clock: Clock;
  config: Config;
  catalog: CatalogStore;
  routing: () => Routing;
  renderer: Renderer;
  logger: Logger;
}

export function responderPages(deps: ResponderPagesDeps): Router {
  const router = Router();
  router.use(incidentPages(deps));
  router.use(catalogPages(deps));
  router.use(drillPages(deps));
  router.use(reportPages(deps));
  router.use(pageErrors(deps.renderer, deps.logger));
  return router;
}
