// Steps that took longer than their `Duration:` in the period's incidents and drills, timed against the runbook
// text each one pinned (the version the responder actually followed).
import type { Executor } from '../db/create-db.js';
import { pinnedRunbookText } from '../incidents/runbook-pin.js';
import { incidentStepClock, type IncidentWorkRecord } from '../incidents/step-clock.js';
import { stepTimings, type StepCheck } from '../incidents/step-checks.js';
import { parseRunbook } from '../runbooks/parse-runbook.js';
import type { Runbook } from '../runbooks/runbook.js';
import type { ReportOverrun } from './report-types.js';

export interface TimedSubject {
  subject: 'incident' | 'drill';
  id: number;
  runbookId: string;
  runbookHash: string;
  /** When the step clock starts: drill started, incident first acknowledged (else opened). */
  startedAt: Date | null;
  /** An incident's opening, acknowledgements and reopenings: its steps are timed from the episode they were worked in. */
  work?: IncidentWorkRecord;
}

export async function overrunsOf(db: Executor, subjects: TimedSubject[], asOf: Date): Promise<ReportOverrun[]> {
  if (!subjects.length) return [];
  const incidentIds = subjects.filter((s) => s.subject === 'incident').map((s) => s.id);
  const drillIds = subjects.filter((s) => s.subject === 'drill').map((s) => s.id);
  const rows = await db
    .selectFrom('step_checks')
    .select(['incident_id', 'drill_id', 'step_key', 'checked', 'checked_by', 'checked_at'])
    .where('checked', '=', true)
    .where('checked_at', '<=', asOf)
    .where((eb) =>
      eb.or([...(incidentIds.length ? [eb('incident_id', 'in', incidentIds)] : []), ...(drillIds.length ? [eb('drill_id', 'in', drillIds)] : [])]),
    )
    .execute();
  const runbooks = new Map<string, Runbook | null>();
  const result: ReportOverrun[] = [];
  for (const s of subjects) {
    const own = rows.filter((c) => (s.subject === 'incident' ? c.incident_id === s.id : c.drill_id === s.id));
    if (!own.length) continue;
    if (!runbooks.has(s.runbookHash)) {
      const pinned = await pinnedRunbookText(db, s.runbookHash);
      runbooks.set(s.runbookHash, pinned ? parseRunbook(pinned.text, pinned.file).runbook : null);
    }
    const runbook = runbooks.get(s.runbookHash);
    if (!runbook) continue;
    const checks = new Map<string, StepCheck>(own.map((c) => [c.step_key, { key: c.step_key, checked: c.checked, by: c.checked_by, at: c.checked_at }]));
    const clock = s.work ? incidentStepClock(s.work, checks) : { startedAt: s.startedAt };
    const timings = stepTimings(runbook, checks, { ...clock, now: asOf, active: false });
    for (const step of runbook.steps) {
      const t = timings.get(step.key)!;
      if ((t.state !== 'over' && t.state !== 'overrun') || t.actualMs === null || t.expectedMs === null) continue;
      result.push({
        subject: s.subject,
        subjectId: s.id,
        runbookId: s.runbookId,
        stepKey: step.key,
        stepNumber: step.number,
        stepTitle: step.title,
        expectedMs: t.expectedMs,
        maxMs: t.maxMs,
        actualMs: t.actualMs,
        overMax: t.maxMs !== null && t.actualMs > t.maxMs,
      });
    }
  }
  return result;
}
