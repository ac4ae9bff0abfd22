import type { Executor } from '../db/create-db.js';
import type { PinnableRunbook } from './routing.js';

/** Stores the runbook text under its content hash (once) so the incident keeps the text the responder followed. */
export async function pinRunbook(db: Executor, runbook: PinnableRunbook, now: Date): Promise<string> {
  await pinRunbooks(db, [runbook], now);
  return runbook.hash;
}

/**
 * Pins several runbooks in one statement, in hash order: transactions that pin overlapping sets then wait for each other
 * in one order only. Pinned one by one in another order (as incidents open), two batches that open incidents on shared
 * runbooks deadlocked, and PostgreSQL broke each deadlock only after deadlock_timeout (1 s).
 */
export async function pinRunbooks(db: Executor, runbooks: readonly PinnableRunbook[], now: Date): Promise<void> {
  const byHash = new Map(runbooks.map((r) => [r.hash, r]));
  if (!byHash.size) return;
  const rows = [...byHash.keys()].sort().map((hash) => {
    const r = byHash.get(hash)!;
    return { hash, runbook_id: r.id, file: r.file, text: r.text, first_seen_at: now };
  });
  await db.insertInto('runbook_versions').values(rows).onConflict((oc) => oc.column('hash').doNothing()).execute();
}

export async function pinnedRunbookText(db: Executor, hash: string): Promise<{ text: string; file: string; runbookId: string } | null> {
  const row = await db.selectFrom('runbook_versions').select(['text', 'file', 'runbook_id']).where('hash', '=', hash).executeTakeFirst();
  return row ? { text: row.text, file: row.file, runbookId: row.runbook_id } : null;
}
