import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Id = Generated<number>;
/** jsonb: written as a JSON string, read back parsed on both drivers. */
type Json<T> = ColumnType<T, string, string>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface AlertEventsTable {
  id: Id;
  source: string;
  delivery_key: string;
  received_at: Timestamp;
  raw_body: string;
  headers: Json<Record<string, string>>;
  alert_count: ColumnType<number, number | undefined, number>;
  incident_ids: Json<number[]>;
  repeat_count: ColumnType<number, number | undefined, number>;
  last_repeat_at: Timestamp | null;
}

export interface RejectedDeliveriesTable {
  id: Id;
  source: string;
  received_at: Timestamp;
  status_code: number;
  reason: string;
  raw_body: string;
  headers: Json<Record<string, string>>;
}

export interface RunbookVersionsTable {
  hash: string;
  runbook_id: string;
  file: string;
  text: string;
  first_seen_at: Timestamp;
}

export type IncidentStatus = 'triggered' | 'acknowledged' | 'resolved';

export interface IncidentsTable {
  id: Id;
  group_key: string;
  mon_id: string | null;
  runbook_id: string | null;
  runbook_hash: string | null;
  title: string;
  severity: string;
  status: IncidentStatus;
  source: string;
  escalation_chain: Json<string[]>;
  escalation_level: ColumnType<number, number | undefined, number>;
  escalation_seq: ColumnType<number, number | undefined, number>;
  next_escalation_at: Timestamp | null;
  opened_at: Timestamp;
  acknowledged_at: Timestamp | null;
  acknowledged_by: string | null;
  resolved_at: Timestamp | null;
  resolved_by: string | null;
  reopen_count: ColumnType<number, number | undefined, number>;
  last_reopened_at: Timestamp | null;
  flapping: ColumnType<boolean, boolean | undefined, boolean>;
  last_alert_at: Timestamp;
  updated_at: Timestamp;
}

export interface AlertInstancesTable {
  id: Id;
  incident_id: number;
  source: string;
  fingerprint: string;
  mon_id: string | null;
  status: 'firing' | 'resolved' | 'acknowledged';
  title: string;
  labels: Json<Record<string, string>>;
  values: Json<Record<string, string | number>>;
  url: string | null;
  starts_at: Timestamp;
  last_event_at: Timestamp;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
}

export interface IncidentEventsTable {
  id: Id;
  incident_id: number;
  at: Timestamp;
  kind: string;
  actor: string | null;
  data: Json<Record<string, unknown>>;
}

export interface DrillsTable {
  id: Id;
  runbook_id: string;
  runbook_hash: string | null;
  reason: string;
  trigger: 'cadence' | 'escalation' | 'manual';
  incident_id: number | null;
  status: 'scheduled' | 'running' | 'completed' | 'cancelled';
  due_at: Timestamp;
  created_at: Timestamp;
  created_by: string | null;
  started_at: Timestamp | null;
  started_by: string | null;
  completed_at: Timestamp | null;
  outcome: 'passed' | 'gaps_found' | null;
  gaps: string | null;
}

export interface StepChecksTable {
  id: Id;
  incident_id: number | null;
  drill_id: number | null;
  step_key: string;
  checked: boolean;
  checked_by: string;
  checked_at: Timestamp;
}

export interface FollowUpsTable {
  id: Id;
  incident_id: number;
  item_key: string;
  text: string;
  created_at: Timestamp;
  done: ColumnType<boolean, boolean | undefined, boolean>;
  done_by: string | null;
  done_at: Timestamp | null;
}

export interface ReportsTable {
  id: Id;
  iso_week: string;
  period_start: Timestamp;
  period_end: Timestamp;
  generated_at: Timestamp;
  content: Json<Record<string, unknown>>;
  markdown: string;
}

export interface NotificationsTable {
  id: Id;
  idempotency_key: string;
  incident_id: number | null;
  report_id: number | null;
  kind: string;
  contact_id: string;
  channel_type: 'webhook' | 'slack';
  url: string;
  payload: Json<Record<string, unknown>>;
  status: 'pending' | 'sent' | 'failed' | 'cancelled';
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp;
  last_error: string | null;
  created_at: Timestamp;
  sent_at: Timestamp | null;
}

/** A resolution that came before any incident of its group: applied with its instance's firing when that comes (migrations/0004). */
export interface EarlyResolutionsTable {
  group_key: string;
  source: string;
  fingerprint: string;
  resolved_event_at: Timestamp;
  received_at: Timestamp;
}

export interface Database {
  alert_events: AlertEventsTable;
  rejected_deliveries: RejectedDeliveriesTable;
  runbook_versions: RunbookVersionsTable;
  incidents: IncidentsTable;
  alert_instances: AlertInstancesTable;
  incident_events: IncidentEventsTable;
  drills: DrillsTable;
  step_checks: StepChecksTable;
  follow_ups: FollowUpsTable;
  reports: ReportsTable;
  notifications: NotificationsTable;
  early_resolutions: EarlyResolutionsTable;
}

export type Incident = Selectable<IncidentsTable>;
export type NewIncident = Insertable<IncidentsTable>;
export type AlertInstance = Selectable<AlertInstancesTable>;
export type IncidentEvent = Selectable<IncidentEventsTable>;
export type Drill = Selectable<DrillsTable>;
export type Notification = Selectable<NotificationsTable>;
export type Report = Selectable<ReportsTable>;
