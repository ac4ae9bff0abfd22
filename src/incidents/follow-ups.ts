// The post-incident checklist: rows made from the pinned runbook's Post-Incident section when the incident resolves
// (incident-store createFollowUps), ticked off afterwards — each change also a timeline event.
import type { Selectable } from 'kysely';
import type { Db, Executor } from '../db/create-db.js';
import type { FollowUpsTable } from '../db/schema.js';
import { notFound } from '../http/http-error.js';
import { appendTimeline, lockIncident } from './incident-store.js';

export interface FollowUp {
  key: string;
  text: string;
  createdAt: Date;
  done: boolean;
  doneBy: string | null;
  doneAt: Date | null;
}

export function followUpOf(r: Pick<Selectable<FollowUpsTable>, 'item_key' | 'text' | 'created_at' | 'done' | 'done_by' | 'done_at'>): FollowUp {
  return { key: r.item_key, text: r.text, createdAt: r.created_at, done: r.done, doneBy: r.done_by, doneAt: r.done_at };
}

export interface SetFollowUpResult {
  followUp: FollowUp;
  changed: boolean;
}

/** Marks a follow-up done (or open again). 404 for an unknown key — follow-ups exist once the incident has resolved. */
export async function setFollowUp(db: Db, input: { incidentId: number; key: string; done: boolean; by: string; now: Date }): Promise<SetFollowUpResult> {
  return db.transaction().execute(async (tx) => {
    if (!(await lockIncident(tx, input.incidentId))) throw notFound(`incident ${input.incidentId}`);
    const row = await tx.selectFrom('follow_ups').selectAll().where('incident_id', '=', input.incidentId).where('item_key', '=', input.key).executeTakeFirst();
    if (!row) throw notFound(`follow-up "${input.key}" of incident ${input.incidentId} (follow-ups are created when the incident resolves)`);
    const current: FollowUp = { key: row.item_key, text: row.text, createdAt: row.created_at, done: row.done, doneBy: row.done_by, doneAt: row.done_at };
    if (row.done === input.done) return { followUp: current, changed: false };
    const patch = input.done ? { done: true, done_by: input.by, done_at: input.now } : { done: false, done_by: null, done_at: null };
    await tx.updateTable('follow_ups').set(patch).where('id', '=', row.id).execute();
    await appendTimeline(tx, input.incidentId, input.now, [
      { kind: input.done ? 'follow_up_done' : 'follow_up_reopened', actor: input.by, data: { itemKey: input.key, text: row.text } },
    ]);
    return { followUp: { ...current, done: input.done, doneBy: input.done ? input.by : null, doneAt: input.done ? input.now : null }, changed: true };
  });
}
