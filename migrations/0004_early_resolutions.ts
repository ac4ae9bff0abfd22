import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit after it has landed; add a new migration instead.
//
// A resolution that arrives before its firing, for an alert with no incident yet (the firing was refused and retried
// later, or the two reached two replicas at the same moment and the resolution was applied first), had nowhere to go and
// was dropped: the late firing then opened an incident that nothing would ever resolve. It is kept here, per group and
// instance, until a firing for that instance arrives (it is then applied with it) or it is a week old.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table early_resolutions (
      group_key text not null,
      source text not null,
      fingerprint text not null,
      resolved_event_at timestamptz not null,
      received_at timestamptz not null,
      primary key (group_key, source, fingerprint)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists early_resolutions`.execute(db);
}
