import type { Db, Tx } from '../db/create-db.js';
import type { Incident } from '../db/schema.js';
import { appendTimeline, saveState, toState } from './incident-store.js';
import { enqueueNotification } from './outbox.js';
import type { Routing } from './routing.js';
import { escalate } from './transitions.js';

export interface EscalationTickResult {
  fired: number;
  /** How late each claimed deadline was, in ms (now − due time). */
  lagsMs: number[];
  severities: string[];
}

const DRILL_WITHIN_MS = 7 * 86_400_000;

/**
 * Claims due escalations with FOR UPDATE SKIP LOCKED (so replicas share the work and never fire one twice), re-checks them
 * inside the transaction, advances the level, appends the timeline and enqueues the notifications — all in one commit.
 */
export async function runEscalationTick(db: Db, deps: { routing: Routing; now: Date; publicUrl: string; limit?: number }): Promise<EscalationTickResult> {
  const { now } = deps;
  return db.transaction().execute(async (tx) => {
    const due = await tx
      .selectFrom('incidents')
      .selectAll()
      .where('status', '=', 'triggered')
      .where('next_escalation_at', '<=', now)
      .orderBy('next_escalation_at')
      .limit(deps.limit ?? 200)
      .forUpdate()
      .skipLocked()
      .execute();
    const result: EscalationTickResult = { fired: 0, lagsMs: [], severities: [] };
    for (const incident of due) {
      result.lagsMs.push(now.getTime() - incident.next_escalation_at!.getTime());
      const chain = incident.escalation_chain;
      const step = escalate(toState(incident), chain.length, deps.routing.policy(incident.severity), now);
      if (!step.transition.changed) continue;
      await saveState(tx, incident.id, step.transition.state, now);
      await appendTimeline(tx, incident.id, now, step.transition.events);
      if (step.notifyIndex === null) continue;
      result.fired++;
      result.severities.push(incident.severity);
      const level = step.transition.state.escalationLevel;
      await notifyLevel(tx, incident, deps, chain[step.notifyIndex]!, level, step.transition.state.escalationSeq);
      if (level >= 2 && incident.runbook_id) await scheduleEscalationDrill(tx, incident, now);
    }
    return result;
  });
}

async function notifyLevel(tx: Tx, incident: Incident, deps: { routing: Routing; now: Date; publicUrl: string }, contactId: string, level: number, seq: number) {
  const contact = deps.routing.contact(contactId);
  if (!contact || !contact.notify.length) {
    await appendTimeline(tx, incident.id, deps.now, [{ kind: 'notification_failed', actor: null, data: { contact: contactId, level, error: `contact "${contactId}" is not in the matrix or has no channel` } }]);
    return;
  }
  const pageUrl = `${deps.publicUrl}/incidents/${incident.id}`;
  for (const [index, channel] of contact.notify.entries()) {
    const severity = incident.severity.toUpperCase();
    const payload =
      channel.type === 'slack'
        ? {
            text: `:rotating_light: [${severity}] ${incident.mon_id ?? 'no MON- id'} ${incident.title} — escalation level ${level} (${contact.name}). <${pageUrl}|Open incident #${incident.id}>${incident.runbook_id ? ` · runbook ${incident.runbook_id}` : ' · no runbook'}`,
          }
        : {
            type: 'escalation',
            incidentId: incident.id,
            monId: incident.mon_id,
            runbookId: incident.runbook_id,
            severity: incident.severity,
            level,
            contact: contact.id,
            title: incident.title,
            status: incident.status,
            url: pageUrl,
          };
    await enqueueNotification(tx, {
      idempotencyKey: `incident-${incident.id}-r${incident.reopen_count}-e${seq}-${contact.id}-${index}`,
      incidentId: incident.id,
      kind: 'escalation',
      contactId: contact.id,
      channel,
      payload,
      now: deps.now,
    });
  }
}

/** Seed: "Schedule team drill of this runbook within 1 week if escalated". One drill per escalated incident. */
async function scheduleEscalationDrill(tx: Tx, incident: Incident, now: Date) {
  const inserted = await tx
    .insertInto('drills')
    .values({
      runbook_id: incident.runbook_id!,
      runbook_hash: incident.runbook_hash,
      reason: `escalated incident ${incident.id}`,
      trigger: 'escalation',
      incident_id: incident.id,
      status: 'scheduled',
      due_at: new Date(now.getTime() + DRILL_WITHIN_MS),
      created_at: now,
      created_by: null,
    })
    .onConflict((oc) => oc.column('incident_id').where('trigger', '=', 'escalation').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) {
    await appendTimeline(tx, incident.id, now, [{ kind: 'drill_scheduled', actor: null, data: { drillId: inserted.id, runbookId: incident.runbook_id, dueAt: new Date(now.getTime() + DRILL_WITHIN_MS).toISOString() } }]);
  }
}
