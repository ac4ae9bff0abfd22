import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit after it has landed; add a new migration instead.
// The whole schema the design needs, so later work adds columns rather than redesigning.
export async function up(db: Kysely<any>): Promise<void> {
  // Delivery inbox: every accepted delivery with its raw body, before any 2xx. A repeat (same source and key) is answered again, never applied twice.
  await sql`
    create table alert_events (
      id bigserial primary key,
      source text not null,
      delivery_key text not null,
      received_at timestamptz not null,
      raw_body text not null,
      headers jsonb not null default '{}'::jsonb,
      alert_count integer not null default 0,
      incident_ids jsonb not null default '[]'::jsonb,
      repeat_count integer not null default 0,
      last_repeat_at timestamptz,
      unique (source, delivery_key)
    )`.execute(db);

  await sql`
    create table rejected_deliveries (
      id bigserial primary key,
      source text not null,
      received_at timestamptz not null,
      status_code integer not null,
      reason text not null,
      raw_body text not null,
      headers jsonb not null default '{}'::jsonb
    )`.execute(db);
  await sql`create index rejected_deliveries_received_at on rejected_deliveries (received_at)`.execute(db);

  // The text of a runbook as it was when an incident or drill pinned it, shared by content hash.
  await sql`
    create table runbook_versions (
      hash text primary key,
      runbook_id text not null,
      file text not null,
      text text not null,
      first_seen_at timestamptz not null
    )`.execute(db);

  await sql`
    create table incidents (
      id bigserial primary key,
      group_key text not null,
      mon_id text,
      runbook_id text,
      runbook_hash text references runbook_versions (hash),
      title text not null,
      severity text not null,
      status text not null check (status in ('triggered', 'acknowledged', 'resolved')),
      source text not null,
      escalation_chain jsonb not null default '[]'::jsonb,
      escalation_level integer not null default 0,
      -- Counts every escalation step ever fired for this incident; part of each notification's idempotency key.
      escalation_seq integer not null default 0,
      next_escalation_at timestamptz,
      opened_at timestamptz not null,
      acknowledged_at timestamptz,
      acknowledged_by text,
      resolved_at timestamptz,
      resolved_by text,
      reopen_count integer not null default 0,
      last_reopened_at timestamptz,
      flapping boolean not null default false,
      last_alert_at timestamptz not null,
      updated_at timestamptz not null
    )`.execute(db);
  // One open incident per MON- id (or per source + fingerprint for alerts with no known MON- id), across every replica.
  await sql`create unique index incidents_one_open_per_group on incidents (group_key) where status <> 'resolved'`.execute(db);
  await sql`create index incidents_group_resolved on incidents (group_key, resolved_at desc)`.execute(db);
  await sql`create index incidents_due_escalation on incidents (next_escalation_at) where next_escalation_at is not null`.execute(db);
  await sql`create index incidents_opened_at on incidents (opened_at desc)`.execute(db);

  await sql`
    create table alert_instances (
      id bigserial primary key,
      incident_id bigint not null references incidents (id),
      source text not null,
      fingerprint text not null,
      mon_id text,
      status text not null check (status in ('firing', 'resolved', 'acknowledged')),
      title text not null,
      labels jsonb not null default '{}'::jsonb,
      values jsonb not null default '{}'::jsonb,
      url text,
      starts_at timestamptz not null,
      last_event_at timestamptz not null,
      first_seen_at timestamptz not null,
      last_seen_at timestamptz not null,
      unique (incident_id, source, fingerprint)
    )`.execute(db);

  // Append-only: rows are inserted, never updated or deleted.
  await sql`
    create table incident_events (
      id bigserial primary key,
      incident_id bigint not null references incidents (id),
      at timestamptz not null,
      kind text not null,
      actor text,
      data jsonb not null default '{}'::jsonb
    )`.execute(db);
  await sql`create index incident_events_incident on incident_events (incident_id, id)`.execute(db);
  await sql`create index incident_events_kind_at on incident_events (kind, at)`.execute(db);

  await sql`
    create table drills (
      id bigserial primary key,
      runbook_id text not null,
      runbook_hash text references runbook_versions (hash),
      reason text not null,
      trigger text not null check (trigger in ('cadence', 'escalation', 'manual')),
      incident_id bigint references incidents (id),
      status text not null check (status in ('scheduled', 'running', 'completed', 'cancelled')),
      due_at timestamptz not null,
      created_at timestamptz not null,
      created_by text,
      started_at timestamptz,
      started_by text,
      completed_at timestamptz,
      outcome text check (outcome in ('passed', 'gaps_found')),
      gaps text
    )`.execute(db);
  await sql`create unique index drills_one_per_escalated_incident on drills (incident_id) where trigger = 'escalation'`.execute(db);
  await sql`create unique index drills_one_open_cadence_per_runbook on drills (runbook_id) where trigger = 'cadence' and status in ('scheduled', 'running')`.execute(db);
  await sql`create index drills_runbook_completed on drills (runbook_id, completed_at desc)`.execute(db);

  // Procedure steps and verification items ticked on an incident or a drill: current state; history is in the timeline.
  await sql`
    create table step_checks (
      id bigserial primary key,
      incident_id bigint references incidents (id),
      drill_id bigint references drills (id),
      step_key text not null,
      checked boolean not null,
      checked_by text not null,
      checked_at timestamptz not null,
      check (num_nonnulls(incident_id, drill_id) = 1)
    )`.execute(db);
  await sql`create unique index step_checks_incident on step_checks (incident_id, step_key) where incident_id is not null`.execute(db);
  await sql`create unique index step_checks_drill on step_checks (drill_id, step_key) where drill_id is not null`.execute(db);

  // The runbook's post-incident checklist, tracked after resolve.
  await sql`
    create table follow_ups (
      id bigserial primary key,
      incident_id bigint not null references incidents (id),
      item_key text not null,
      text text not null,
      created_at timestamptz not null,
      done boolean not null default false,
      done_by text,
      done_at timestamptz,
      unique (incident_id, item_key)
    )`.execute(db);

  await sql`
    create table reports (
      id bigserial primary key,
      iso_week text not null unique,
      period_start timestamptz not null,
      period_end timestamptz not null,
      generated_at timestamptz not null,
      content jsonb not null,
      markdown text not null
    )`.execute(db);

  // Outbox: at-least-once delivery with an idempotency key the receiver can dedupe on.
  await sql`
    create table notifications (
      id bigserial primary key,
      idempotency_key text not null unique,
      incident_id bigint references incidents (id),
      report_id bigint references reports (id),
      kind text not null,
      contact_id text not null,
      channel_type text not null check (channel_type in ('webhook', 'slack')),
      url text not null,
      payload jsonb not null,
      status text not null check (status in ('pending', 'sent', 'failed')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null,
      last_error text,
      created_at timestamptz not null,
      sent_at timestamptz
    )`.execute(db);
  await sql`create index notifications_pending on notifications (next_attempt_at) where status = 'pending'`.execute(db);
  await sql`create index notifications_incident on notifications (incident_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['notifications', 'reports', 'follow_ups', 'step_checks', 'drills', 'incident_events', 'alert_instances', 'incidents', 'runbook_versions', 'rejected_deliveries', 'alert_events']) {
    await sql`drop table if exists ${sql.table(table)}`.execute(db);
  }
}
