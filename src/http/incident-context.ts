// Everything the incident page, its retro and its step API read about one incident, in one place.
import type { Executor } from '../db/create-db.js';
import { pinnedRunbookText } from '../incidents/runbook-pin.js';
import { getIncidentWork, WHOLE, type IncidentBounds, type IncidentDetail } from '../incidents/incident-queries.js';
import { followUpOf, type FollowUp } from '../incidents/follow-ups.js';
import { stepChecksOf, type StepCheck } from '../incidents/step-checks.js';
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

/**
 * Pinned runbooks by hash. A `runbook_versions` row is content-addressed and never changes, so its text and parse are
 * kept after the first load (bounded, least recently used evicted) and the page skips that query.
 */
export interface PinnedRunbooks {
  load(db: Executor, hash: string): Promise<PinnedRunbook | null>;
}

export function createPinnedRunbooks(options: { maxEntries?: number } = {}): PinnedRunbooks {
  const max = options.maxEntries ?? 200;
  // Promises, so that the first requests after a start share one query per hash; a failed or empty load is not kept.
  const entries = new Map<string, Promise<PinnedRunbook | null>>();
  const fetch = async (db: Executor, hash: string): Promise<PinnedRunbook | null> => {
    const pinned = await pinnedRunbookText(db, hash);
    if (!pinned) return null;
    return { hash, file: pinned.file, runbook: parseRunbook(pinned.text, pinned.file).runbook, text: pinned.text };
  };
  return {
    load(db, hash) {
      let entry = entries.get(hash);
      if (entry) {
        entries.delete(hash);
        entries.set(hash, entry);
        return entry;
      }
      if (entries.size >= max) entries.delete(entries.keys().next().value!);
      entry = fetch(db, hash);
      entries.set(hash, entry);
      const forget = () => {
        if (entries.get(hash) === entry) entries.delete(hash);
      };
      entry.then((pinned) => pinned ?? forget(), forget);
      return entry;
    },
  };
}

/**
 * The incident within `bounds`: the page and the step routes read what a responder can (incident-queries BOUNDED),
 * the retro, the record, reads it whole.
 */
export async function loadIncidentContext(db: Executor, id: number, pins: PinnedRunbooks, bounds: IncidentBounds = WHOLE): Promise<IncidentContext> {
  const work = await getIncidentWork(db, id, bounds);
  if (!work) throw notFound(`incident ${id}`);
  const { checks, followUps, ...detail } = work;
  const pinned = detail.incident.runbook_hash ? await pins.load(db, detail.incident.runbook_hash) : null;
  return { ...detail, pinned, checks: stepChecksOf(checks), followUps: followUps.map(followUpOf) };
}

/** The parsed pinned runbook, or a 404 saying why there are no checkboxes. */
export function requireRunbook(ctx: IncidentContext): Runbook {
  if (!ctx.pinned) throw notFound(`runbook of incident ${ctx.incident.id} (the incident has no runbook)`);
  if (!ctx.pinned.runbook) throw new HttpError(409, `the runbook pinned by incident ${ctx.incident.id} does not parse; its checkboxes are unavailable`);
  return ctx.pinned.runbook;
}
