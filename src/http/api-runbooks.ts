// JSON mirror of the catalog pages: GET /api/runbooks, /api/runbooks/:id, /api/matrix; POST /api/runbooks/reload.
import path from 'node:path';
import { Router } from 'express';
import { routingFromCatalog } from '../incidents/catalog-routing.js';
import { reloadWarnings } from '../incidents/unreachable-contacts.js';
import { catalogSnapshot, matrixJson, runbookJson, type CatalogDeps } from './pages-runbooks.js';

export function runbooksApi(deps: CatalogDeps): Router {
  const router = Router();
  router.get('/runbooks', async (_req, res) => {
    const snapshot = await catalogSnapshot(deps);
    const errors = snapshot.findings.filter((f) => f.severity === 'error').length;
    res.json({ runbooks: snapshot.summaries, findings: { errors, warnings: snapshot.findings.length - errors }, staleAfterDays: deps.config.staleAfterDays });
  });
  router.get('/runbooks/:id', async (req, res) => {
    res.json(runbookJson(await catalogSnapshot(deps), String(req.params.id).toUpperCase()));
  });
  router.get('/matrix', (_req, res) => {
    res.json(matrixJson(deps.catalog.current()));
  });
  router.post('/runbooks/reload', async (_req, res) => {
    const result = await deps.catalog.reload();
    const current = deps.catalog.current();
    // The reload has happened either way: a failed check is one of the warnings, not a 500 for the reload.
    const warnings = await reloadWarnings(deps.db, routingFromCatalog(current));
    res.json({
      ok: result.ok,
      runbooks: current.runbooks.size,
      findings: result.findings.map((f) => ({ ...f, file: path.relative(current.dir, f.file) || f.file })),
      warnings,
    });
  });
  return router;
}
