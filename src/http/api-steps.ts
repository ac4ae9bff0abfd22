// JSON API for the incident page's checkboxes:
//   GET  /api/incidents/:id/steps                 every checkbox of the pinned runbook with who/when, and step timings
//   POST /api/incidents/:id/steps/:stepKey        {"checked": true|false}
//   GET  /api/incidents/:id/follow-ups
//   POST /api/incidents/:id/follow-ups/:itemKey   {"done": true|false} (default true)
// Writes are JSON-only (see csrf.ts); the actor is the authenticated responder, or in local mode the body's `by` or `local`.
import { Router } from 'express';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Db } from '../db/create-db.js';
import { setFollowUp } from '../incidents/follow-ups.js';
import { BOUNDED } from '../incidents/incident-queries.js';
import { incidentStepClock } from '../incidents/step-clock.js';
import { checkItems, setStepCheck, stepTimings } from '../incidents/step-checks.js';
import { actorOf } from './api-incidents.js';
import { boxKey } from './box-key.js';
import { createPinnedRunbooks, loadIncidentContext, requireRunbook } from './incident-context.js';
import { fillFromAlerts } from './render-runbook.js';

const idParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
const stepParams = idParam.extend({ stepKey: boxKey });
const followUpParams = idParam.extend({ itemKey: boxKey });
const checkBody = z.object({ checked: z.boolean(), by: z.string().trim().min(1).max(200).optional() });
const followUpBody = z.object({ done: z.boolean().default(true), by: z.string().trim().min(1).max(200).optional() }).default({ done: true });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function stepsApi(deps: { db: Db; clock: Clock }): Router {
  const router = Router();
  const { db, clock } = deps;
  const pins = createPinnedRunbooks();

  router.get('/incidents/:id/steps', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const ctx = await loadIncidentContext(db, id, pins, BOUNDED);
    const runbook = requireRunbook(ctx);
    const timings = stepTimings(runbook, ctx.checks, { ...incidentStepClock({ ...ctx.incident, timeline: ctx.timeline }, ctx.checks), now: clock.now(), active: ctx.incident.status !== 'resolved' });
    res.json({
      incidentId: id,
      runbookId: runbook.id,
      runbookHash: ctx.pinned!.hash,
      items: checkItems(runbook).map((item) => {
        const c = ctx.checks.get(item.key);
        return { key: item.key, kind: item.kind, title: item.title, step: item.step?.number ?? null, checked: c?.checked ?? false, by: c?.by ?? null, at: iso(c?.at ?? null) };
      }),
      steps: runbook.steps.map((s) => {
        const t = timings.get(s.key)!;
        return { key: s.key, number: s.number, title: s.title, expectedMs: t.expectedMs, maxMs: t.maxMs, startedAt: iso(t.startAt), doneAt: iso(t.doneAt), actualMs: t.actualMs, state: t.state, checkpoint: s.checkpoint };
      }),
    });
  });

  router.post('/incidents/:id/steps/:stepKey', async (req, res) => {
    const { id, stepKey } = stepParams.parse(req.params);
    const body = checkBody.parse(req.body);
    const ctx = await loadIncidentContext(db, id, pins, BOUNDED);
    const result = await setStepCheck(db, { subject: { incidentId: id }, runbook: requireRunbook(ctx), key: stepKey, checked: body.checked, by: actorOf(req, res), now: clock.now(), fill: fillFromAlerts(ctx.alerts) });
    res.json({ incidentId: id, stepKey, title: result.item.title, kind: result.item.kind, checked: result.check.checked, by: result.check.by, at: result.check.at.toISOString(), changed: result.changed });
  });

  router.get('/incidents/:id/follow-ups', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const ctx = await loadIncidentContext(db, id, pins, BOUNDED);
    res.json({ incidentId: id, followUps: ctx.followUps.map((f) => ({ key: f.key, text: f.text, done: f.done, by: f.doneBy, at: iso(f.doneAt), createdAt: f.createdAt.toISOString() })) });
  });

  router.post('/incidents/:id/follow-ups/:itemKey', async (req, res) => {
    const { id, itemKey } = followUpParams.parse(req.params);
    const body = followUpBody.parse(req.body ?? {});
    const result = await setFollowUp(db, { incidentId: id, key: itemKey, done: body.done, by: actorOf(req, res), now: clock.now() });
    const f = result.followUp;
    res.json({ incidentId: id, itemKey, text: f.text, done: f.done, by: f.doneBy, at: iso(f.doneAt), changed: result.changed });
  });

  return router;
}
