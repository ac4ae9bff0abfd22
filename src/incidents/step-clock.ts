// When an incident's step clock starts. Each opening and reopening begins an episode, timed from its first
// acknowledgement (else from its start). A reopen clears the acknowledgement, so the incident row alone would time a
// later episode's steps from the first opening: the page, the step API, the retro and the weekly report all time them
// from the episode they were worked in.
import type { StepCheck } from './step-checks.js';

export interface IncidentWorkRecord {
  opened_at: Date;
  acknowledged_at: Date | null;
  /** The incident's timeline, or at least its `acknowledged` and `reopened` events. */
  timeline: readonly { kind: string; at: Date }[];
}

export interface IncidentStepClock {
  /** The clock of the episode the steps were worked in: the one holding the first ticked box (the latest when none is ticked). */
  startedAt: Date;
  /**
   * The clock of the episode holding `at`: no step ticked, or still running, in a reopened episode started before it
   * (the earlier episode's last tick is not when its work began).
   */
  clockAt: (at: Date) => Date;
}

export function incidentStepClock(work: IncidentWorkRecord, checks: ReadonlyMap<string, StepCheck>): IncidentStepClock {
  const starts = [work.opened_at, ...work.timeline.filter((e) => e.kind === 'reopened').map((e) => e.at)].sort((a, b) => a.getTime() - b.getTime());
  const acks = [...work.timeline.filter((e) => e.kind === 'acknowledged').map((e) => e.at), ...(work.acknowledged_at ? [work.acknowledged_at] : [])];
  const clockOf = (i: number): Date => {
    const from = starts[i]!.getTime();
    const to = i + 1 < starts.length ? starts[i + 1]!.getTime() : Infinity;
    const inside = acks.map((a) => a.getTime()).filter((a) => a >= from && a < to);
    return new Date(inside.length ? Math.min(...inside) : from);
  };
  const episodeOf = (at: number) => Math.max(0, starts.findLastIndex((s) => s.getTime() <= at));
  const ticks = [...checks.values()].filter((c) => c.checked).map((c) => c.at.getTime());
  const worked = ticks.length ? episodeOf(Math.min(...ticks)) : starts.length - 1;
  return {
    startedAt: clockOf(worked),
    // Within its episode, a moment before the acknowledgement counts from the episode's start.
    clockAt: (at) => {
      const i = episodeOf(at.getTime());
      const clock = clockOf(i);
      return clock <= at ? clock : starts[i]!;
    },
  };
}
