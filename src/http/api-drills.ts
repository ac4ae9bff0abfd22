// JSON API for drills: list (overdue / due this week / later / done), schedule by hand, detail, start, tick boxes,
// complete with an outcome and the gaps found, cancel.
import { Router } from 'express';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Db } from '../db/create-db.js';
import { cancelDrill, completeDrill, drillJson, listDrills, scheduleManualDrill, startDrill } from '../drills/drill-store.js';
import { dueInstant } from '../drills/due-date.js';
import { checkDrillBox, drillDetailJson, getDrillDetail } from '../drills/drill-view.js';
import { isoWeekBounds, isoWeekOf } from '../reports/iso-week.js';
import type { CatalogStore } from '../runbooks/catalog.js';
import { actorOf } from './api-incidents.js';
import { boxKey } from './box-key.js';
import { HttpError, notFound } from './http-error.js';

export interface DrillsDeps {
  db: Db;
  clock: Clock;
  catalog: CatalogStore;
  /** REPORT_TZ: "this week" ends on Monday 00:00 there, and a plain due day ends at midnight there. */
  timeZone: string;
}

const idParam = z.object({ id: z.coerce.number().int().positive() });
const instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
export const scheduleDrillBody = z.object({
  runbookId: z.string().trim().regex(/^RUN-\d+$/i, 'expected a runbook id like RUN-001').transform((s) => s.toUpperCase()),
  // A plain day stays a string here: what instant ends it depends on REPORT_TZ (see dueInstant).
  dueAt: z.union([instant, z.iso.date()]).optional(),
  reason: z.string().trim().max(2000).optional(),
  by: z.string().trim().min(1).max(200).optional(),
});
export const completeDrillBody = z.object({
  outcome: z.enum(['passed', 'gaps_found']),
  gaps: z.string().max(20_000).optional(),
  by: z.string().trim().min(1).max(200).optional(),
});
const checkBody = z.object({ key: boxKey, checked: z.boolean().default(true), by: z.string().trim().min(1).max(200).optional() });
const cancelBody = z.object({ reason: z.string().trim().max(2000).optional(), by: z.string().trim().min(1).max(200).optional() });

/** The end of the current ISO week in the report time zone. */
export function currentWeekEnd(now: Date, timeZone: string): Date {
  return isoWeekBounds(isoWeekOf(now, timeZone), timeZone).end;
}

export function requireRunbook(deps: DrillsDeps, runbookId: string) {
  const runbook = deps.catalog.current().runbooks.get(runbookId);
  if (!runbook) throw new HttpError(400, `${runbookId} is not a runbook in the catalog`);
  return runbook;
}

export function drillsApi(deps: DrillsDeps): Router {
  const router = Router();
  router.get('/drills', async (_req, res) => {
    const now = deps.clock.now();
    const lists = await listDrills(deps.db, now, currentWeekEnd(now, deps.timeZone));
    const json = (list: typeof lists.done) => list.map((d) => drillJson(d, now));
    res.json({ overdue: json(lists.overdue), dueThisWeek: json(lists.dueThisWeek), later: json(lists.later), done: json(lists.done) });
  });
  router.post('/drills', async (req, res) => {
    const body = scheduleDrillBody.parse(req.body);
    requireRunbook(deps, body.runbookId);
    const now = deps.clock.now();
    const dueAt = body.dueAt === undefined ? undefined : dueInstant(body.dueAt, deps.timeZone);
    const drill = await scheduleManualDrill(deps.db, { runbookId: body.runbookId, dueAt, reason: body.reason, by: actorOf(req, res), now });
    res.status(201).location(`/drills/${drill.id}`).json(drillJson(drill, now));
  });
  router.get('/drills/:id', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const now = deps.clock.now();
    const detail = await getDrillDetail(deps.db, id, deps.catalog.current(), now);
    if (!detail) throw notFound(`drill ${id}`);
    res.json(drillDetailJson(detail, now));
  });
  router.post('/drills/:id/start', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const now = deps.clock.now();
    const drill = await deps.db.transaction().execute(async (tx) => {
      const current = await tx.selectFrom('drills').select('runbook_id').where('id', '=', id).executeTakeFirst();
      if (!current) throw notFound(`drill ${id}`);
      return startDrill(tx, id, { runbook: deps.catalog.current().runbooks.get(current.runbook_id) ?? null, by: actorOf(req, res), now });
    });
    res.json(drillJson(drill, now));
  });
  router.post('/drills/:id/checks', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const body = checkBody.parse(req.body);
    const now = deps.clock.now();
    const r = await checkDrillBox(deps.db, id, { key: body.key, checked: body.checked, by: actorOf(req, res), now, catalog: deps.catalog.current() });
    res.json({ key: r.check.key, checked: r.check.checked, by: r.check.by, at: r.check.at.toISOString(), changed: r.changed });
  });
  router.post('/drills/:id/complete', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const body = completeDrillBody.parse(req.body);
    const now = deps.clock.now();
    const existing = await deps.db.selectFrom('drills').select('runbook_id').where('id', '=', id).executeTakeFirst();
    if (!existing) throw notFound(`drill ${id}`);
    const catalog = deps.catalog.current();
    const drill = await completeDrill(deps.db, id, { outcome: body.outcome, gaps: body.gaps, runbook: catalog.runbooks.get(existing.runbook_id) ?? null, by: actorOf(req, res), now, catalog });
    res.json(drillJson(drill, now));
  });
  router.post('/drills/:id/cancel', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const body = cancelBody.parse(req.body);
    const now = deps.clock.now();
    res.json(drillJson(await cancelDrill(deps.db, id, { reason: body.reason, by: actorOf(req, res), now }), now));
  });
  return router;
}
