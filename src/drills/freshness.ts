// How fresh a runbook is: effective last tested = the later of the file's `Last Tested:` and the last passed drill.
// Everything that shows a runbook's freshness (catalog pages, drills, the weekly report) goes through here; `lint`
// alone reads files only and keeps judging the file's own line.
import type { Executor } from '../db/create-db.js';
import type { Catalog } from '../runbooks/catalog.js';
import type { Runbook } from '../runbooks/runbook.js';
import { drillCadenceMs } from './cadence-policy.js';

const DAY_MS = 86_400_000;

export type FreshnessStatus = 'untested' | 'stale' | 'fresh';

export interface RunbookFreshness {
  runbookId: string;
  /** The file's `Last Tested:` date (YYYY-MM-DD), null when missing or invalid. */
  fileLastTested: string | null;
  lastPassedDrillAt: Date | null;
  effectiveLastTested: Date | null;
  /** Whole days since the effective date, null when never tested. */
  ageDays: number | null;
  status: FreshnessStatus;
  /** From the matrix: `drill_every` of the runbook's severity; null when no cadence applies. */
  drillEveryMs: number | null;
  /** effective + drill_every; null when untested (due at once) or without cadence. */
  cadenceDueAt: Date | null;
}

/** The later of the file's `Last Tested:` (00:00 UTC of that date) and the last passed drill. */
export function effectiveLastTested(runbook: Pick<Runbook, 'lastTested'>, lastPassedDrillAt: Date | null): Date | null {
  const file = runbook.lastTested ? new Date(`${runbook.lastTested}T00:00:00Z`) : null;
  if (!file) return lastPassedDrillAt;
  if (!lastPassedDrillAt) return file;
  return lastPassedDrillAt > file ? lastPassedDrillAt : file;
}

export function freshnessOf(catalog: Catalog, runbook: Runbook, lastPassedDrillAt: Date | null, now: Date, staleAfterDays: number): RunbookFreshness {
  const effective = effectiveLastTested(runbook, lastPassedDrillAt);
  const ageDays = effective ? Math.floor((now.getTime() - effective.getTime()) / DAY_MS) : null;
  const drillEveryMs = drillCadenceMs(catalog, runbook.id);
  return {
    runbookId: runbook.id,
    fileLastTested: runbook.lastTested,
    lastPassedDrillAt,
    effectiveLastTested: effective,
    ageDays,
    status: ageDays === null ? 'untested' : ageDays > staleAfterDays ? 'stale' : 'fresh',
    drillEveryMs,
    cadenceDueAt: effective && drillEveryMs !== null ? new Date(effective.getTime() + drillEveryMs) : null,
  };
}

/** The completion time of each runbook's last passed drill, counting only drills completed by `asOf` (default: all). */
export async function lastPassedDrills(db: Executor, asOf?: Date): Promise<Map<string, Date>> {
  let query = db
    .selectFrom('drills')
    .select(['runbook_id', (eb) => eb.fn.max('completed_at').as('at')])
    .where('status', '=', 'completed')
    .where('outcome', '=', 'passed')
    .groupBy('runbook_id');
  if (asOf) query = query.where('completed_at', '<=', asOf);
  const rows = await query.execute();
  return new Map(rows.filter((r) => r.at !== null).map((r) => [r.runbook_id, new Date(r.at as Date | string)]));
}

/** Freshness of every runbook of the catalog as of `now`, by RUN- id (catalog order). */
export async function catalogFreshness(db: Executor, catalog: Catalog, now: Date, staleAfterDays: number): Promise<Map<string, RunbookFreshness>> {
  const passed = await lastPassedDrills(db, now);
  const result = new Map<string, RunbookFreshness>();
  for (const runbook of catalog.runbooks.values()) {
    result.set(runbook.id, freshnessOf(catalog, runbook, passed.get(runbook.id) ?? null, now, staleAfterDays));
  }
  return result;
}
