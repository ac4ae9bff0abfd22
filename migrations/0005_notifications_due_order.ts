import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit after it has landed; add a new migration instead.
//
// The outbox claims first attempts before retries (`order by attempts > 0, next_attempt_at, id`). With only the index
// on next_attempt_at, every claim sorted the whole due backlog to take its 64 rows: for 20,000 pending notifications
// an external sort of ~7 MB, 19 ms a claim, over 150 claims to drain a burst. This index is in the claim's order, so a
// claim reads its rows off the index and stops. It also serves the backlog count, so the old index goes.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index notifications_due on notifications ((attempts > 0), next_attempt_at, id) where status = 'pending'`.execute(db);
  await sql`drop index notifications_pending`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index notifications_pending on notifications (next_attempt_at) where status = 'pending'`.execute(db);
  await sql`drop index notifications_due`.execute(db);
}
