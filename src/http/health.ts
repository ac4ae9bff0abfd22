import { Router } from 'express';
import { pingDb, type Db } from '../db/create-db.js';
import { pendingMigrations } from '../db/migrate.js';
import type { Metrics } from '../metrics.js';

export function healthRoutes(deps: { db: Db; metrics: Metrics }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Ready means the database answers and every migration on disk is applied; a load balancer stops sending until then.
  router.get('/readyz', async (_req, res) => {
    try {
      await withTimeout(pingDb(deps.db), 2000);
      const pending = await withTimeout(pendingMigrations(deps.db), 2000);
      if (pending.length) {
        res.status(503).json({ status: 'not ready', reason: `migrations not applied: ${pending.join(', ')}` });
        return;
      }
      res.json({ status: 'ready' });
    } catch (error) {
      res.status(503).json({ status: 'not ready', reason: `database unreachable: ${(error as Error).message}` });
    }
  });
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  return router;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms}ms`)), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    );
  });
}
