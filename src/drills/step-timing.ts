// Timing each procedure step against its `Duration:` (launch playbook: "Time Every Step: compare actual durations
// to estimated durations"). A step's actual time runs from the previous step checkbox ticked (or the start: drill
// started, incident acknowledged) to its own tick, taken in the order they were ticked.
import type { Step } from '../runbooks/runbook.js';

export interface StepCheckTime {
  stepKey: string;
  checkedAt: Date;
}

export interface StepTiming {
  stepKey: string;
  number: number;
  title: string;
  expectedMs: number | null;
  maxMs: number | null;
  /** null while the step is not ticked. */
  actualMs: number | null;
  /** Took longer than its `Duration:` estimate. */
  overran: boolean;
  /** Took longer than its `(max …)`. */
  overMax: boolean;
}

/** `checks`: the ticked checkboxes (verification items `step-1.v1` are ignored; only step keys count). */
export function stepTimings(steps: readonly Step[], checks: readonly StepCheckTime[], startedAt: Date | null): StepTiming[] {
  const stepKeys = new Set(steps.map((s) => s.key));
  const ordered = checks.filter((c) => stepKeys.has(c.stepKey)).sort((a, b) => a.checkedAt.getTime() - b.checkedAt.getTime());
  const actual = new Map<string, number>();
  let previous = startedAt;
  for (const check of ordered) {
    const from = previous && previous <= check.checkedAt ? previous : check.checkedAt;
    actual.set(check.stepKey, check.checkedAt.getTime() - from.getTime());
    previous = check.checkedAt;
  }
  return steps.map((step) => {
    const actualMs = actual.get(step.key) ?? null;
    const expectedMs = step.duration?.expectedMs ?? null;
    const maxMs = step.duration?.maxMs ?? null;
    return {
      stepKey: step.key,
      number: step.number,
      title: step.title,
      expectedMs,
      maxMs,
      actualMs,
      overran: actualMs !== null && expectedMs !== null && actualMs > expectedMs,
      overMax: actualMs !== null && maxMs !== null && actualMs > maxMs,
    };
  });
}
