import type { Executor } from '../db/create-db.js';
import type { PinnableRunbook } from './routing.js';

/** Stores the runbook text under its content hash (once) so the incident keeps the text the responder followed. */
export async function pinRunbook(db: Executor, runbook: PinnableRunbook, now: Date): Promise<string> {
  await db
    .insertInto('runbook_versions')
    .values({ hash: runbook.hash, runbook_id: runbook.id, file: runbook.file, text: runbook.text, first_seen_at: now })
    .onConflict((oc) => oc.column('hash').doNothing())
    .execute();
  return runbook.hash;
}

export async function pinnedRunbookText(db: Executor, hash: string): Promise<{ text: string; file: string; runbookId: string } | null> {
  const row = await db.selectFrom('runbook_versions').select(['text', 'file', 'runbook_id']).where('hash', '=', hash).executeTakeFirst();
  return row ? { text: row.text, file: row.file, runbookId: row.runbook_id } : null;
}
