// Cadence drills: every runbook whose severity has a `drill_every` always has one open cadence drill, due at
// effective last tested + drill_every (at once when never tested). Safe to run from every replica at any time: the
// partial unique index drills_one_open_cadence_per_runbook makes a second insert a no-op, and due dates are recomputed
// from the same data.
import { sql } from 'kysely';
import type { Executor } from '../db/create-db.js';
import type { Drill } from '../db/schema.js';
import { formatDuration } from '../duration.js';
import type { Catalog } from '../runbooks/catalog.js';
import { runbookSeverity } from './cadence-policy.js';
import { catalogFreshness, type RunbookFreshness } from './freshness.js';

export interface CadenceResult {
  scheduled: number;
  /** Scheduled (not started) cadence drills whose due date moved because the runbook was tested since. */
  rescheduled: number;
  /** Scheduled cadence drills of runbooks that left the catalog or lost their cadence. */
  cancelled: number;
}

const OPEN_CADENCE = sql<boolean>`trigger = 'cadence' and status in ('scheduled', 'running')`;

export async function scheduleCadenceDrills(db: Executor, catalog: Catalog, now: Date): Promise<CadenceResult> {
  const result: CadenceResult = { scheduled: 0, rescheduled: 0, cancelled: 0 };
  // (Staleness does not matter here, only the effective date.)
  const [freshness, open] = await Promise.all([catalogFreshness(db, catalog, now, Number.MAX_SAFE_INTEGER), db.selectFrom('drills').selectAll().where(OPEN_CADENCE).execute()]);
  const openByRunbook = new Map(open.map((d) => [d.runbook_id, d]));

  for (const runbook of catalog.runbooks.values()) {
    const existing = openByRunbook.get(runbook.id);
    openByRunbook.delete(runbook.id);
    await syncRunbook(db, catalog, freshness.get(runbook.id)!, existing, now, result);
  }
  // Left over: open cadence drills of runbooks no longer in the catalog. An empty catalog is a failed load, not a deletion.
  if (catalog.runbooks.size) {
    for (const drill of openByRunbook.values()) result.cancelled += await cancelScheduled(db, drill.id, `${drill.runbook_id} is no longer in the catalog`, now);
  }
  return result;
}

/**
 * The cadence round for one runbook, run when one of its drills ends (in the same transaction), so its next cadence
 * drill exists at once instead of at the next round, a minute later: the catalog never shows "none scheduled" between.
 */
export async function scheduleCadenceDrillFor(db: Executor, catalog: Catalog, runbookId: string, now: Date): Promise<CadenceResult> {
  const result: CadenceResult = { scheduled: 0, rescheduled: 0, cancelled: 0 };
  // A runbook that left the catalog is the full round's business (it also knows a failed load from a deletion).
  if (!catalog.runbooks.has(runbookId)) return result;
  // One after the other: `db` is usually a transaction, one connection.
  const freshness = await catalogFreshness(db, catalog, now, Number.MAX_SAFE_INTEGER);
  const existing = await db.selectFrom('drills').selectAll().where(OPEN_CADENCE).where('runbook_id', '=', runbookId).executeTakeFirst();
  await syncRunbook(db, catalog, freshness.get(runbookId)!, existing, now, result);
  return result;
}

/** Makes the runbook's open cadence drill match its cadence: inserts it, moves its due date, or cancels it. */
async function syncRunbook(db: Executor, catalog: Catalog, fresh: RunbookFreshness, existing: Drill | undefined, now: Date, result: CadenceResult): Promise<void> {
  const { runbookId, drillEveryMs: everyMs, date: effective } = fresh;
  if (everyMs === null) {
    if (existing && catalog.matrix) result.cancelled += await cancelScheduled(db, existing.id, 'no drill_every applies any more', now);
    return;
  }
  const target = effective ? new Date(effective.getTime() + everyMs) : null;
  if (!existing) {
    const inserted = await db
      .insertInto('drills')
      .values({
        runbook_id: runbookId,
        reason: `${runbookSeverity(catalog, runbookId)} runbooks are drilled every ${formatDuration(everyMs)}${effective ? '' : '; never tested'}`,
        trigger: 'cadence',
        status: 'scheduled',
        due_at: target ?? now,
        created_at: now,
        created_by: null,
      })
      .onConflict((oc) => oc.column('runbook_id').where(OPEN_CADENCE).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) result.scheduled++;
  } else if (existing.status === 'scheduled' && target && existing.due_at.getTime() !== target.getTime()) {
    const moved = await db.updateTable('drills').set({ due_at: target }).where('id', '=', existing.id).where('status', '=', 'scheduled').executeTakeFirst();
    result.rescheduled += Number(moved.numUpdatedRows);
  }
}

async function cancelScheduled(db: Executor, id: number, why: string, now: Date): Promise<number> {
  const r = await db
    .updateTable('drills')
    .set({ status: 'cancelled', completed_at: now, reason: sql<string>`reason || ${` (cancelled: ${why})`}` })
    .where('id', '=', id)
    .where('status', '=', 'scheduled')
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
