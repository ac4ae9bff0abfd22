// Runbook freshness for drills and the weekly report, on top of runbooks/freshness.ts (effective last tested = the
// later of the file's `Last Tested:` and the last passed drill), judged at a given moment: a report of an earlier week
// counts only the drills that had passed by then.
import type { Executor } from '../db/create-db.js';
import type { Catalog } from '../runbooks/catalog.js';
import { effectiveLastTested, type EffectiveLastTested } from '../runbooks/freshness.js';
import { drillCadenceMs } from './cadence-policy.js';

export interface RunbookFreshness extends EffectiveLastTested {
  runbookId: string;
  lastPassedDrillAt: Date | null;
  /** `drill_every` of the runbook's severity in the matrix; null when no cadence applies. */
  drillEveryMs: number | null;
}

/** Completion time of each runbook's last passed drill among those completed by `asOf`. */
export async function lastPassedDrillsAsOf(db: Executor, asOf: Date): Promise<Map<string, Date>> {
  const rows = await db
    .selectFrom('drills')
    .select('runbook_id')
    .select((eb) => eb.fn.max('completed_at').as('at'))
    .where('outcome', '=', 'passed')
    .where('completed_at', '<=', asOf)
    .where('status', '=', 'completed')
    .groupBy('runbook_id')
    .execute();
  return new Map(rows.map((r) => [r.runbook_id, new Date(r.at as Date | string)]));
}

/** Every runbook of the catalog, by RUN- id in catalog order. */
export async function catalogFreshness(db: Executor, catalog: Catalog, asOf: Date, staleAfterDays: number): Promise<Map<string, RunbookFreshness>> {
  const passed = await lastPassedDrillsAsOf(db, asOf);
  const result = new Map<string, RunbookFreshness>();
  for (const runbook of catalog.runbooks.values()) {
    const lastPassedDrillAt = passed.get(runbook.id) ?? null;
    result.set(runbook.id, {
      runbookId: runbook.id,
      ...effectiveLastTested(runbook, lastPassedDrillAt, { now: asOf, staleAfterDays }),
      lastPassedDrillAt,
      drillEveryMs: drillCadenceMs(catalog, runbook.id),
    });
  }
  return result;
}
