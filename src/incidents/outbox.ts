import { sql } from 'kysely';
import type { Db, Executor } from '../db/create-db.js';
import { appendTimeline } from './incident-store.js';
import type { ContactChannel } from './routing.js';

export async function enqueueNotification(
  db: Executor,
  n: { idempotencyKey: string; incidentId?: number | null; reportId?: number | null; kind: string; contactId: string; channel: ContactChannel; payload: Record<string, unknown>; now: Date },
): Promise<void> {
  await db
    .insertInto('notifications')
    .values({
      idempotency_key: n.idempotencyKey,
      incident_id: n.incidentId ?? null,
      report_id: n.reportId ?? null,
      kind: n.kind,
      contact_id: n.contactId,
      channel_type: n.channel.type,
      url: n.channel.url,
      payload: JSON.stringify(n.payload),
      status: 'pending',
      next_attempt_at: n.now,
      created_at: n.now,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .execute();
}

export interface OutboxOptions {
  timeoutMs: number;
  maxAttempts: number;
  backoffMs: number;
  limit?: number;
}

export interface OutboxTickResult {
  sent: number;
  retried: number;
  failed: number;
}

const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * Sends due notifications at least once. A claim is a lease (attempts+1, next attempt pushed past the send timeout)
 * committed before the POST, so no transaction is held across the network and a crash mid-send only delays a retry.
 * Receivers dedupe on the Idempotency-Key header.
 */
export async function runOutboxTick(db: Db, clock: () => Date, options: OutboxOptions): Promise<OutboxTickResult> {
  const claimedAt = clock();
  const leaseUntil = new Date(claimedAt.getTime() + options.timeoutMs * 2 + 1000);
  const claimed = await db.transaction().execute(async (tx) => {
    const rows = await tx
      .selectFrom('notifications')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', claimedAt)
      .orderBy('next_attempt_at')
      .limit(options.limit ?? 50)
      .forUpdate()
      .skipLocked()
      .execute();
    if (rows.length) {
      await tx
        .updateTable('notifications')
        .set({ attempts: sql`attempts + 1`, next_attempt_at: leaseUntil })
        .where('id', 'in', rows.map((r) => r.id))
        .execute();
    }
    return rows.map((r) => ({ ...r, attempts: r.attempts + 1 }));
  });

  const result: OutboxTickResult = { sent: 0, retried: 0, failed: 0 };
  await Promise.all(
    claimed.map(async (n) => {
      const error = await post(n.url, n.payload, n.idempotency_key, options.timeoutMs);
      const now = clock();
      if (error === null) {
        result.sent++;
        await db.transaction().execute(async (tx) => {
          await tx.updateTable('notifications').set({ status: 'sent', sent_at: now, last_error: null }).where('id', '=', n.id).execute();
          if (n.incident_id) await appendTimeline(tx, n.incident_id, now, [{ kind: 'notification_sent', actor: null, data: { notificationId: n.id, contact: n.contact_id, channel: n.channel_type, attempts: n.attempts } }]);
        });
      } else if (n.attempts >= options.maxAttempts) {
        result.failed++;
        await db.transaction().execute(async (tx) => {
          await tx.updateTable('notifications').set({ status: 'failed', last_error: error }).where('id', '=', n.id).execute();
          if (n.incident_id) await appendTimeline(tx, n.incident_id, now, [{ kind: 'notification_failed', actor: null, data: { notificationId: n.id, contact: n.contact_id, channel: n.channel_type, attempts: n.attempts, error } }]);
        });
      } else {
        result.retried++;
        const delay = Math.min(options.backoffMs * 2 ** (n.attempts - 1), MAX_BACKOFF_MS);
        await db.updateTable('notifications').set({ next_attempt_at: new Date(now.getTime() + delay), last_error: error }).where('id', '=', n.id).execute();
      }
    }),
  );
  return result;
}

export async function outboxBacklog(db: Db): Promise<number> {
  const row = await db.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Returns null on a 2xx, else a short reason. */
async function post(url: string, payload: unknown, idempotencyKey: string, timeoutMs: number): Promise<string | null> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey, 'user-agent': 'runbook-router' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer().catch(() => undefined);
    return response.ok ? null : `HTTP ${response.status}`;
  } catch (error) {
    const e = error as Error;
    return e.name === 'TimeoutError' ? `no answer within ${timeoutMs}ms` : `${e.name}: ${e.message}`;
  }
}
