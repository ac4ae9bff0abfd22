import { sql } from 'kysely';
import type { Db, Tx } from '../db/create-db.js';
import type { Incident } from '../db/schema.js';
import { appendTimelineRows, fromState, toState, type TimelineRow } from './incident-store.js';
import type { Routing } from './routing.js';
import type { UnreachableContact } from './unreachable-contacts.js';
import { escalate, type IncidentState, type TimelineEntry } from './transitions.js';

export interface EscalationTickResult {
  fired: number;
  /** How late each claimed deadline was, in ms (the time it was fired − due time). */
  lagsMs: number[];
  severities: string[];
  /** The first pass claimed its limit: more may be due, so run another round at once. */
  full: boolean;
  /** Levels that fired to a contact the matrix no longer has (or with no channel): nobody was paged for them. */
  unreachable: UnreachableContact[];
  /** Due incidents whose lock another transaction held past the wait: not fired this round, tried again next round. */
  lockedOut?: number[];
  /** The second pass stopped on this error; what was fired before it is committed and counted above. */
  error?: unknown;
}

const DRILL_WITHIN_MS = 7 * 86_400_000;

interface NotificationRow {
  idempotency_key: string;
  incident_id: number;
  contact_id: string;
  channel_type: string;
  url: string;
  payload: Record<string, unknown>;
}

export interface EscalationTickDeps {
  routing: Routing;
  /** The round's time: what is due by then is fired. */
  now: Date;
  /** The time after waiting for a lock, for what the second pass fires; `now` unless given. */
  clock?: () => Date;
  publicUrl: string;
  /** Escalations claimed per round (and at most this many waited for). */
  limit?: number;
  /** How long the second pass may wait for locks, in all; ESCALATION_LOCK_WAIT_MS unless given. */
  lockWaitMs?: number;
}

export const ESCALATION_LOCK_WAIT_MS = 1000;

/** PostgreSQL's lock_not_available: lock_timeout passed while waiting for a lock. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Claims due escalations with FOR UPDATE SKIP LOCKED (so replicas share the work and never fire one twice), re-checks them
 * inside the transaction, advances the level, appends the timeline and enqueues the notifications — all in one commit.
 * However many incidents fall due together, a round is a handful of statements (claim, state, drills, notifications,
 * timeline), each carrying all the claimed incidents' rows as one JSON parameter.
 *
 * SKIP LOCKED also skips an incident that a receive batch has locked, and in an alert storm on that incident batches
 * hold its lock back to back: measured at 200 connections, an escalation due on the stormed incident was skipped by one
 * tick in two, and more replicas or a larger storm would skip it for good, on the very incident that is burning. So
 * whatever is still due once the claimed ones are committed is taken a second time, one incident per transaction,
 * waiting for its lock. Each of those transactions waits for nothing else while it holds no lock, so it cannot deadlock;
 * PostgreSQL re-checks the row once the lock is granted, so an incident another replica fired meanwhile is left alone.
 * The waits share one budget, `lockWaitMs` in all, so a stuck transaction holding many incidents cannot hold up the
 * round (and the escalations falling due meanwhile); once it is spent, the rest are only tried without waiting. An
 * incident whose lock could not be had is reported in `lockedOut` and tried again next round.
 */
export async function runEscalationTick(db: Db, deps: EscalationTickDeps): Promise<EscalationTickResult> {
  const limit = deps.limit ?? 200;
  const first = await db.transaction().execute((tx) => fireDue(tx, deps, limit, null));
  const result: EscalationTickResult = { ...first, full: first.lagsMs.length >= limit };
  if (result.full) return result;

  const { rows: stillDue } = await sql<{ id: number }>`
    select id from incidents where status = 'triggered' and next_escalation_at <= ${deps.now}::timestamptz
    order by next_escalation_at limit ${limit}`.execute(db);
  // A budget in real time, not the round's time: it bounds how long this round keeps the next one waiting.
  const giveUpAt = performance.now() + (deps.lockWaitMs ?? ESCALATION_LOCK_WAIT_MS);
  for (const { id } of stillDue) {
    try {
      const waited = await db.transaction().execute(async (tx) => {
        const waitMs = Math.max(1, Math.round(giveUpAt - performance.now()));
        await sql`select set_config('lock_timeout', ${`${waitMs}ms`}, true)`.execute(tx);
        return fireDue(tx, deps, 1, id);
      });
      result.fired += waited.fired;
      result.lagsMs.push(...waited.lagsMs);
      result.severities.push(...waited.severities);
      result.unreachable.push(...waited.unreachable);
    } catch (error) {
      if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) {
        result.error = error;
        break;
      }
      (result.lockedOut ??= []).push(Number(id));
    }
  }
  return result;
}

/**
 * Fires what is due: the first `limit` unlocked due incidents, or (waiting for its lock) the one incident `waitFor`.
 */
async function fireDue(tx: Tx, deps: EscalationTickDeps, limit: number, waitFor: number | null): Promise<Omit<EscalationTickResult, 'full'>> {
  const claim = tx.selectFrom('incidents').selectAll().where('status', '=', 'triggered').where('next_escalation_at', '<=', deps.now);
  const due =
    waitFor === null
      ? await claim.orderBy('next_escalation_at').limit(limit).forUpdate().skipLocked().execute()
      : await claim.where('id', '=', waitFor).forUpdate().execute();
  // Fired after waiting for a lock, it is fired at the time it was had: its timeline, its next deadline and its lag say so.
  const now = waitFor === null ? deps.now : (deps.clock?.() ?? deps.now);
  const result: Omit<EscalationTickResult, 'full'> = { fired: 0, lagsMs: [], severities: [], unreachable: [] };
  const states: { id: number; state: IncidentState }[] = [];
  const timeline: TimelineRow[] = [];
  const notifications: NotificationRow[] = [];
  const drills: Incident[] = [];
  const push = (incidentId: number, entries: TimelineEntry[]) => {
    for (const e of entries) timeline.push({ incident_id: incidentId, at: now, kind: e.kind, actor: e.actor, data: e.data });
  };

  for (const incident of due) {
    result.lagsMs.push(now.getTime() - incident.next_escalation_at!.getTime());
    const chain = incident.escalation_chain;
    const step = escalate(toState(incident), chain.length, deps.routing.policy(incident.severity), now);
    if (!step.transition.changed) continue;
    states.push({ id: incident.id, state: step.transition.state });
    push(incident.id, step.transition.events);
    if (step.notifyIndex === null) continue;
    result.fired++;
    result.severities.push(incident.severity);
    const level = step.transition.state.escalationLevel;
    notifyLevel(incident, deps, chain[step.notifyIndex]!, level, step.transition.state.escalationSeq, push, notifications, result.unreachable);
    if (level >= 2 && incident.runbook_id) drills.push(incident);
  }

  if (states.length) {
    const rows = states.map(({ id, state }) => {
      const r = fromState(state);
      const iso = (d: Date | null) => d?.toISOString() ?? null;
      return { ...r, id, acknowledged_at: iso(r.acknowledged_at), resolved_at: iso(r.resolved_at), next_escalation_at: iso(r.next_escalation_at), last_reopened_at: iso(r.last_reopened_at) };
    });
    await sql`
      update incidents set
        status = s.status, acknowledged_at = s.acknowledged_at, acknowledged_by = s.acknowledged_by, resolved_at = s.resolved_at, resolved_by = s.resolved_by,
        escalation_level = s.escalation_level, escalation_seq = s.escalation_seq, next_escalation_at = s.next_escalation_at,
        reopen_count = s.reopen_count, last_reopened_at = s.last_reopened_at, flapping = s.flapping, updated_at = ${now}::timestamptz
      from json_to_recordset(${JSON.stringify(rows)}::json) as s(id bigint, status text, acknowledged_at timestamptz, acknowledged_by text, resolved_at timestamptz,
           resolved_by text, escalation_level integer, escalation_seq integer, next_escalation_at timestamptz, reopen_count integer, last_reopened_at timestamptz, flapping boolean)
      where incidents.id = s.id`.execute(tx);
  }
  if (notifications.length) {
    await sql`
      insert into notifications (idempotency_key, incident_id, report_id, kind, contact_id, channel_type, url, payload, status, next_attempt_at, created_at)
      select idempotency_key, incident_id, null, 'escalation', contact_id, channel_type, url, payload, 'pending', ${now}::timestamptz, ${now}::timestamptz
      from rows from (json_to_recordset(${JSON.stringify(notifications)}::json) as (idempotency_key text, incident_id bigint, contact_id text, channel_type text, url text, payload jsonb))
           with ordinality as n(idempotency_key, incident_id, contact_id, channel_type, url, payload, ord)
      order by ord
      on conflict (idempotency_key) do nothing`.execute(tx);
  }
  if (drills.length) await scheduleEscalationDrills(tx, drills, now, push);
  await appendTimelineRows(tx, sortTimeline(timeline, due));
  return result;
}

/** Each incident's events together and in the order they happened, incidents in the order they were claimed. */
function sortTimeline(timeline: TimelineRow[], due: Incident[]): TimelineRow[] {
  const rank = new Map(due.map((i, index) => [i.id, index]));
  return timeline.map((row, index) => ({ row, index })).sort((a, b) => rank.get(a.row.incident_id)! - rank.get(b.row.incident_id)! || a.index - b.index).map((x) => x.row);
}

function notifyLevel(
  incident: Incident,
  deps: { routing: Routing; publicUrl: string },
  contactId: string,
  level: number,
  seq: number,
  push: (id: number, entries: TimelineEntry[]) => void,
  out: NotificationRow[],
  unreachable: UnreachableContact[],
) {
  const contact = deps.routing.contact(contactId);
  if (!contact || !contact.notify.length) {
    push(incident.id, [{ kind: 'notification_failed', actor: null, data: { contact: contactId, level, error: `contact "${contactId}" is not in the matrix or has no channel` } }]);
    unreachable.push({ incidentId: incident.id, contact: contactId });
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
    out.push({
      idempotency_key: `incident-${incident.id}-r${incident.reopen_count}-e${seq}-${contact.id}-${index}`,
      incident_id: incident.id,
      contact_id: contact.id,
      channel_type: channel.type,
      url: channel.url,
      payload,
    });
  }
}

/** Seed: "Schedule team drill of this runbook within 1 week if escalated". One drill per escalated incident. */
async function scheduleEscalationDrills(tx: Tx, incidents: Incident[], now: Date, push: (id: number, entries: TimelineEntry[]) => void) {
  const dueAt = new Date(now.getTime() + DRILL_WITHIN_MS);
  const { rows } = await sql<{ id: number; incident_id: number }>`
    insert into drills (runbook_id, runbook_hash, reason, trigger, incident_id, status, due_at, created_at, created_by)
    select runbook_id, runbook_hash, 'escalated incident ' || incident_id, 'escalation', incident_id, 'scheduled', ${dueAt}::timestamptz, ${now}::timestamptz, null
    from rows from (json_to_recordset(${JSON.stringify(incidents.map((i) => ({ incident_id: i.id, runbook_id: i.runbook_id, runbook_hash: i.runbook_hash })))}::json)
                    as (incident_id bigint, runbook_id text, runbook_hash text)) with ordinality as d(incident_id, runbook_id, runbook_hash, ord)
    order by ord
    on conflict (incident_id) where trigger = 'escalation' do nothing
    returning id, incident_id`.execute(tx);
  const drillOf = new Map(rows.map((r) => [Number(r.incident_id), Number(r.id)]));
  for (const incident of incidents) {
    const drillId = drillOf.get(incident.id);
    if (drillId === undefined) continue;
    push(incident.id, [{ kind: 'drill_scheduled', actor: null, data: { drillId, runbookId: incident.runbook_id, dueAt: dueAt.toISOString() } }]);
  }
}
