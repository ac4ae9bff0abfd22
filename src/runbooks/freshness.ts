// When a runbook was last shown to work: the later of the file's `Last Tested:` date and its last passed drill.
// The catalog pages show this one value; a drill that passes makes a runbook fresh without editing the file.
import type { Executor } from '../db/create-db.js';
import type { Runbook } from './runbook.js';

const DAY_MS = 86_400_000;

export interface EffectiveLastTested {
  /** null when neither the file nor a drill says it was ever tested. */
  date: Date | null;
  source: 'file' | 'drill';
  /** Never tested, or tested more than `staleAfterDays` whole days ago (the lint `stale` rule's arithmetic). */
  stale: boolean;
  /** Whole days since `date`; null when never tested. */
  ageDays: number | null;
}

export interface FreshnessOptions {
  now: Date;
  staleAfterDays: number;
}

export function effectiveLastTested(runbook: Pick<Runbook, 'lastTested'>, lastPassedDrillAt: Date | null, options: FreshnessOptions): EffectiveLastTested {
  // A date after today is a typo (2027 for 2026), not a test: trusted, it kept the runbook fresh and its drills off for
  // as long as it is ahead, and outranked every drill passed meanwhile. Lint warns of it (last-tested-future).
  const typed = runbook.lastTested ? new Date(`${runbook.lastTested}T00:00:00Z`) : null;
  // One day of slack, as lint's rule has: today's date typed in a zone ahead of UTC is hours "in the future" in UTC.
  const file = typed && typed.getTime() <= options.now.getTime() + DAY_MS ? typed : null;
  const fromDrill = lastPassedDrillAt !== null && (file === null || lastPassedDrillAt > file);
  const date = fromDrill ? lastPassedDrillAt : file;
  const ageDays = date ? Math.floor((options.now.getTime() - date.getTime()) / DAY_MS) : null;
  return { date, source: fromDrill ? 'drill' : 'file', stale: ageDays === null || ageDays > options.staleAfterDays, ageDays };
}

/** Completion time of each runbook's last passed drill (status completed, outcome passed), by RUN- id. */
export async function lastPassedDrillTimes(db: Executor): Promise<Map<string, Date>> {
  const rows = await db
    .selectFrom('drills')
    .select(['runbook_id', (eb) => eb.fn.max('completed_at').as('at')])
    .where('status', '=', 'completed')
    .where('outcome', '=', 'passed')
    .groupBy('runbook_id')
    .execute();
  return new Map(rows.filter((r) => r.at !== null).map((r) => [r.runbook_id, new Date(r.at as Date | string)]));
}
