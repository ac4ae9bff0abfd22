// Types of a parsed runbook (one RUN- markdown file). Every part keeps its 1-based source line so lint
// findings and the incident page can point at the exact line the author has to change.

export const CATEGORIES = ['Incident', 'Deployment', 'Maintenance', 'Recovery', 'Escalation'] as const;
export type Category = (typeof CATEGORIES)[number];

/** One problem in a runbook or matrix file; printed as `file:line: severity rule: message`. */
export interface Finding {
  file: string;
  line: number;
  severity: 'error' | 'warning';
  rule: string;
  message: string;
}

/** A checklist line (prerequisite, verification item, post-incident follow-up). `key` is stable across parses of the same text. */
export interface ChecklistItem {
  key: string;
  text: string;
  line: number;
}

/** One entry of Scope's Handles / Does NOT handle, split on commas; `refs` are the RUN- ids it points to ("see RUN-010"). */
export interface ScopeItem {
  text: string;
  refs: string[];
  line: number;
}

export interface Command {
  /** Fence info string (`sql`, `bash`), '' when none. */
  lang: string;
  code: string;
  /** Line of the opening fence. */
  line: number;
}

export interface StepDuration {
  expectedMs: number;
  maxMs: number | null;
  line: number;
}

export interface Step {
  /** `step-<number>`; a repeated number gets `step-<number>-<occurrence>` so keys stay unique. */
  key: string;
  number: number;
  title: string;
  /** Line of the step heading. */
  line: number;
  /** Last source line of the step. */
  endLine: number;
  /** Markdown of the instructions (paragraphs, bullet lists) without the Commands:/Verification: parts. */
  prose: string;
  commands: Command[];
  /** Keys `step-<n>.v<i>`, i from 1. */
  verification: ChecklistItem[];
  /** From `Duration: 15m (max 25m)`. */
  duration: StepDuration | null;
  /** From `Rollback: <cmd>`, plus the code block that directly follows the line, if any. */
  rollback: string | null;
  rollbackLine: number | null;
  /** `Checkpoint: manual`: a responder must confirm before the next step. */
  checkpoint: boolean;
  checkpointLine: number | null;
}

export interface Escalation {
  when: string | null;
  who: string | null;
  what: string | null;
  /** Line of the Escalation heading, null when the section is missing. */
  line: number | null;
  lines: { when: number | null; who: number | null; what: number | null };
}

export interface Trigger {
  text: string;
  monIds: string[];
  line: number;
}

/** A RUN- id mentioned outside code (scope refs, Linked IDs, "see RUN-xxx", "execute RUN-005"). */
export interface RunReference {
  id: string;
  line: number;
}

export interface Runbook {
  id: string;
  title: string;
  category: Category;
  trigger: Trigger | null;
  owner: string | null;
  /** `YYYY-MM-DD` or null when missing or not a valid date (see `lastTestedText`). */
  lastTested: string | null;
  /** The `Last Tested:` value as typed, null when the line is missing. */
  lastTestedText: string | null;
  scope: { handles: ScopeItem[]; doesNotHandle: ScopeItem[]; line: number | null };
  prerequisites: ChecklistItem[];
  steps: Step[];
  escalation: Escalation;
  /** Keys `post-<i>`, i from 1. Also read from Post-Deployment, Post-Maintenance, ... sections. */
  postIncident: ChecklistItem[];
  /** All ids on the `Linked IDs:` line (any prefix), with `DEP-001/002` expanded to DEP-001, DEP-002. */
  linkedIds: string[];
  references: RunReference[];
  /** sha256 hex of `text`: identifies the exact version a responder followed. */
  hash: string;
  file: string;
  text: string;
  lines: {
    id: number;
    category: number | null;
    trigger: number | null;
    owner: number | null;
    lastTested: number | null;
    prerequisites: number | null;
    procedure: number | null;
    postIncident: number | null;
    linkedIds: number | null;
  };
}
