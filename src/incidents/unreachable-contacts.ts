import { sql } from 'kysely';
import type { Executor } from '../db/create-db.js';
import type { Routing } from './routing.js';

export interface UnreachableContact {
  incidentId: number;
  contact: string;
}

/**
 * Contacts that open incidents will still page, by the escalation chains they opened with, that the matrix no longer has
 * (or that have no channel).
 * An incident keeps the chain it opened with, so renaming or removing a contact in the matrix silently stops its pages;
 * a reload says so while there is still time to put the contact back.
 */
export async function unreachableContacts(db: Executor, routing: Routing): Promise<UnreachableContact[]> {
  // Only contacts still ahead: the levels after the current one of an incident nobody has acknowledged, and its last
  // level, which repeats. An acknowledged incident pages nobody, and a level already notified is past.
  const { rows } = await sql<{ id: number | string; contact: string }>`
    select distinct i.id, c.contact
    from incidents i cross join lateral jsonb_array_elements_text(i.escalation_chain) with ordinality as c(contact, level)
    where i.status = 'triggered' and (c.level > i.escalation_level or c.level = jsonb_array_length(i.escalation_chain))
    order by i.id, c.contact`.execute(db);
  return rows.filter((r) => !routing.contact(r.contact)?.notify.length).map((r) => ({ incidentId: Number(r.id), contact: r.contact }));
}

export function describeUnreachable(u: UnreachableContact): string {
  return `open incident ${u.incidentId} escalates to contact "${u.contact}", which the matrix no longer has (or has no channel): its pages will not be sent`;
}

/** What a reload says about open incidents and the reloaded matrix; a check that fails is a warning of its own. */
export async function reloadWarnings(db: Executor, routing: Routing): Promise<string[]> {
  try {
    return (await unreachableContacts(db, routing)).map(describeUnreachable);
  } catch (error) {
    return [`could not check open incidents against the reloaded matrix: ${(error as Error).message}`];
  }
}
