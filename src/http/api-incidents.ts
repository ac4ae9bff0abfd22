import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Db } from '../db/create-db.js';
import { acknowledgeIncident, addNote, resolveIncident } from '../incidents/incident-actions.js';
import { boundsFor, BOUNDED, getIncidentWork, incidentJson, LIST_LIMIT, listIncidents, parseCursor } from '../incidents/incident-queries.js';
import { notFound } from './http-error.js';

const idParam = z.object({ id: z.coerce.number().int().positive() });
// Strict: an unknown key (`offset`, `page`) is refused by name, not ignored into an answer that looks whole.
const listQuery = z.strictObject({
  status: z.enum(['open', 'acknowledged', 'resolved', 'triggered', 'all']).default('open'),
  limit: z.coerce.number().int().min(1).max(LIST_LIMIT.max).default(LIST_LIMIT.default),
  before: z
    .string()
    .transform((text, ctx) => {
      const cursor = parseCursor(text);
      if (!cursor) ctx.addIssue({ code: 'custom', message: 'expected the nextCursor of a previous answer (<opened_at ISO>,<id>)' });
      return cursor ?? z.NEVER;
    })
    .optional(),
});
/** `?all=alerts`, `?all=timeline` or `?all=alerts,timeline`: the lists of an incident to load whole. */
export const allParam = z
  .string()
  .transform((text) => text.split(','))
  .pipe(z.array(z.enum(['alerts', 'timeline'])))
  .optional();
const detailQuery = z.object({ all: allParam });
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
    const { status, limit, before } = listQuery.parse(req.query);
    res.json(await listIncidents(deps.db, status, { limit, before }));
  });
  router.get('/incidents/:id', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const { all } = detailQuery.parse(req.query);
    const detail = await getIncidentWork(deps.db, id, boundsFor(BOUNDED, all));
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
