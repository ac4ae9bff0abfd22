// The drill pages: GET /drills (overdue, due this week, later, done, and a form to schedule one by hand) and
// GET /drills/:id (the runbook pinned at start with its checkboxes, each step timed against its `Duration:`, and the
// outcome form), with the plain-HTML forms they post (each redirects back, 303).
import { Router } from 'express';
import { z } from 'zod';
import type { Drill } from '../db/schema.js';
import { cancelDrill, completeDrill, isOpen, listDrills, scheduleManualDrill, startDrill } from '../drills/drill-store.js';
import { dueInstant, isEndOfDayIn } from '../drills/due-date.js';
import { checkDrillBox, getDrillDetail, type DrillDetail } from '../drills/drill-view.js';
import { catalogFreshness } from '../drills/freshness.js';
import { localDate } from '../reports/iso-week.js';
import type { CatalogStore } from '../runbooks/catalog.js';
import { currentWeekEnd } from './api-drills.js';
import { boxKey } from './box-key.js';
import { HttpError, notFound } from './http-error.js';
import { backTo, formActor } from './pages.js';
import type { ResponderPagesDeps } from './pages-router.js';
import { relative, span, utcDay, utcMinute } from './render-format.js';
import { anchorOf, runbookView } from './render-runbook.js';

export type DrillPagesDeps = Pick<ResponderPagesDeps, 'db' | 'clock' | 'config' | 'catalog' | 'renderer'>;

const idParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
const stepParams = idParam.extend({ stepKey: boxKey });
const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const scheduleForm = z.object({
  runbookId: z.string().trim().regex(/^RUN-\d+$/i, 'choose a runbook').transform((s) => s.toUpperCase()),
  // <input type="date">: a day, due until its end in REPORT_TZ; empty means within a week.
  dueDate: z.union([z.literal(''), z.iso.date()]).optional(),
  reason: z.string().trim().max(2000).optional(),
});
const completeForm = z.object({ outcome: z.enum(['passed', 'gaps_found']), gaps: z.string().max(20_000).optional() });
const cancelForm = z.object({ reason: z.string().trim().max(2000).optional() });

const TRIGGER_LABEL: Record<Drill['trigger'], string> = { cadence: 'Cadence', escalation: 'Escalated incident', manual: 'By hand' };

function drillRow(d: Drill, now: Date, titles: Map<string, string>, timeZone: string) {
  return {
    id: d.id,
    href: `/drills/${d.id}`,
    runbookId: d.runbook_id,
    runbookTitle: titles.get(d.runbook_id) ?? null,
    trigger: TRIGGER_LABEL[d.trigger],
    reason: d.reason,
    incidentId: d.incident_id,
    status: d.status,
    running: d.status === 'running',
    dueIso: d.due_at.toISOString(),
    // The day on REPORT_TZ's calendar: the weeks these lists are cut into are that zone's weeks.
    dueText: localDate(d.due_at, timeZone),
    dueRelative: relative(d.due_at, now),
    completedText: d.completed_at ? utcMinute(d.completed_at) : null,
    outcome: d.outcome,
    passed: d.outcome === 'passed',
    gaps: d.gaps,
  };
}

export function drillView(
  detail: DrillDetail,
  deps: { now: Date; catalog: CatalogStore; timeZone: string; lastTested: { date: string | null; source: string; stale: boolean } | null },
) {
  const { drill: d, runbook, pinned, checks } = detail;
  const { now, timeZone } = deps;
  const open = isOpen(d);
  const base = `/drills/${d.id}`;
  const current = deps.catalog.current().runbooks.get(d.runbook_id);
  const view = runbook ? runbookView(runbook, { actionBase: open ? base : null, refs: null, checks, startedAt: d.started_at, now, active: d.status === 'running' }) : null;
  const timed = (runbook?.steps ?? []).map((s) => ({ step: s, t: detail.timings.get(s.key)! }));
  return {
    id: d.id,
    base,
    runbookId: d.runbook_id,
    runbookTitle: runbook?.title ?? current?.title ?? null,
    trigger: TRIGGER_LABEL[d.trigger],
    reason: d.reason,
    incidentId: d.incident_id,
    status: d.status,
    statusLabel: d.status === 'scheduled' ? 'Scheduled' : d.status === 'running' ? 'Running' : d.status === 'completed' ? 'Completed' : 'Cancelled',
    scheduled: d.status === 'scheduled',
    running: d.status === 'running',
    completed: d.status === 'completed',
    open,
    overdue: open && d.due_at < now,
    // A drill given a plain day shows that day, not the instant that ends it (a UTC minute on the next day in the Americas).
    dueText: isEndOfDayIn(d.due_at, timeZone) ? `${localDate(d.due_at, timeZone)} (end of the day, ${timeZone})` : utcMinute(d.due_at),
    dueRelative: relative(d.due_at, now),
    createdText: `${utcMinute(d.created_at)}${d.created_by ? ` by ${d.created_by}` : ''}`,
    started: d.started_at ? { by: d.started_by, text: utcMinute(d.started_at) } : null,
    completedInfo: d.completed_at ? { text: utcMinute(d.completed_at), took: d.started_at ? span(d.completed_at.getTime() - d.started_at.getTime()) : null } : null,
    outcome: d.outcome,
    passed: d.outcome === 'passed',
    gaps: d.gaps,
    lastTested: deps.lastTested,
    pinned: pinned && d.runbook_hash ? { hashShort: d.runbook_hash.slice(0, 12), changedSince: current !== undefined && current.hash !== d.runbook_hash } : null,
    runbook: view,
    // "Time every step": the durations that were off, for the gaps write-up.
    timingSummary: {
      timed: timed.filter((x) => x.t.doneAt !== null).length,
      over: timed
        .filter((x) => x.t.doneAt !== null && (x.t.state === 'over' || x.t.state === 'overrun'))
        .map((x) => ({ number: x.step.number, title: x.step.title, took: span(x.t.actualMs ?? 0), expected: x.t.expectedMs !== null ? span(x.t.expectedMs) : null })),
    },
  };
}

export function drillPages(deps: DrillPagesDeps): Router {
  const router = Router();
  const { db, clock, renderer } = deps;
  const timeZone = deps.config.report.timeZone;

  router.get('/drills', async (_req, res) => {
    const now = clock.now();
    const catalog = deps.catalog.current();
    const titles = new Map([...catalog.runbooks.values()].map((r) => [r.id, r.title]));
    const lists = await listDrills(db, now, currentWeekEnd(now, timeZone));
    const rows = (list: Drill[]) => list.map((d) => drillRow(d, now, titles, timeZone));
    renderer.page(
      res,
      'drills',
      {
        overdue: rows(lists.overdue),
        dueThisWeek: rows(lists.dueThisWeek),
        later: rows(lists.later),
        done: rows(lists.done),
        runbooks: [...catalog.runbooks.values()].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true })).map((r) => ({ id: r.id, title: r.title })),
        timeZone,
      },
      { title: lists.overdue.length ? `(${lists.overdue.length} overdue) Drills` : 'Drills', section: 'drills', now },
    );
  });

  router.post('/drills', async (req, res) => {
    const form = scheduleForm.parse(req.body);
    if (!deps.catalog.current().runbooks.has(form.runbookId)) throw new HttpError(400, `${form.runbookId} is not a runbook in the catalog`);
    const drill = await scheduleManualDrill(db, {
      runbookId: form.runbookId,
      dueAt: form.dueDate ? dueInstant(form.dueDate, timeZone) : undefined,
      reason: form.reason,
      by: formActor(res),
      now: clock.now(),
    });
    backTo(res, `/drills/${drill.id}`);
  });

  router.get('/drills/:id', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const now = clock.now();
    const catalog = deps.catalog.current();
    const detail = await getDrillDetail(db, id, catalog, now);
    if (!detail) throw notFound(`drill ${id}`);
    const fresh = catalog.runbooks.has(detail.drill.runbook_id) ? (await catalogFreshness(db, catalog, now, deps.config.staleAfterDays)).get(detail.drill.runbook_id)! : null;
    const view = drillView(detail, {
      now,
      catalog: deps.catalog,
      timeZone,
      lastTested: fresh ? { date: fresh.date ? utcDay(fresh.date) : null, source: fresh.source, stale: fresh.stale } : null,
    });
    renderer.page(res, 'drill', view, { title: `Drill #${id} ${view.runbookId}${view.runbookTitle ? ` ${view.runbookTitle}` : ''}`, section: 'drills', bodyClass: `drill-${view.status}`, now });
  });

  router.post('/drills/:id/start', async (req, res) => {
    const { id } = idParam.parse(req.params);
    await db.transaction().execute(async (tx) => {
      const d = await tx.selectFrom('drills').select('runbook_id').where('id', '=', id).executeTakeFirst();
      if (!d) throw notFound(`drill ${id}`);
      await startDrill(tx, id, { runbook: deps.catalog.current().runbooks.get(d.runbook_id) ?? null, by: formActor(res), now: clock.now() });
    });
    backTo(res, `/drills/${id}`, 'runbook');
  });

  router.post('/drills/:id/steps/:stepKey', async (req, res) => {
    const { id, stepKey } = stepParams.parse(req.params);
    const { checked } = z.object({ checked: bool }).parse(req.body);
    await checkDrillBox(db, id, { key: stepKey, checked, by: formActor(res), now: clock.now(), catalog: deps.catalog.current() });
    backTo(res, `/drills/${id}`, anchorOf(stepKey));
  });

  router.post('/drills/:id/complete', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const form = completeForm.parse(req.body);
    const d = await db.selectFrom('drills').select('runbook_id').where('id', '=', id).executeTakeFirst();
    if (!d) throw notFound(`drill ${id}`);
    const catalog = deps.catalog.current();
    await completeDrill(db, id, { outcome: form.outcome, gaps: form.gaps, runbook: catalog.runbooks.get(d.runbook_id) ?? null, by: formActor(res), now: clock.now(), catalog });
    backTo(res, `/drills/${id}`);
  });

  router.post('/drills/:id/cancel', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const form = cancelForm.parse(req.body);
    await cancelDrill(db, id, { reason: form.reason, by: formActor(res), now: clock.now() });
    backTo(res, '/drills');
  });

  return router;
}
