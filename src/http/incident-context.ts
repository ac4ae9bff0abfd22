// Everything the incident page, its retro and its step API read about one incident, in one place.
import type { Executor } from '../db/create-db.js';
import { pinnedRunbookText } from '../incidents/runbook-pin.js';
import { getIncident, type IncidentDetail } from '../incidents/incident-queries.js';
import { listFollowUps, type FollowUp } from '../incidents/follow-ups.js';
import { loadStepChecks, type StepCheck } from '../incidents/step-checks.js';
import { parseRunbook } from '../runbooks/parse-runbook.js';
import type { Runbook } from '../runbooks/runbook.js';
import { HttpError, notFound } from './http-error.js';

export interface PinnedRunbook {
  hash: string;
  file: string;
  /** null when the pinned text no longer parses with today's parser (the page then shows the raw text). */
  runbook: Runbook | null;
  text: string;
}

export interface IncidentContext extends IncidentDetail {
  pinned: PinnedRunbook | null;
  checks: Map<string, StepCheck>;
  followUps: FollowUp[];
}

// Pinned text never changes for a hash, so its parse is cached (bounded; oldest evicted first).
const parsed = new Map<string, Runbook | null>();
const PARSE_CACHE = 200;

export async function loadPinnedRunbook(db: Executor, hash: string): Promise<PinnedRunbook | null> {
  const pinned = await pinnedRunbookText(db, hash);
  if (!pinned) return null;
  let runbook = parsed.get(hash);
  if (runbook === undefined) {
    runbook = parseRunbook(pinned.text, pinned.file).runbook;
    if (parsed.size >= PARSE_CACHE) parsed.delete(parsed.keys().next().value!);
    parsed.set(hash, runbook);
  }
  return { hash, file: pinned.file, runbook, text: pinned.text };
}

export async function loadIncidentContext(db: Executor, id: number): Promise<IncidentContext> {
  const detail = await getIncident(db, id);
  if (!detail) throw notFound(`incident ${id}`);
  const [pinned, checks, followUps] = await Promise.all([
    detail.incident.runbook_hash ? loadPinnedRunbook(db, detail.incident.runbook_hash) : null,
    loadStepChecks(db, { incidentId: id }),
    listFollowUps(db, id),
  ]);
  return { ...detail, pinned, checks, followUps };
}

/** The parsed pinned runbook, or a 404 saying why there are no checkboxes. */
export function requireRunbook(ctx: IncidentContext): Runbook {
  if (!ctx.pinned) throw notFound(`runbook of incident ${ctx.incident.id} (the incident has no runbook)`);
  if (!ctx.pinned.runbook) throw new HttpError(409, `the runbook pinned by incident ${ctx.incident.id} does not parse; its checkboxes are unavailable`);
  return ctx.pinned.runbook;
}
