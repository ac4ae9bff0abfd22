import type { Db } from '../db/create-db.js';
import { notFound } from '../http/http-error.js';
import { appendTimeline, createFollowUps, lockIncident, saveState, toState } from './incident-store.js';
import { acknowledge, resolve, type Transition } from './transitions.js';

export interface ActionResult {
  id: number;
  status: string;
  changed: boolean;
}

async function transitionIncident(db: Db, id: number, now: Date, apply: (state: ReturnType<typeof toState>) => Transition, afterResolve = false): Promise<ActionResult> {
  return db.transaction().execute(async (tx) => {
    const incident = await lockIncident(tx, id);
    if (!incident) throw notFound(`incident ${id}`);
    const t = apply(toState(incident));
    if (t.changed) {
      await saveState(tx, id, t.state, now);
      await appendTimeline(tx, id, now, t.events);
      if (afterResolve && t.state.status === 'resolved') await createFollowUps(tx, incident, now);
    }
    return { id, status: t.state.status, changed: t.changed };
  });
}

export const acknowledgeIncident = (db: Db, id: number, by: string, now: Date) => transitionIncident(db, id, now, (s) => acknowledge(s, by, now));

export const resolveIncident = (db: Db, id: number, by: string, now: Date) => transitionIncident(db, id, now, (s) => resolve(s, by, now, 'resolved by a responder'), true);

export async function addNote(db: Db, id: number, by: string, text: string, now: Date): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const incident = await lockIncident(tx, id);
    if (!incident) throw notFound(`incident ${id}`);
    await appendTimeline(tx, id, now, [{ kind: 'note', actor: by, data: { text } }]);
  });
}
