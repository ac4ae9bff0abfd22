// Steps that took longer than their `Duration:` in the period's incidents and drills, timed against the runbook
// text each one pinned (the version the responder actually followed).
import type { Executor } from '../db/create-db.js';
import { stepTimings } from '../drills/step-timing.js';
import { pinnedRunbookText } from '../incidents/runbook-pin.js';
import { parseRunbook } from '../runbooks/parse-runbook.js';
import type { Step } from '../runbooks/runbook.js';
import type { ReportOverrun } from './report-types.js';

export interface TimedSubject {
  subject: 'incident' | 'drill';
  id: number;
  runbookId: string;
  runbookHash: string;
  /** When the step clock starts: drill started, incident first acknowledged (else opened). */
  startedAt: Date | null;
}

export async function overrunsOf(db: Executor, subjects: TimedSubject[], asOf: Date): Promise<ReportOverrun[]> {
  if (!subjects.length) return [];
  const incidentIds = subjects.filter((s) => s.subject === 'incident').map((s) => s.id);
  const drillIds = subjects.filter((s) => s.subject === 'drill').map((s) => s.id);
  const checks = await db
    .selectFrom('step_checks')
    .select(['incident_id', 'drill_id', 'step_key', 'checked_at'])
    .where('checked', '=', true)
    .where('checked_at', '<=', asOf)
    .where((eb) =>
      eb.or([...(incidentIds.length ? [eb('incident_id', 'in', incidentIds)] : []), ...(drillIds.length ? [eb('drill_id', 'in', drillIds)] : [])]),
    )
    .execute();
  const stepsByHash = new Map<string, Step[]>();
  const result: ReportOverrun[] = [];
  for (const s of subjects) {
    const own = checks.filter((c) => (s.subject === 'incident' ? c.incident_id === s.id : c.drill_id === s.id));
    if (!own.length) continue;
    let steps = stepsByHash.get(s.runbookHash);
    if (!steps) {
      const pinned = await pinnedRunbookText(db, s.runbookHash);
      steps = pinned ? (parseRunbook(pinned.text, pinned.file).runbook?.steps ?? []) : [];
      stepsByHash.set(s.runbookHash, steps);
    }
    for (const t of stepTimings(steps, own.map((c) => ({ stepKey: c.step_key, checkedAt: c.checked_at })), s.startedAt)) {
      if (!t.overran || t.actualMs === null || t.expectedMs === null) continue;
      result.push({
        subject: s.subject,
        subjectId: s.id,
        runbookId: s.runbookId,
        stepKey: t.stepKey,
        stepNumber: t.number,
        stepTitle: t.title,
        expectedMs: t.expectedMs,
        maxMs: t.maxMs,
        actualMs: t.actualMs,
        overMax: t.overMax,
      });
    }
  }
  return result;
}
