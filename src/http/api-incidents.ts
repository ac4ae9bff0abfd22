import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Db } from '../db/create-db.js';
import { acknowledgeIncident, addNote, resolveIncident } from '../incidents/incident-actions.js';
import { getIncident, incidentJson, listIncidents } from '../incidents/incident-queries.js';
import { notFound } from './http-error.js';

const idParam = z.object({ id: z.coerce.number().int().positive() });
const listQuery = z.object({ status: z.enum(['open', 'acknowledged', 'resolved', 'triggered', 'all']).default('open') });
const actorBody = z.object({ by: z.string().trim().min(1).max(200).optional() }).optional();
const noteBody = z.object({ text: z.string().trim().min(1).max(10_000), by: z.string().trim().min(1).max(200).optional() });

/**
 * Who did it: the authenticated responder when authentication is configured (set by the auth middleware on res.locals),
 * else, in local mode, the JSON body's `by` or `local`.
 */
export function actorOf(req: Request, res: Response): string {
  const responder = res.locals.responder as string | undefined;
  if (responder) return responder;
  const by = actorBody.parse(req.body)?.by;
  return by ?? 'local';
}

export function incidentsApi(deps: { db: Db; clock: Clock; onChange?: () => void }): Router {
  const router = Router();
  router.get('/incidents', async (req, res) => {
    const { status } = listQuery.parse(req.query);
    res.json({ incidents: await listIncidents(deps.db, status) });
  });
  router.get('/incidents/:id', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const detail = await getIncident(deps.db, id);
    if (!detail) throw notFound(`incident ${id}`);
    res.json(incidentJson(detail));
  });
  router.post('/incidents/:id/acknowledge', async (req, res) => {
    const { id } = idParam.parse(req.params);
    res.json(await acknowledgeIncident(deps.db, id, actorOf(req, res), deps.clock.now()));
  });
  router.post('/incidents/:id/resolve', async (req, res) => {
    const { id } = idParam.parse(req.params);
    res.json(await resolveIncident(deps.db, id, actorOf(req, res), deps.clock.now()));
  });
  router.post('/incidents/:id/notes', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const body = noteBody.parse(req.body);
    await addNote(deps.db, id, (res.locals.responder as string | undefined) ?? body.by ?? 'local', body.text, deps.clock.now());
    res.status(201).json({ ok: true });
  });
  return router;
}
