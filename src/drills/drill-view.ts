// One drill with everything its page and API show: the runbook it rehearses (the pinned text once started, the
// catalog's current text before), the ticked boxes and each step's time against its `Duration:`.
import type { Db, Executor } from '../db/create-db.js';
import type { Drill } from '../db/schema.js';
import { HttpError, notFound } from '../http/http-error.js';
import { pinnedRunbookText } from '../incidents/runbook-pin.js';
import { checkItemOrNotFound, loadStepChecks, refuseBlockedTick, setStepCheck, stepTimings, type StepCheck, type StepTiming } from '../incidents/step-checks.js';
import type { Catalog } from '../runbooks/catalog.js';
import { parseRunbook } from '../runbooks/parse-runbook.js';
import type { Runbook } from '../runbooks/runbook.js';
import { drillJson, getDrill, startDrill, type DrillJson } from './drill-store.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export interface DrillDetail {
  drill: Drill;
  /** null when the runbook is neither pinned nor in the catalog any more. */
  runbook: Runbook | null;
  /** true when `runbook` is the text pinned at start (runbook_versions), false when it is the catalog's current one. */
  pinned: boolean;
  checks: Map<string, StepCheck>;
  /** By step key. */
  timings: Map<string, StepTiming>;
}

/** The runbook a drill follows: its pinned version, else the catalog's. */
export async function drillRunbook(db: Executor, drill: Drill, catalog: Catalog): Promise<{ runbook: Runbook | null; pinned: boolean }> {
  if (drill.runbook_hash) {
    const text = await pinnedRunbookText(db, drill.runbook_hash);
    const runbook = text ? parseRunbook(text.text, text.file).runbook : null;
    if (runbook) return { runbook, pinned: true };
  }
  return { runbook: catalog.runbooks.get(drill.runbook_id) ?? null, pinned: false };
}

export async function getDrillDetail(db: Executor, id: number, catalog: Catalog, now: Date): Promise<DrillDetail | null> {
  const drill = await getDrill(db, id);
  if (!drill) return null;
  const [{ runbook, pinned }, checks] = await Promise.all([drillRunbook(db, drill, catalog), loadStepChecks(db, { drillId: id })]);
  const timings = runbook ? stepTimings(runbook, checks, { startedAt: drill.started_at, now, active: drill.status === 'running' }) : new Map<string, StepTiming>();
  return { drill, runbook, pinned, checks, timings };
}

export interface DrillDetailJson extends DrillJson {
  runbookTitle: string | null;
  runbookPinned: boolean;
  checks: { key: string; checked: boolean; by: string; at: string }[];
  steps: { key: string; number: number; title: string; expectedMs: number | null; maxMs: number | null; startedAt: string | null; doneAt: string | null; actualMs: number | null; state: StepTiming['state'] }[];
}

export function drillDetailJson(d: DrillDetail, now: Date): DrillDetailJson {
  return {
    ...drillJson(d.drill, now),
    runbookTitle: d.runbook?.title ?? null,
    runbookPinned: d.pinned,
    checks: [...d.checks.values()].map((c) => ({ key: c.key, checked: c.checked, by: c.by, at: c.at.toISOString() })),
    steps: (d.runbook?.steps ?? []).map((s) => {
      const t = d.timings.get(s.key)!;
      return { key: s.key, number: s.number, title: s.title, expectedMs: t.expectedMs, maxMs: t.maxMs, startedAt: iso(t.startAt), doneAt: iso(t.doneAt), actualMs: t.actualMs, state: t.state };
    }),
  };
}

/**
 * Ticks or unticks a box of a drill; the first tick starts a scheduled drill (and pins its runbook). A tick that would
 * be refused is refused before the start: bad input must leave a scheduled drill scheduled, as a refused `/complete`
 * does. (setStepCheck runs its own transaction, so the start cannot share it and roll back with it.)
 */
export async function checkDrillBox(db: Db, id: number, input: { key: string; checked: boolean; by: string; now: Date; catalog: Catalog }) {
  let drill = await getDrill(db, id);
  if (!drill) throw notFound(`drill ${id}`);
  if (drill.status === 'scheduled') {
    // The runbook the start would pin (the catalog's, else the version already pinned): the keys that tick will be judged by.
    const toRun = input.catalog.runbooks.get(drill.runbook_id) ?? (await drillRunbook(db, drill, input.catalog)).runbook;
    if (toRun) await refuseBadTick(db, id, toRun, input);
    drill = await db.transaction().execute((tx) => startDrill(tx, id, { runbook: input.catalog.runbooks.get(drill!.runbook_id) ?? null, by: input.by, now: input.now }));
  }
  const { runbook } = await drillRunbook(db, drill, input.catalog);
  if (!runbook) throw notFound(`runbook ${drill.runbook_id}`);
  // Completed and cancelled drills are records: their boxes no longer change.
  if (drill.status !== 'running') throw new HttpError(409, `drill ${id} is ${drill.status}`);
  return setStepCheck(db, { subject: { drillId: id }, runbook, key: input.key, checked: input.checked, by: input.by, now: input.now });
}

/** The refusals of setStepCheck that depend only on the runbook and the boxes: an unknown key (404), a step past an unconfirmed manual checkpoint (409). */
async function refuseBadTick(db: Executor, id: number, runbook: Runbook, input: { key: string; checked: boolean }): Promise<void> {
  const item = checkItemOrNotFound(runbook, input.key);
  if (input.checked && item.step) refuseBlockedTick(runbook, await loadStepChecks(db, { drillId: id }), item, true);
}
