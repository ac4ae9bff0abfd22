import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit after it has landed; add a new migration instead.
//
// An escalation page whose incident was acknowledged, resolved or reopened before it could be delivered is dropped
// unsent. It is its own final state, so the weekly report's failed notifications and the failure metrics stay about
// receivers that could not be reached.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table notifications drop constraint notifications_status_check`.execute(db);
  await sql`alter table notifications add constraint notifications_status_check check (status in ('pending', 'sent', 'failed', 'cancelled'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`update notifications set status = 'failed' where status = 'cancelled'`.execute(db);
  await sql`alter table notifications drop constraint notifications_status_check`.execute(db);
  await sql`alter table notifications add constraint notifications_status_check check (status in ('pending', 'sent', 'failed'))`.execute(db);
}
