import type { IncidentStatus } from '../db/schema.js';

/** The part of an incident that state transitions read and write. */
export interface IncidentState {
  status: IncidentStatus;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  escalationLevel: number;
  escalationSeq: number;
  nextEscalationAt: Date | null;
  reopenCount: number;
  lastReopenedAt: Date | null;
  flapping: boolean;
}

export interface TimelineEntry {
  kind: string;
  actor: string | null;
  data: Record<string, unknown>;
}

export interface Transition {
  state: IncidentState;
  events: TimelineEntry[];
  changed: boolean;
}

export interface EscalationPolicy {
  /** False for severities that open incidents without paging (`page: false`). */
  page: boolean;
  ackWithinMs: number | null;
  repeatEveryMs: number | null;
}

const unchanged = (state: IncidentState): Transition => ({ state, events: [], changed: false });

/** A new incident: triggered, with level 1 due now so the escalation tick pages it at once. */
export function openedState(now: Date, policy: EscalationPolicy, chainLength: number): IncidentState {
  return {
    status: 'triggered',
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    escalationLevel: 0,
    escalationSeq: 0,
    nextEscalationAt: policy.page && chainLength > 0 ? now : null,
    reopenCount: 0,
    lastReopenedAt: null,
    flapping: false,
  };
}

/** A resolved incident that fires again within the reopen window comes back; repeated reopening marks it flapping. */
export function reopen(state: IncidentState, now: Date, policy: EscalationPolicy, chainLength: number, flappingAfter: number): Transition {
  if (state.status !== 'resolved') return unchanged(state);
  const reopenCount = state.reopenCount + 1;
  const flapping = state.flapping || reopenCount >= flappingAfter;
  const events: TimelineEntry[] = [{ kind: 'reopened', actor: null, data: { reopenCount } }];
  if (flapping && !state.flapping) events.push({ kind: 'flapping', actor: null, data: { reopenCount } });
  return {
    state: {
      ...state,
      status: 'triggered',
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      resolvedBy: null,
      escalationLevel: 0,
      nextEscalationAt: policy.page && chainLength > 0 ? now : null,
      reopenCount,
      lastReopenedAt: now,
      flapping,
    },
    events,
    changed: true,
  };
}

/** Acknowledging stops escalation; acknowledging twice keeps the first responder. */
export function acknowledge(state: IncidentState, by: string, now: Date, viaSource?: string): Transition {
  if (state.status !== 'triggered') return unchanged(state);
  return {
    state: { ...state, status: 'acknowledged', acknowledgedAt: now, acknowledgedBy: by, nextEscalationAt: null },
    // Which alert source acknowledged, if one did: only such an acknowledgement can be taken back by the source.
    events: [{ kind: 'acknowledged', actor: by, data: viaSource ? { source: viaSource } : {} }],
    changed: true,
  };
}

/**
 * The alert that acknowledged the incident took it back (PagerDuty's acknowledgement timed out, or someone there
 * unacknowledged): escalation resumes at once, paging again the level that had acknowledged.
 */
export function unacknowledge(state: IncidentState, by: string, now: Date, policy: EscalationPolicy, chainLength: number, source: string): Transition {
  if (state.status !== 'acknowledged') return unchanged(state);
  return {
    state: {
      ...state,
      status: 'triggered',
      acknowledgedAt: null,
      acknowledgedBy: null,
      escalationLevel: Math.max(0, state.escalationLevel - 1),
      nextEscalationAt: policy.page && chainLength > 0 ? now : null,
    },
    events: [{ kind: 'unacknowledged', actor: by, data: { source } }],
    changed: true,
  };
}

export function resolve(state: IncidentState, by: string, now: Date, reason: string): Transition {
  if (state.status === 'resolved') return unchanged(state);
  return {
    state: { ...state, status: 'resolved', resolvedAt: now, resolvedBy: by, nextEscalationAt: null },
    events: [{ kind: 'resolved', actor: by, data: { reason } }],
    changed: true,
  };
}

export interface EscalationStep {
  transition: Transition;
  /** Index into the escalation chain of the contact to notify now, or null when nothing is sent. */
  notifyIndex: number | null;
}

/**
 * Fires the due escalation step: the next level of the chain, or the last level again every `repeatEvery`.
 * Deadlines count from `now`, so a restart delays the next step rather than firing a burst.
 */
export function escalate(state: IncidentState, chainLength: number, policy: EscalationPolicy, now: Date): EscalationStep {
  if (state.status !== 'triggered' || state.nextEscalationAt === null || state.nextEscalationAt > now) {
    return { transition: unchanged(state), notifyIndex: null };
  }
  if (!policy.page || chainLength === 0) {
    return { transition: { state: { ...state, nextEscalationAt: null }, events: [], changed: true }, notifyIndex: null };
  }
  const repeating = state.escalationLevel >= chainLength;
  const level = Math.min(state.escalationLevel + 1, chainLength);
  const nextDelay = level < chainLength ? policy.ackWithinMs : policy.repeatEveryMs;
  const escalationSeq = state.escalationSeq + 1;
  return {
    transition: {
      state: {
        ...state,
        escalationLevel: level,
        escalationSeq,
        nextEscalationAt: nextDelay === null ? null : new Date(now.getTime() + nextDelay),
      },
      events: [{ kind: repeating ? 'escalation_repeated' : 'escalated', actor: null, data: { level, seq: escalationSeq } }],
      changed: true,
    },
    notifyIndex: level - 1,
  };
}
