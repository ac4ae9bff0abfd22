// Drills: rehearsals of one runbook, scheduled (cadence, escalated incident, by hand), then run from the drill page
// with the runbook pinned at start, recording per-step times and ending with an outcome and the gaps found.
import { sql } from 'kysely';
import type { Db, Executor } from '../db/create-db.js';
import type { Drill } from '../db/schema.js';
import { HttpError, notFound } from '../http/http-error.js';
import { pinRunbook } from '../incidents/runbook-pin.js';
import type { Catalog } from '../runbooks/catalog.js';
import type { Runbook } from '../runbooks/runbook.js';
import { scheduleCadenceDrillFor } from './cadence.js';

/** A drill scheduled by hand without a date is due within a week, like one scheduled by an escalation. */
export const MANUAL_DRILL_WITHIN_MS = 7 * 86_400_000;

export type DrillOutcome = 'passed' | 'gaps_found';

export interface DrillJson {
  id: number;
  runbookId: string;
  runbookHash: string | null;
  reason: string;
  trigger: Drill['trigger'];
  incidentId: number | null;
  status: Drill['status'];
  dueAt: string;
  createdAt: string;
  createdBy: string | null;
  startedAt: string | null;
  startedBy: string | null;
  completedAt: string | null;
  outcome: DrillOutcome | null;
  gaps: string | null;
  /** Open (scheduled or running) and past its due time. */
  overdue: boolean;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
export const isOpen = (d: Pick<Drill, 'status'>) => d.status === 'scheduled' || d.status === 'running';

export function drillJson(d: Drill, now: Date): DrillJson {
  return {
    id: d.id,
    runbookId: d.runbook_id,
    runbookHash: d.runbook_hash,
    reason: d.reason,
    trigger: d.trigger,
    incidentId: d.incident_id,
    status: d.status,
    dueAt: d.due_at.toISOString(),
    createdAt: d.created_at.toISOString(),
    createdBy: d.created_by,
    startedAt: iso(d.started_at),
    startedBy: d.started_by,
    completedAt: iso(d.completed_at),
    outcome: d.outcome,
    gaps: d.gaps,
    overdue: isOpen(d) && d.due_at < now,
  };
}

export async function scheduleManualDrill(db: Executor, input: { runbookId: string; dueAt?: Date; reason?: string; by: string; now: Date }): Promise<Drill> {
  return db
    .insertInto('drills')
    .values({
      runbook_id: input.runbookId,
      reason: input.reason?.trim() || 'scheduled by hand',
      trigger: 'manual',
      status: 'scheduled',
      due_at: input.dueAt ?? new Date(input.now.getTime() + MANUAL_DRILL_WITHIN_MS),
      created_at: input.now,
      created_by: input.by,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getDrill(db: Executor, id: number): Promise<Drill | null> {
  return (await db.selectFrom('drills').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}

export interface DrillLists {
  /** Open and past due, most overdue first. */
  overdue: Drill[];
  /** Open and due from now to the end of this week. */
  dueThisWeek: Drill[];
  /** Open and due after this week. */
  later: Drill[];
  /** Completed, newest first. */
  done: Drill[];
}

/** What `/drills` shows. `weekEnd`: the end of the current ISO week (in the report time zone). */
export async function listDrills(db: Executor, now: Date, weekEnd: Date, doneLimit = 50): Promise<DrillLists> {
  const [open, done] = await Promise.all([
    db.selectFrom('drills').selectAll().where('status', 'in', ['scheduled', 'running']).orderBy('due_at').orderBy('id').execute(),
    db.selectFrom('drills').selectAll().where('status', '=', 'completed').orderBy('completed_at', 'desc').orderBy('id', 'desc').limit(doneLimit).execute(),
  ]);
  return {
    overdue: open.filter((d) => d.due_at < now),
    dueThisWeek: open.filter((d) => d.due_at >= now && d.due_at < weekEnd),
    later: open.filter((d) => d.due_at >= weekEnd),
    done,
  };
}

/** Locks the drill for an action; 404 when missing, 409 when it is no longer open. */
async function lockOpenDrill(db: Executor, id: number): Promise<Drill> {
  const drill = await db.selectFrom('drills').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  if (!drill) throw notFound(`drill ${id}`);
  if (!isOpen(drill)) throw new HttpError(409, `drill ${id} is ${drill.status}`);
  return drill;
}

/**
 * Starts a scheduled drill: pins the runbook text as it is now (the version rehearsed is the version the gaps are about).
 * Starting a running drill changes nothing. `runbook` is null when the runbook has left the catalog: the drill then
 * keeps the version it already pinned, if any.
 */
export async function startDrill(db: Executor, id: number, input: { runbook: Runbook | null; by: string; now: Date }): Promise<Drill> {
  const drill = await lockOpenDrill(db, id);
  if (drill.status === 'running') return drill;
  const hash = input.runbook ? await pinRunbook(db, input.runbook, input.now) : drill.runbook_hash;
  if (!hash) throw new HttpError(409, `runbook ${drill.runbook_id} is not in the catalog; the drill cannot start`);
  return db
    .updateTable('drills')
    .set({ status: 'running', runbook_hash: hash, started_at: input.now, started_by: input.by })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Ends a drill with its outcome. `gaps_found` needs the gaps written down; a passed drill may carry notes. Given the
 * catalog, the runbook's next cadence drill is scheduled (or moved, after a pass) in the same transaction, so the
 * catalog and /drills show it at once rather than after the next cadence round.
 */
export async function completeDrill(
  db: Db,
  id: number,
  input: { outcome: DrillOutcome; gaps?: string | null; runbook: Runbook | null; by: string; now: Date; catalog?: Catalog },
): Promise<Drill> {
  const gaps = input.gaps?.trim() || null;
  if (input.outcome === 'gaps_found' && !gaps) throw new HttpError(400, 'write down the gaps found (what was unclear, missing or slower than its Duration:)');
  return db.transaction().execute(async (tx) => {
    const drill = await startDrill(tx, id, { runbook: input.runbook, by: input.by, now: input.now });
    const completed = await tx
      .updateTable('drills')
      .set({ status: 'completed', outcome: input.outcome, gaps, completed_at: input.now })
      .where('id', '=', drill.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (input.catalog) await scheduleCadenceDrillFor(tx, input.catalog, completed.runbook_id, input.now);
    return completed;
  });
}

/** Cancels an open drill (the reason is appended to its own). A cancelled cadence drill is scheduled again by the next cadence round. */
export async function cancelDrill(db: Db, id: number, input: { reason?: string; by: string; now: Date }): Promise<Drill> {
  return db.transaction().execute(async (tx) => {
    await lockOpenDrill(tx, id);
    const note = `cancelled by ${input.by}${input.reason?.trim() ? `: ${input.reason.trim()}` : ''}`;
    return tx
      .updateTable('drills')
      .set({ status: 'cancelled', completed_at: input.now, reason: sql<string>`reason || ${` (${note})`}` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}
