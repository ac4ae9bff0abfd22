import { sql } from 'kysely';
import { parseRunbook } from '../runbooks/parse-runbook.js';
import type { Executor } from '../db/create-db.js';
import type { Incident } from '../db/schema.js';
import { pinnedRunbookText } from './runbook-pin.js';
import type { IncidentState, TimelineEntry } from './transitions.js';

export function toState(row: Incident): IncidentState {
  return {
    status: row.status,
    acknowledgedAt: row.acknowledged_at,
    acknowledgedBy: row.acknowledged_by,
    resolvedAt: row.resolved_at,
    resolvedBy: row.resolved_by,
    escalationLevel: row.escalation_level,
    escalationSeq: row.escalation_seq,
    nextEscalationAt: row.next_escalation_at,
    reopenCount: row.reopen_count,
    lastReopenedAt: row.last_reopened_at,
    flapping: row.flapping,
  };
}

export function fromState(state: IncidentState) {
  return {
    status: state.status,
    acknowledged_at: state.acknowledgedAt,
    acknowledged_by: state.acknowledgedBy,
    resolved_at: state.resolvedAt,
    resolved_by: state.resolvedBy,
    escalation_level: state.escalationLevel,
    escalation_seq: state.escalationSeq,
    next_escalation_at: state.nextEscalationAt,
    reopen_count: state.reopenCount,
    last_reopened_at: state.lastReopenedAt,
    flapping: state.flapping,
  };
}

export async function appendTimeline(db: Executor, incidentId: number, at: Date, entries: TimelineEntry[]): Promise<void> {
  if (!entries.length) return;
  await db
    .insertInto('incident_events')
    .values(entries.map((e) => ({ incident_id: incidentId, at, kind: e.kind, actor: e.actor, data: JSON.stringify(e.data) })))
    .execute();
}

/** One row of the timeline of any incident, for appending many incidents' entries at once. */
export interface TimelineRow {
  incident_id: number;
  at: Date | string;
  kind: string;
  actor: string | null;
  data: Record<string, unknown>;
}

/**
 * Timeline entries of many incidents in one statement, inserted (and so numbered) in the order given. The rows travel as
 * one JSON parameter: a multi-row VALUES of Kysely's costs more to compile than the insert costs to run.
 */
export async function appendTimelineRows(db: Executor, rows: readonly TimelineRow[]): Promise<void> {
  if (!rows.length) return;
  await sql`
    insert into incident_events (incident_id, at, kind, actor, data)
    select incident_id, at, kind, actor, data
    from rows from (json_to_recordset(${JSON.stringify(rows)}::json) as (incident_id bigint, at timestamptz, kind text, actor text, data jsonb))
         with ordinality as t(incident_id, at, kind, actor, data, ord)
    order by ord`.execute(db);
}

export async function lockIncident(db: Executor, id: number): Promise<Incident | undefined> {
  return db.selectFrom('incidents').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function saveState(db: Executor, id: number, state: IncidentState, now: Date): Promise<void> {
  await db.updateTable('incidents').set({ ...fromState(state), updated_at: now }).where('id', '=', id).execute();
}

/** At resolve, the pinned runbook's post-incident checklist becomes follow-ups tracked after the incident. */
export async function createFollowUps(db: Executor, incident: Incident, now: Date): Promise<void> {
  if (!incident.runbook_hash) return;
  const pinned = await pinnedRunbookText(db, incident.runbook_hash);
  if (!pinned) return;
  const { runbook } = parseRunbook(pinned.text, pinned.file);
  const items = runbook?.postIncident ?? [];
  if (!items.length) return;
  await db
    .insertInto('follow_ups')
    .values(items.map((item) => ({ incident_id: incident.id, item_key: item.key, text: item.text, created_at: now })))
    .onConflict((oc) => oc.columns(['incident_id', 'item_key']).doNothing())
    .execute();
}
