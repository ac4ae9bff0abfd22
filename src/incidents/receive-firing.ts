import { sql } from 'kysely';
import type { Alert } from '../alerts/alert.js';
import type { Db } from '../db/create-db.js';
import { PREPARED } from '../db/prepared-statements.js';
import { groupKeyOf } from './group-key.js';
import { instanceRow } from './instance-row.js';
import { joinBodies } from './raw-bodies.js';
import type { Delivery, DeliveryOutcome } from './receive.js';
import { mayTakeBackAcknowledgement } from './taken-back-acknowledgement.js';

/** Another transaction got there first (a repeat committed meanwhile) or the two deadlocked: the transactional path sorts it out. */
const FALL_BACK_CODES = new Set(['23505', '40P01']);

/**
 * The steady state of an outage in one round trip: every alert of the batch fires, for incidents already open, and no
 * delivery was seen before. The database function receive_firing (migrations/0002, its re-fire window 0006) applies such a batch exactly as the
 * transactional path would, as one atomic call outside a transaction: four round trips (begin, look-up, write, commit)
 * become one, which was most of a batch's fixed cost in both node and PostgreSQL. Returns null, having written nothing,
 * when the batch needs the transactional path: an incident to open or reopen, a resolution or acknowledgement (given or
 * taken back), a repeat.
 */
export async function receiveFiring(db: Db, deliveries: readonly Delivery[], now: Date): Promise<DeliveryOutcome[] | null> {
  const seen = new Set<string>();
  for (const d of deliveries) {
    const key = `${d.source}\u0000${d.deliveryKey}`;
    if (seen.has(key)) return null;
    seen.add(key);
    if (d.alerts.some((a) => a.status !== 'firing' || mayTakeBackAcknowledgement(a))) return null;
  }

  // The latest event of each instance, as the transactional path upserts it (a later one wins a tie).
  const latest = new Map<string, { groupKey: string; alert: Alert }>();
  const rows = deliveries.map((d) => {
    const groups = new Set<string>();
    for (const alert of d.alerts) {
      const groupKey = groupKeyOf(alert);
      groups.add(groupKey);
      const k = `${groupKey}\u0000${alert.source}\u0000${alert.fingerprint}`;
      const prev = latest.get(k);
      if (!prev || prev.alert.eventAt <= alert.eventAt) latest.set(k, { groupKey, alert });
    }
    return { source: d.source, key: d.deliveryKey, groups: [...groups], received_at: d.receivedAt.toISOString(), headers: d.headers, alert_count: d.alerts.length };
  });
  const instances = [...latest.values()].map(({ groupKey, alert }) => ({ group_key: groupKey, ...instanceRow(alert, now) }));

  try {
    const { rows: result } = await sql<{ answer: number[][] | null }>`
      ${PREPARED} select receive_firing(${JSON.stringify(rows)}::json, ${JSON.stringify(instances)}::json, ${joinBodies(deliveries.map((d) => d.rawBody))}::text, ${now}::timestamptz) as answer`.execute(db);
    const answer = result[0]?.answer ?? null;
    return answer ? answer.map((incidentIds) => ({ incidentIds, duplicate: false })) : null;
  } catch (error) {
    if (FALL_BACK_CODES.has(String((error as { code?: unknown }).code))) return null;
    throw error;
  }
}
