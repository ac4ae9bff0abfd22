import { sql } from 'kysely';
import type { Tx } from '../db/create-db.js';
import { PREPARED } from '../db/prepared-statements.js';
import { groupKeyOf } from './group-key.js';
import type { Delivery } from './receive.js';

/**
 * Of deliveries the inbox has seen before, those that are not a retry but a new notification with the same bytes: an
 * alert of theirs whose latest instance (in the latest incident of its group that holds it, which need not be the
 * group's latest incident: another rule of the same MON- id may have opened that) has another status now. Only PagerDuty sends a
 * delivery id; the others are known by their body's hash, and Grafana's legacy alerting has no timestamps at all, so a
 * rule that goes alerting → ok → alerting sends its first body again, and ok → alerting → ok its first ok. Taken as
 * repeats, the re-fire opened nothing and paged nobody, with a 202. So is a firing whose incident a responder resolved
 * while it still fired: Alertmanager's repeat (every repeat_interval) is the very bytes of the last notification, and it
 * now reopens or opens an incident as it would if any byte differed (Grafana's repeats differ in their URLs' times). A
 * real retry of an older notification that is applied again this way is stopped where any late delivery is, by the
 * instance's ordering guard.
 * Returns the delivery keys to apply again.
 */
export async function refiredRepeats(tx: Tx, seen: Delivery[]): Promise<Set<string>> {
  const alerts = seen
    .filter((d) => d.source !== 'pagerduty')
    .flatMap((d) =>
      d.alerts
        .filter((a) => a.status === 'firing' || a.status === 'resolved')
        .map((a) => ({ key: d.deliveryKey, group_key: groupKeyOf(a), source: a.source, fingerprint: a.fingerprint, status: a.status })),
    );
  if (!alerts.length) return new Set();
  const { rows } = await sql<{ key: string }>`
    ${PREPARED} select distinct t.key from json_to_recordset(${JSON.stringify(alerts)}::json) as t(key text, group_key text, source text, fingerprint text, status text)
    cross join lateral (
      select ai.status, i.status as incident_status from incidents i join alert_instances ai on ai.incident_id = i.id and ai.source = t.source and ai.fingerprint = t.fingerprint
      where i.group_key = t.group_key order by i.id desc limit 1
    ) latest
    where latest.status <> t.status or (t.status = 'firing' and latest.incident_status = 'resolved')`.execute(tx);
  return new Set(rows.map((r) => r.key));
}

/** The inbox key of a re-fired delivery: its own, so its retries find it, and distinct from the first copy's. */
export const refiredKey = (deliveryKey: string, now: Date) => `${deliveryKey}~${now.getTime()}`;
