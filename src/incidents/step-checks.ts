// Ticking runbook checkboxes (prerequisites, procedure steps, verification items, manual checkpoints) on an incident
// or a drill. The current state is one row per subject and key in `step_checks`; for incidents every change is also a
// timeline event (`step_checked` / `step_unchecked`) with who, when, the key and the item's text, so the retro has
// the whole history.
import type { Selectable } from 'kysely';
import type { Db, Executor, Tx } from '../db/create-db.js';
import type { StepChecksTable } from '../db/schema.js';
import { HttpError, notFound } from '../http/http-error.js';
import type { Runbook, Step } from '../runbooks/runbook.js';
import { appendTimeline, lockIncident } from './incident-store.js';

/** What the checkboxes belong to: an incident (issue 6) or a drill (issue 7). */
export type StepSubject = { incidentId: number } | { drillId: number };

export type CheckItemKind = 'prerequisite' | 'step' | 'verification' | 'checkpoint';

export interface CheckItem {
  key: string;
  kind: CheckItemKind;
  /** What the timeline says: "Step 2: Identify Problematic Queries", the verification item's text, ... */
  title: string;
  /** The procedure step it belongs to; null for prerequisites. */
  step: Step | null;
}

export interface StepCheck {
  key: string;
  checked: boolean;
  by: string;
  at: Date;
}

/** The confirm box of a `Checkpoint: manual` step. */
export const checkpointKey = (step: Pick<Step, 'key'>) => `${step.key}.checkpoint`;

/** Every checkbox of a runbook, in page order. */
export function checkItems(runbook: Runbook): CheckItem[] {
  const items: CheckItem[] = runbook.prerequisites.map((p) => ({ key: p.key, kind: 'prerequisite', title: `Prerequisite: ${p.text}`, step: null }));
  for (const step of runbook.steps) {
    const stepTitle = `Step ${step.number}${step.title ? `: ${step.title}` : ''}`;
    for (const v of step.verification) items.push({ key: v.key, kind: 'verification', title: `${stepTitle} — ${v.text}`, step });
    if (step.checkpoint) items.push({ key: checkpointKey(step), kind: 'checkpoint', title: `${stepTitle} — manual checkpoint confirmed`, step });
    items.push({ key: step.key, kind: 'step', title: stepTitle, step });
  }
  return items;
}

export function findCheckItem(runbook: Runbook, key: string): CheckItem | undefined {
  return checkItems(runbook).find((item) => item.key === key);
}

/**
 * The earliest `Checkpoint: manual` step before `step` that nobody has confirmed: until it is confirmed, nothing of the
 * later steps may be ticked. null when the way is clear.
 */
export function blockingCheckpoint(runbook: Runbook, checks: ReadonlyMap<string, StepCheck>, step: Step): Step | null {
  for (const earlier of runbook.steps) {
    if (earlier === step) return null;
    if (earlier.checkpoint && !checks.get(checkpointKey(earlier))?.checked) return earlier;
  }
  return null;
}

const subjectColumn = (subject: StepSubject) => ('incidentId' in subject ? ('incident_id' as const) : ('drill_id' as const));
const subjectId = (subject: StepSubject) => ('incidentId' in subject ? subject.incidentId : subject.drillId);

/** The current state of a subject's boxes, from its `step_checks` rows. */
export function stepChecksOf(rows: readonly Pick<Selectable<StepChecksTable>, 'step_key' | 'checked' | 'checked_by' | 'checked_at'>[]): Map<string, StepCheck> {
  return new Map(rows.map((r) => [r.step_key, { key: r.step_key, checked: r.checked, by: r.checked_by, at: r.checked_at }]));
}

export async function loadStepChecks(db: Executor, subject: StepSubject): Promise<Map<string, StepCheck>> {
  const rows = await db.selectFrom('step_checks').selectAll().where(subjectColumn(subject), '=', subjectId(subject)).execute();
  return stepChecksOf(rows);
}

export interface SetStepCheckInput {
  subject: StepSubject;
  /** The runbook the subject pinned (its `runbook_versions` text, parsed): defines which keys exist. */
  runbook: Runbook;
  key: string;
  checked: boolean;
  by: string;
  now: Date;
  /**
   * The box's text as the responder saw it, the alert's values filled in: kept in the timeline entry, so the record says
   * which host was worked on even after the incident's alerts change (the page fills references from the alerts of now).
   */
  fill?: (text: string) => string;
}

export interface SetStepCheckResult {
  item: CheckItem;
  check: StepCheck;
  /** false when the box already was in that state: nothing written, no timeline event. */
  changed: boolean;
}

async function lockSubject(tx: Tx, subject: StepSubject): Promise<void> {
  if ('incidentId' in subject) {
    if (!(await lockIncident(tx, subject.incidentId))) throw notFound(`incident ${subject.incidentId}`);
    return;
  }
  const drill = await tx.selectFrom('drills').select(['id', 'status']).where('id', '=', subject.drillId).forUpdate().executeTakeFirst();
  if (!drill) throw notFound(`drill ${subject.drillId}`);
  // Checked again under the lock: a drill completed or cancelled while this tick waited for it is a record now.
  if (drill.status !== 'running') throw new HttpError(409, `drill ${subject.drillId} is ${drill.status}`);
}

/**
 * Ticks or unticks one box. Unknown key: 404. A box after an unconfirmed manual checkpoint: 409 (unticking is always
 * allowed). The subject row is locked, so two responders ticking at once are serialised and each change is one event.
 */
export async function setStepCheck(db: Db, input: SetStepCheckInput): Promise<SetStepCheckResult> {
  const item = checkItemOrNotFound(input.runbook, input.key);
  return db.transaction().execute(async (tx) => {
    await lockSubject(tx, input.subject);
    const checks = await loadStepChecks(tx, input.subject);
    const current = checks.get(input.key);
    if (current && current.checked === input.checked) return { item, check: current, changed: false };
    refuseBlockedTick(input.runbook, checks, item, input.checked);
    const column = subjectColumn(input.subject);
    const id = subjectId(input.subject);
    const values = { checked: input.checked, checked_by: input.by, checked_at: input.now };
    if (current) {
      await tx.updateTable('step_checks').set(values).where(column, '=', id).where('step_key', '=', input.key).execute();
    } else {
      await tx.insertInto('step_checks').values({ [column]: id, step_key: input.key, ...values }).execute();
    }
    if ('incidentId' in input.subject) {
      await appendTimeline(tx, input.subject.incidentId, input.now, [
        { kind: input.checked ? 'step_checked' : 'step_unchecked', actor: input.by, data: { stepKey: input.key, title: item.title, itemKind: item.kind, ...shownTitle(item.title, input.fill) } },
      ]);
    }
    return { item, check: { key: input.key, checked: input.checked, by: input.by, at: input.now }, changed: true };
  });
}

/** `shown`, only when filling changed the text (most boxes name no alert value). */
function shownTitle(title: string, fill: ((text: string) => string) | undefined): { shown?: string } {
  const shown = fill?.(title);
  return shown !== undefined && shown !== title ? { shown } : {};
}

export type TimingState = 'pending' | 'running' | 'ok' | 'over' | 'overrun';

export interface StepTiming {
  expectedMs: number | null;
  maxMs: number | null;
  /** When the step's clock started: the previous tick (in the order steps were ticked), the first from `startedAt`. */
  startAt: Date | null;
  doneAt: Date | null;
  /** Done: start to tick. Running: start to now. Otherwise null. */
  actualMs: number | null;
  /** ok: within the estimate; over: past the estimate but within the max; overrun: past the max (or the estimate when no max). */
  state: TimingState;
}

const later = (a: Date | null, b: Date | null): Date | null => (!a ? b : !b ? a : a > b ? a : b);

/**
 * Step durations against `Duration:` (launch playbook: "time every step"). The running step is the first one not ticked,
 * while the subject is active and no manual checkpoint holds it.
 */
export function stepTimings(
  runbook: Runbook,
  checks: ReadonlyMap<string, StepCheck>,
  options: { startedAt: Date | null; now: Date; active: boolean; clockAt?: (at: Date) => Date },
): Map<string, StepTiming> {
  const doneAt = (s: Step) => (checks.get(s.key)?.checked ? checks.get(s.key)!.at : null);
  // A step behind a manual checkpoint starts when the checkpoint was confirmed: waiting for the approval is not its work.
  const confirmedBefore = new Map<string, Date | null>();
  let confirmed: Date | null = null;
  for (const step of runbook.steps) {
    confirmedBefore.set(step.key, confirmed);
    const check = step.checkpoint ? checks.get(checkpointKey(step)) : undefined;
    if (check?.checked) confirmed = later(confirmed, check.at);
  }
  const ticks = runbook.steps
    .map((step) => ({ step, at: doneAt(step) }))
    .filter((t): t is { step: Step; at: Date } => t.at !== null)
    .sort((a, b) => a.at.getTime() - b.at.getTime());
  const startOf = new Map<string, Date>();
  let previous = options.startedAt;
  // A reopened incident's episode starts its own clock: a step ticked in it did not start at the earlier episode's tick.
  const episode = (at: Date) => options.clockAt?.(at) ?? null;
  for (const t of ticks) {
    const from = later(later(previous, confirmedBefore.get(t.step.key) ?? null), episode(t.at));
    startOf.set(t.step.key, from && from <= t.at ? from : t.at);
    previous = t.at;
  }
  const running = options.active ? runbook.steps.find((s) => !doneAt(s)) : undefined;
  const runningFree = running ? blockingCheckpoint(runbook, checks, running) === null : false;
  const runningFrom = running ? later(later(previous, confirmedBefore.get(running.key) ?? null), episode(options.now)) : null;

  const result = new Map<string, StepTiming>();
  for (const step of runbook.steps) {
    const expectedMs = step.duration?.expectedMs ?? null;
    const maxMs = step.duration?.maxMs ?? null;
    const done = doneAt(step);
    const isRunning = step === running && runningFree && !done;
    const startAt = done ? (startOf.get(step.key) ?? null) : isRunning ? runningFrom : null;
    const actualMs = startAt && (done || isRunning) ? Math.max(0, (done ?? options.now).getTime() - startAt.getTime()) : null;
    const state: TimingState =
      actualMs === null ? 'pending'
      : expectedMs !== null && actualMs > (maxMs ?? expectedMs) ? 'overrun'
      : expectedMs !== null && actualMs > expectedMs ? 'over'
      : done ? 'ok' : 'running';
    result.set(step.key, { expectedMs, maxMs, startAt, doneAt: done, actualMs, state });
  }
  return result;
}

/** The box `key` names in `runbook`; 404 when there is none. */
export function checkItemOrNotFound(runbook: Runbook, key: string) {
  const item = findCheckItem(runbook, key);
  if (!item) throw notFound(`checkbox "${key}" in ${runbook.id}`);
  return item;
}

/** 409 for ticking a step's box while an earlier manual checkpoint is unconfirmed (unticking is always allowed). */
export function refuseBlockedTick(runbook: Runbook, checks: ReadonlyMap<string, StepCheck>, item: CheckItem, checked: boolean): void {
  if (!checked || !item.step) return;
  const blocker = blockingCheckpoint(runbook, checks, item.step);
  if (blocker) {
    throw new HttpError(409, `step ${blocker.number} is a manual checkpoint: confirm it before working on step ${item.step.number}`, { checkpoint: checkpointKey(blocker) });
  }
}
