import { sql } from 'kysely';
import type { Alert, Source } from '../alerts/alert.js';
import type { Db, Tx } from '../db/create-db.js';
import { PREPARED } from '../db/prepared-statements.js';
import type { Incident } from '../db/schema.js';
import { groupKeyOf } from './group-key.js';
import { instanceRow } from './instance-row.js';
import { BODY_SEPARATOR, joinBodies } from './raw-bodies.js';
import { receiveFiring } from './receive-firing.js';
import { mayTakeBackAcknowledgement } from './taken-back-acknowledgement.js';
import { refiredKey, refiredRepeats } from './refired-repeats.js';
import { guardedEventAt } from './refire-window.js';
import { pinRunbooks } from './runbook-pin.js';
import type { Route, Routing } from './routing.js';
import { acknowledge, openedState, reopen, resolve, unacknowledge, type IncidentState, type TimelineEntry } from './transitions.js';
import { createFollowUps, fromState, toState } from './incident-store.js';

/** One authenticated, parsed webhook delivery, waiting to be applied. */
export interface Delivery {
  source: Source;
  deliveryKey: string;
  rawBody: string;
  headers: Record<string, string>;
  receivedAt: Date;
  alerts: Alert[];
}

export interface DeliveryOutcome {
  incidentIds: number[];
  /** True when the delivery had been applied before (a sender's retry): answered again, not applied twice. */
  duplicate: boolean;
}

export interface ReceiveContext {
  routing: Routing;
  now: Date;
  reopenWindowMs: number;
  flappingAfter: number;
}

export interface BatchSummary {
  outcomes: DeliveryOutcome[];
  opened: { id: number; severity: string }[];
  /** Incidents whose escalation became due now (opened or reopened), so the caller can wake the escalation tick. */
  escalationDue: boolean;
  /** Applied by receive_firing in one round trip rather than by the transactional path. */
  singleStatement?: boolean;
}

interface GroupedAlert {
  alert: Alert;
  deliveryIndex: number;
}

interface Group {
  key: string;
  route: Route;
  alerts: GroupedAlert[];
  incident: Incident | null;
}

const isActive = (status: Alert['status']) => status !== 'resolved';

/** One alert instance of an incident (or of a group, before it has one): its source and fingerprint within it. */
const instanceKey = (owner: number | string, alert: Pick<Alert, 'source' | 'fingerprint'>) => `${owner}\u0000${alert.source}\u0000${alert.fingerprint}`;

/**
 * Another transaction got there first: it committed one of this batch's deliveries after this one looked (two replicas
 * got the same retry at the same moment), or it opened an incident this batch was about to open. The transaction is
 * rolled back and run again; the second run sees the other's rows (a repeat is answered as one, the incident is locked
 * with the others, in key order, so replicas never deadlock).
 */
export class BatchConflictError extends Error {
  constructor(reason: string) {
    super(`${reason}; run the batch again`);
    this.name = 'BatchConflictError';
  }
}

/**
 * The receive path of a batch of deliveries, inside one transaction: the inbox is asked first (a repeat is answered,
 * never applied twice), then one incident per MON- id, alert instances by fingerprint with the ordering guard, state
 * transitions and the timeline; the new inbox rows are written last, with the incident ids they were answered with.
 * Four round trips whatever the batch size when every alert fires (begin, inbox lookup with the incident locks, one
 * statement for instances, timeline and inbox, commit), two more otherwise; rows travel as one JSON parameter per statement.
 *
 * Throws BatchConflictError when another transaction committed one of these deliveries or opened one of these incidents
 * meanwhile: run the batch again (receiveBatch does).
 */
export async function applyDeliveries(tx: Tx, deliveries: Delivery[], ctx: ReceiveContext): Promise<BatchSummary> {
  const outcomes: (DeliveryOutcome | undefined)[] = new Array(deliveries.length);
  const keyOf = (d: Delivery) => `${d.source}\u0000${d.deliveryKey}`;

  // Repeats inside the batch share the first copy's outcome.
  const firstIndex = new Map<string, number>();
  const repeatOf = new Map<number, number>();
  deliveries.forEach((d, i) => {
    const seen = firstIndex.get(keyOf(d));
    if (seen === undefined) firstIndex.set(keyOf(d), i);
    else repeatOf.set(i, seen);
  });
  const primaries = [...firstIndex.values()];

  // Runbooks of every incident this batch may open are pinned first, all at once in hash order (see pinRunbooks), and
  // before any incident is locked or stamped: pins, then incidents, always in that order. Pinned after the look-up below,
  // a batch stamping an incident then waiting for another's pin deadlocked with that other batch inserting the incident
  // (two replicas in a storm; each deadlock broken only after deadlock_timeout, until the answer's deadline passed).
  // Runbooks already pinned cost nothing here (ON CONFLICT DO NOTHING on a committed row takes no lock).
  const mayOpen = deliveries.flatMap((d) => d.alerts.filter((a) => isActive(a.status)).map((a) => ctx.routing.route(a.monId).runbook));
  await pinRunbooks(tx, mayOpen.filter((r) => r != null), ctx.now);

  // Every group of the batch is held for the transaction, whether or not it has an incident yet: a group whose incident
  // another batch is opening, reopening or resolving right now has no row this one could lock, and deciding without the
  // other's outcome lost resolutions (a resolution beside an uncommitted opening found no incident and was dropped, with a
  // 202, so the incident stayed open and paged). Taken before the look-up below, so its snapshot sees what the previous
  // holder committed. Advisory locks in hash order, after the pins and before any incident row: the same order in every
  // transaction. receive_firing needs none: it only writes to incidents it finds open and locks, and falls back here otherwise.
  const groupKeys = [...new Set(primaries.flatMap((i) => deliveries[i]!.alerts.map(groupKeyOf)))];
  if (groupKeys.length) {
    await sql`${PREPARED} select count(pg_advisory_xact_lock(h)) from (
      select distinct hashtextextended(k, 0) as h from unnest(${groupKeys}::text[]) as k order by h) s`.execute(tx);
  }

  // One statement: which deliveries the inbox already has, and the open incidents of the batch's groups, locked in key
  // order (so two replicas touching the same incidents never deadlock), those of the deliveries not seen before stamped
  // with this batch's time. The groups of seen deliveries are locked too: one that turns out to be a re-fire (see
  // refiredRepeats) is applied by a second run that must find its incident locked already, not lock it out of order.
  // Inbox and instance look-ups are LATERAL … LIMIT 1 (at most one row by their unique keys) so each key is an index
  // probe: as a join the planner, guessing 100 input rows, hash-joins over a scan of the whole table until it is large,
  // a cost that grew with every alert ever received.
  const lookup = primaries.map((i) => {
    const d = deliveries[i]!;
    return { source: d.source, key: d.deliveryKey, groups: [...new Set(d.alerts.map(groupKeyOf))] };
  });
  const { rows: found } = await sql<{ kind: 'known' | 'incident'; row: Record<string, unknown> }>`
    ${PREPARED} with d as (select * from json_to_recordset(${JSON.stringify(lookup)}::json) as t(source text, key text, groups text[])),
    known as (select d.source, d.key from d cross join lateral (select from alert_events a where a.source = d.source and a.delivery_key = d.key limit 1) hit),
    wanted as (select distinct unnest(d.groups) as group_key from d where not exists (select 1 from known k where k.source = d.source and k.key = d.key)),
    locked as materialized (
      select id, group_key from incidents where group_key in (select unnest(d.groups) from d) and status <> 'resolved' order by group_key for update
    ),
    stamped as (
      update incidents set last_alert_at = ${ctx.now}::timestamptz, updated_at = ${ctx.now}::timestamptz
      from locked where incidents.id = locked.id and locked.group_key in (select group_key from wanted)
      returning incidents.*
    )
    select 'known' as kind, json_build_object('source', source, 'key', key) as row from known
    union all
    select 'incident', to_json(stamped) from stamped`.execute(tx);
  const seenKeys = new Set<string>();
  const open: Incident[] = [];
  for (const { kind, row } of found) {
    if (kind === 'known') seenKeys.add(`${row.source as string}\u0000${row.key as string}`);
    else open.push(incidentFromJson(row));
  }

  const seenBefore = primaries.filter((i) => seenKeys.has(keyOf(deliveries[i]!)));
  if (seenBefore.length) {
    // Same bytes, new notification: applied again from the start under keys of their own. The run above holds its locks
    // and stamps (the same `now`), which the second run takes again; its new keys are unseen, so it does not come back here.
    const refired = await refiredRepeats(tx, seenBefore.map((i) => deliveries[i]!));
    if (refired.size) {
      const summary = await applyDeliveries(tx, deliveries.map((d) => (refired.has(d.deliveryKey) ? { ...d, deliveryKey: refiredKey(d.deliveryKey, ctx.now) } : d)), ctx);
      // A retry comes with the first copy's bytes, so its key: it is answered with what the re-fire was answered with.
      const answers = deliveries.flatMap((d, i) => (refired.has(d.deliveryKey) ? [{ source: d.source, key: d.deliveryKey, ids: summary.outcomes[i]!.incidentIds }] : []));
      await sql`update alert_events a set incident_ids = r.ids from json_to_recordset(${JSON.stringify(answers)}::json) as r(source text, key text, ids jsonb)
        where a.source = r.source and a.delivery_key = r.key`.execute(tx);
      return summary;
    }

    const bySource = new Map<string, string[]>();
    for (const i of seenBefore) {
      const d = deliveries[i]!;
      bySource.set(d.source, [...(bySource.get(d.source) ?? []), d.deliveryKey]);
    }
    for (const [source, keys] of bySource) {
      const rows = await tx
        .updateTable('alert_events')
        .set({ repeat_count: sql`repeat_count + 1`, last_repeat_at: ctx.now })
        .where('source', '=', source)
        .where('delivery_key', 'in', keys)
        .returning(['delivery_key', 'incident_ids'])
        .execute();
      const stored = new Map(rows.map((r) => [r.delivery_key, r.incident_ids]));
      for (const i of seenBefore) {
        const d = deliveries[i]!;
        if (d.source === source) outcomes[i] = { incidentIds: stored.get(d.deliveryKey) ?? [], duplicate: true };
      }
    }
  }

  const fresh = primaries.filter((i) => !seenKeys.has(keyOf(deliveries[i]!)));
  const groups = new Map<string, Group>();
  for (const i of fresh) {
    for (const alert of deliveries[i]!.alerts) {
      const key = groupKeyOf(alert);
      let group = groups.get(key);
      if (!group) {
        group = { key, route: ctx.routing.route(alert.monId), alerts: [], incident: null };
        groups.set(key, group);
      }
      group.alerts.push({ alert, deliveryIndex: i });
    }
  }

  const summary: BatchSummary = { outcomes: [], opened: [], escalationDue: false };
  const timeline: TimelineRow[] = [];
  const push = (incidentId: number, entries: TimelineEntry[]) => {
    for (const e of entries) timeline.push({ incident_id: incidentId, kind: e.kind, actor: e.actor, data: e.data });
  };
  const states = new Map<number, { incident: Incident; state: IncidentState; changed: boolean }>();
  const stamped = new Set<number>();
  let fastItems: InstanceItem[] | null = null;

  if (groups.size) {
    const keys = [...groups.keys()].sort();
    for (const incident of open) {
      groups.get(incident.group_key)!.incident = incident;
      stamped.add(incident.id);
    }

    const early: Group[] = [];
    for (const key of keys) {
      const group = groups.get(key)!;
      if (group.incident) continue;
      const previous = await lastResolved(tx, key);
      const firing = group.alerts.some((a) => isActive(a.alert.status));
      if (firing && !previous) await withEarlyResolutions(tx, group);
      group.incident = firing && !(previous && (await onlyStaleEvents(tx, previous, group, ctx.now))) ? await openOrReopen(tx, group, ctx, summary, push) : previous;
      if (!group.incident) early.push(group);
    }
    if (early.length) await keepEarlyResolutions(tx, early, ctx.now);

    const attached = keys.map((k) => groups.get(k)!).filter((g): g is Group & { incident: Incident } => g.incident !== null);
    for (const g of attached) states.set(g.incident.id, { incident: g.incident, state: toState(g.incident), changed: false });
    const items = latestInstances(attached);
    // The common case, every alert firing: no state can change, so the upsert, its timeline and the inbox rows go in
    // the batch's last statement (below) and computing the timeline needs no round trip of its own.
    if (items.length && items.every((it) => it.alert.status === 'firing' && !(mayTakeBackAcknowledgement(it.alert) && states.get(it.incidentId)!.state.status === 'acknowledged'))) fastItems = items;
    // An instance's firing that this batch also carries, besides the later event the upsert applies (fired and resolved
    // before we heard of it): the timeline shows both, not a resolution of something that never fired.
    const firedAlso = new Map<string, Alert>();
    for (const g of attached) for (const { alert } of g.alerts) if (isActive(alert.status)) firedAlso.set(instanceKey(g.incident.id, alert), alert);
    const changedInstances = fastItems ? [] : await upsertInstances(tx, items, ctx.now, push, firedAlso);

    // Incidents where an instance resolved, was acknowledged or went from acknowledged back to firing in this batch:
    // count what is still active, and still acknowledged.
    const takenBack = changedInstances.filter((c) => c.previous === 'acknowledged' && c.status === 'firing');
    const needCount = [...new Set([...changedInstances.filter((c) => c.status !== 'firing'), ...takenBack].map((c) => c.incidentId))];
    const active = new Map<number, number>();
    const acknowledged = new Map<number, number>();
    if (needCount.length) {
      const rows = await tx
        .selectFrom('alert_instances')
        .select([
          'incident_id',
          sql<number>`count(*) filter (where status <> 'resolved')`.as('active'),
          sql<number>`count(*) filter (where status = 'acknowledged')`.as('acknowledged'),
        ])
        .where('incident_id', 'in', needCount)
        .groupBy('incident_id')
        .execute();
      for (const r of rows) active.set(r.incident_id, Number(r.active)), acknowledged.set(r.incident_id, Number(r.acknowledged));
    }

    for (const change of changedInstances) {
      const entry = states.get(change.incidentId)!;
      if (change.status === 'acknowledged') {
        const t = acknowledge(entry.state, change.actor ?? change.source, ctx.now, change.source);
        if (t.changed) Object.assign(entry, { state: t.state, changed: true }), push(change.incidentId, t.events);
      }
    }
    for (const change of takenBack) {
      const entry = states.get(change.incidentId)!;
      if (entry.state.status !== 'acknowledged' || acknowledged.get(change.incidentId) !== 0) continue;
      // A responder's acknowledgement here stands: only one an alert source made is that source's to take back.
      if (!(await acknowledgedBySource(tx, change.incidentId))) continue;
      const policy = ctx.routing.policy(entry.incident.severity);
      const t = unacknowledge(entry.state, change.actor ?? change.source, ctx.now, policy, entry.incident.escalation_chain.length, change.source);
      Object.assign(entry, { state: t.state, changed: true });
      push(change.incidentId, t.events);
      summary.escalationDue ||= t.state.nextEscalationAt !== null;
    }
    for (const [incidentId, count] of active) {
      const entry = states.get(incidentId)!;
      if (count === 0 && entry.state.status !== 'resolved') {
        const source = changedInstances.find((c) => c.incidentId === incidentId)?.source ?? 'alerts';
        const t = resolve(entry.state, source, ctx.now, 'all alerts resolved');
        Object.assign(entry, { state: t.state, changed: true });
        push(incidentId, t.events);
        await createFollowUps(tx, entry.incident, ctx.now);
      }
    }

    // State changes are rare and each has its own patch; every other incident only records that alerts arrived (below, in bulk).
    for (const { incident, state, changed } of states.values()) {
      if (!changed) continue;
      await tx
        .updateTable('incidents')
        .set({ ...fromState(state), last_alert_at: ctx.now, updated_at: ctx.now })
        .where('id', '=', incident.id)
        .execute();
    }
  }

  for (const i of fresh) {
    const ids = new Set<number>();
    for (const alert of deliveries[i]!.alerts) {
      const incident = groups.get(groupKeyOf(alert))?.incident;
      if (incident) ids.add(incident.id);
    }
    outcomes[i] = { incidentIds: [...ids].sort((a, b) => a - b), duplicate: false };
  }

  if (fresh.length) {
    // The batch's last writes in one statement: the timeline, the incidents that only received alerts, and the new inbox
    // rows with the incident ids they are answered with.
    const writes = [];
    if (fastItems) {
      writes.push(instanceCtes(fastItems, ctx.now), timelineCte(timeline, ctx.now));
    } else if (timeline.length) {
      writes.push(sql`timeline as (
        insert into incident_events (incident_id, at, kind, actor, data)
        select incident_id, ${ctx.now}::timestamptz, kind, actor, data
        from rows from (json_to_recordset(${JSON.stringify(timeline)}::json) as (incident_id bigint, kind text, actor text, data jsonb)) with ordinality as t(incident_id, kind, actor, data, ord)
        order by ord)`);
    }
    // Always present (often empty), so the statement's text stays the same and it stays prepared.
    const touched = [...states.values()].filter((s) => !s.changed && !stamped.has(s.incident.id)).map((s) => s.incident.id);
    writes.push(sql`touched as (update incidents set last_alert_at = ${ctx.now}::timestamptz, updated_at = ${ctx.now}::timestamptz where id = any(${touched}::bigint[]))`);
    // Raw bodies as one parameter (see raw-bodies.ts).
    const inbox = JSON.stringify(
      fresh.map((i) => {
        const d = deliveries[i]!;
        return { source: d.source, delivery_key: d.deliveryKey, received_at: d.receivedAt.toISOString(), headers: d.headers, alert_count: d.alerts.length, incident_ids: outcomes[i]!.incidentIds };
      }),
    );
    const bodies = joinBodies(fresh.map((i) => deliveries[i]!.rawBody));
    await sql`
      ${PREPARED} with ${sql.join(writes)}
      insert into alert_events (source, delivery_key, received_at, raw_body, headers, alert_count, incident_ids)
      select t.source, t.delivery_key, t.received_at, b.raw_body, t.headers, t.alert_count, t.incident_ids
      from rows from (json_to_recordset(${inbox}::json) as (source text, delivery_key text, received_at timestamptz, headers jsonb, alert_count integer, incident_ids jsonb))
           with ordinality as t(source, delivery_key, received_at, headers, alert_count, incident_ids, ord)
      join string_to_table(${bodies}::text, ${BODY_SEPARATOR}) with ordinality as b(raw_body, ord) on b.ord = t.ord
      order by t.ord`
      .execute(tx)
      .catch((error: unknown) => {
        // No ON CONFLICT: the lookup above found none of them, so a duplicate key means another transaction committed one meanwhile.
        if (isInboxDuplicate(error)) throw new BatchConflictError('a delivery of the batch was committed by another transaction');
        throw error;
      });
  }

  for (const [i, first] of repeatOf) outcomes[i] = { incidentIds: outcomes[first]!.incidentIds, duplicate: true };
  summary.outcomes = outcomes.map((o) => o!);
  return summary;
}

/** unique_violation on the inbox's (source, delivery_key). */
function isInboxDuplicate(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown; table?: unknown; message?: unknown };
  return e.code === '23505' && (e.constraint === 'alert_events_source_delivery_key_key' || e.table === 'alert_events' || /alert_events/.test(String(e.message)));
}

const MAX_ATTEMPTS = 5;

/** One batch in its own transaction, run again when another transaction got there first (BatchConflictError, or a deadlock PostgreSQL broke). */
export async function receiveBatch(db: Db, deliveries: Delivery[], context: () => ReceiveContext): Promise<BatchSummary> {
  // The common case in one round trip; anything else (openings, resolutions, repeats, a race) in a transaction.
  const firing = await receiveFiring(db, deliveries, context().now);
  if (firing) return { outcomes: firing, opened: [], escalationDue: false, singleStatement: true };
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute((tx) => applyDeliveries(tx, deliveries, context()));
    } catch (error) {
      const again = error instanceof BatchConflictError || (error as { code?: unknown }).code === '40P01';
      if (!again || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/** A late copy of an old firing event (older than what the resolved incident already applied) must not reopen it; a re-fire (refire-window.ts) does. */
async function onlyStaleEvents(tx: Tx, previous: Incident, group: Group, now: Date): Promise<boolean> {
  const active = group.alerts.filter((a) => isActive(a.alert.status)).map((a) => a.alert);
  const known = await tx
    .selectFrom('alert_instances')
    .select(['source', 'fingerprint', 'status', 'starts_at', 'last_event_at', 'last_seen_at'])
    .where('incident_id', '=', previous.id)
    .where('fingerprint', 'in', [...new Set(active.map((a) => a.fingerprint))])
    .execute();
  const instances = new Map(known.map((k) => [`${k.source}\u0000${k.fingerprint}`, k]));
  return active.every((a) => {
    const instance = instances.get(`${a.source}\u0000${a.fingerprint}`);
    return instance !== undefined && instance.last_event_at > guardedEventAt(a, instance, now);
  });
}

const EARLY_RESOLUTION_KEPT_MS = 7 * 86_400_000;

/**
 * Resolutions of a group that has no incident at all (all of its alerts resolved): kept, so that the firing they resolve,
 * arriving after them, is applied with them instead of opening an incident nothing would ever resolve. A week is far
 * past any sender's retries; older ones are dropped as new ones come.
 */
async function keepEarlyResolutions(tx: Tx, groups: Group[], now: Date): Promise<void> {
  const latest = new Map<string, { group_key: string; source: string; fingerprint: string; resolved_event_at: string }>();
  for (const g of groups) {
    for (const { alert } of g.alerts) {
      const k = instanceKey(g.key, alert);
      const prev = latest.get(k);
      if (!prev || prev.resolved_event_at <= alert.eventAt) latest.set(k, { group_key: g.key, source: alert.source, fingerprint: alert.fingerprint, resolved_event_at: alert.eventAt });
    }
  }
  await sql`
    with expired as (delete from early_resolutions where received_at < ${new Date(now.getTime() - EARLY_RESOLUTION_KEPT_MS)}::timestamptz)
    insert into early_resolutions (group_key, source, fingerprint, resolved_event_at, received_at)
    select group_key, source, fingerprint, resolved_event_at, ${now}::timestamptz
    from json_to_recordset(${JSON.stringify([...latest.values()])}::json) as r(group_key text, source text, fingerprint text, resolved_event_at timestamptz)
    on conflict (group_key, source, fingerprint) do update set
      resolved_event_at = greatest(early_resolutions.resolved_event_at, excluded.resolved_event_at), received_at = excluded.received_at`.execute(tx);
}

/**
 * A group about to open its first incident: the resolutions that came before its firing join the batch as the events
 * they were (taken out of early_resolutions), so the ordering guard sees them. A firing older than its resolution then
 * opens an incident that resolves in the same transaction — the record of an alert that fired and resolved, paging
 * nobody — and a newer one (the alert fired again) stays firing.
 */
async function withEarlyResolutions(tx: Tx, group: Group): Promise<void> {
  // Only the instances this batch fires: a kept resolution of another instance waits for its own firing.
  const active = group.alerts.filter((a) => isActive(a.alert.status));
  const rows = await tx
    .deleteFrom('early_resolutions')
    .where('group_key', '=', group.key)
    .where('source', 'in', [...new Set(active.map((a) => a.alert.source))])
    .where('fingerprint', 'in', [...new Set(active.map((a) => a.alert.fingerprint))])
    .returning(['source', 'fingerprint', 'resolved_event_at'])
    .execute();
  for (const row of rows) {
    const firing = group.alerts.find((a) => a.alert.source === row.source && a.alert.fingerprint === row.fingerprint && isActive(a.alert.status));
    if (!firing) continue;
    group.alerts.push({ alert: { ...firing.alert, status: 'resolved', eventAt: row.resolved_event_at.toISOString(), actor: null }, deliveryIndex: firing.deliveryIndex });
  }
}

/** Whether the incident's latest acknowledgement came from an alert source (its timeline entry names the source). */
async function acknowledgedBySource(tx: Tx, incidentId: number): Promise<boolean> {
  const row = await tx.selectFrom('incident_events').select('data').where('incident_id', '=', incidentId).where('kind', '=', 'acknowledged').orderBy('id', 'desc').limit(1).executeTakeFirst();
  return typeof (row?.data as { source?: unknown } | undefined)?.source === 'string';
}

async function lastResolved(tx: Tx, key: string): Promise<Incident | null> {
  const row = await tx.selectFrom('incidents').selectAll().where('group_key', '=', key).where('status', '=', 'resolved').orderBy('resolved_at', 'desc').limit(1).executeTakeFirst();
  return row ?? null;
}

/** Finds or creates the one open incident of a group; safe against another replica doing the same at the same moment. */
async function openOrReopen(
  tx: Tx,
  group: Group,
  ctx: ReceiveContext,
  summary: BatchSummary,
  push: (id: number, e: TimelineEntry[]) => void,
): Promise<Incident> {
  const route = group.route;
  const policy = ctx.routing.policy(route.severity);
  const first = group.alerts.find((a) => isActive(a.alert.status))!.alert;
  const recent = await lastResolved(tx, group.key);
  if (recent && recent.status === 'resolved' && recent.resolved_at && ctx.now.getTime() - recent.resolved_at.getTime() <= ctx.reopenWindowMs) {
    // A reopening is paged as the matrix has it now: a contact removed or a severity changed by a reload since the
    // first opening must not leave the new episode paging someone who is no longer there, or nobody.
    const t = reopen(toState(recent), ctx.now, policy, route.escalation.length, ctx.flappingAfter);
    const row = await tx
      .updateTable('incidents')
      .set({ ...fromState(t.state), severity: route.severity, escalation_chain: JSON.stringify(route.escalation), updated_at: ctx.now })
      .where('id', '=', recent.id)
      .where('status', '=', 'resolved')
      .returningAll()
      .executeTakeFirst();
    if (row) {
      push(row.id, t.events);
      summary.opened.push({ id: row.id, severity: row.severity });
      summary.escalationDue ||= row.next_escalation_at !== null;
      return row;
    }
  } else {
    // Pinned by applyDeliveries before any incident of the batch opened.
    const pinnedHash = route.runbook?.hash ?? null;
    const state = openedState(ctx.now, policy, route.escalation.length);
    const row = await tx
      .insertInto('incidents')
      .values({
        group_key: group.key,
        mon_id: route.monId,
        runbook_id: route.runbook?.id ?? null,
        runbook_hash: pinnedHash,
        title: route.title ?? first.title,
        severity: route.severity,
        source: first.source,
        escalation_chain: JSON.stringify(route.escalation),
        opened_at: ctx.now,
        last_alert_at: ctx.now,
        updated_at: ctx.now,
        ...fromState(state),
      })
      .onConflict((oc) => oc.column('group_key').where('status', '<>', 'resolved').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (row) {
      push(row.id, [
        {
          kind: 'opened',
          actor: null,
          data: { source: first.source, monId: route.monId, runbookId: route.runbook?.id ?? null, severity: route.severity, noRunbook: !route.runbook, knownMonId: route.known },
        },
      ]);
      summary.opened.push({ id: row.id, severity: row.severity });
      summary.escalationDue ||= row.next_escalation_at !== null;
      return row;
    }
  }
  // Another transaction opened or reopened it first. Locking its row now could deadlock (this transaction already holds
  // incidents locked out of key order), so the batch starts again and locks it with the others.
  throw new BatchConflictError(`another transaction opened the incident for ${group.key} first`);
}

interface InstanceChange {
  incidentId: number;
  source: string;
  status: Alert['status'];
  /** The instance's status before, null for a new one. */
  previous: Alert['status'] | null;
  actor: string | null;
}

interface InstanceItem {
  incidentId: number;
  alert: Alert;
}

/** The latest event of each instance (incident, source, fingerprint) in the batch: one upsert row each. */
function latestInstances(groups: (Group & { incident: Incident })[]): InstanceItem[] {
  const latest = new Map<string, InstanceItem>();
  for (const g of groups) {
    for (const { alert } of g.alerts) {
      const k = instanceKey(g.incident.id, alert);
      const prev = latest.get(k);
      if (!prev || prev.alert.eventAt <= alert.eventAt) latest.set(k, { incidentId: g.incident.id, alert });
    }
  }
  return [...latest.values()];
}

/**
 * The `input` CTE (one row per instance, numbered by `ord`), `prior` (the instances as they were: every CTE reads the
 * snapshot from before the statement) and `upsert` with the ordering guard: an event older than the last one applied
 * never overrides it.
 */
function instanceCtes(items: InstanceItem[], now: Date) {
  const rows = JSON.stringify(
    items.map(({ incidentId, alert }) => ({ incident_id: incidentId, ...instanceRow(alert, now) })),
  );
  // input: each row's event time as the guard compares it, a re-fire's raised to its resolution's (refire-window.ts).
  return sql`
    raw as (
      select * from rows from (json_to_recordset(${rows}::json) as (incident_id bigint, source text, fingerprint text, mon_id text, status text, title text,
                                                                  labels jsonb, vals jsonb, url text, starts_at timestamptz, last_event_at timestamptz, actor text,
                                                                  refire_before timestamptz))
                    with ordinality as t(incident_id, source, fingerprint, mon_id, status, title, labels, vals, url, starts_at, last_event_at, actor, refire_before, ord)
    ),
    prior as (
      select r.ord, a.status, a.starts_at, a.last_event_at, a.last_seen_at
      from raw r cross join lateral (
        select status, starts_at, last_event_at, last_seen_at from alert_instances a where a.incident_id = r.incident_id and a.source = r.source and a.fingerprint = r.fingerprint limit 1
      ) a
    ),
    input as (
      select r.incident_id, r.source, r.fingerprint, r.mon_id, r.status, r.title, r.labels, r.vals, r.url, r.starts_at,
        case when r.refire_before is null or r.last_event_at >= p.last_event_at then r.last_event_at
             when p.status = 'resolved' and p.last_seen_at < r.refire_before then p.last_event_at + interval '1 millisecond'
             when p.status <> 'resolved' and r.starts_at = p.starts_at then p.last_event_at
             else r.last_event_at end as last_event_at,
        r.actor, r.ord
      from raw r left join prior p on p.ord = r.ord
    ),
    upsert as (
      insert into alert_instances (incident_id, source, fingerprint, mon_id, status, title, labels, values, url, starts_at, last_event_at, first_seen_at, last_seen_at)
      select incident_id, source, fingerprint, mon_id, status, title, labels, vals, url, starts_at, last_event_at, ${now}::timestamptz, ${now}::timestamptz
      from input order by ord
      on conflict (incident_id, source, fingerprint) do update set
        status = excluded.status, title = excluded.title, labels = excluded.labels, values = excluded.values, url = excluded.url,
        starts_at = excluded.starts_at, last_event_at = excluded.last_event_at, last_seen_at = excluded.last_seen_at
      where alert_instances.last_event_at <= excluded.last_event_at
    )`;
}

/** Upserts the instances and appends the timeline entry of each one that is new or changed status. */
async function upsertInstances(tx: Tx, items: InstanceItem[], now: Date, push: (id: number, e: TimelineEntry[]) => void, firedAlso: ReadonlyMap<string, Alert>): Promise<InstanceChange[]> {
  if (!items.length) return [];
  const { rows: priors } = await sql<{ ord: number | string; status: Alert['status']; last_event_at: Date; event_at: Date }>`
    with ${instanceCtes(items, now)}
    select p.ord, p.status, p.last_event_at, i.last_event_at as event_at from prior p join input i on i.ord = p.ord`.execute(tx);
  const before = new Map(priors.map((p) => [Number(p.ord), p]));

  const changes: InstanceChange[] = [];
  items.forEach(({ incidentId, alert }, index) => {
    const prior = before.get(index + 1);
    // An event older than the one applied is not applied (the upsert's guard) and changes nothing.
    if (prior && prior.last_event_at > prior.event_at) return;
    if (!prior || prior.status !== alert.status) {
      changes.push({ incidentId, source: alert.source, status: alert.status, previous: prior?.status ?? null, actor: alert.actor ?? null });
      const entry = (a: Alert): TimelineEntry => ({ kind: `alert_${a.status}`, actor: a.actor ?? null, data: { source: a.source, fingerprint: a.fingerprint, title: a.title, url: a.url } });
      const fired = !prior && !isActive(alert.status) ? firedAlso.get(instanceKey(incidentId, alert)) : undefined;
      push(incidentId, fired ? [entry(fired), entry(alert)] : [entry(alert)]);
    }
  });
  return changes;
}

/**
 * The timeline entry of each instance that is new or changed status, as upsertInstances appends it, computed in SQL
 * from `prior` so the upsert and its timeline go in one statement; `earlier` (opened, reopened) come first.
 */
function timelineCte(earlier: TimelineRow[], now: Date) {
  return sql`
    timeline as (
      insert into incident_events (incident_id, at, kind, actor, data)
      select incident_id, ${now}::timestamptz, kind, actor, data from (
        select 0 as part, ord, incident_id, kind, actor, data
        from rows from (json_to_recordset(${JSON.stringify(earlier)}::json) as (incident_id bigint, kind text, actor text, data jsonb)) with ordinality as e(incident_id, kind, actor, data, ord)
        union all
        select 1, i.ord, i.incident_id, 'alert_' || i.status, i.actor, jsonb_build_object('source', i.source, 'fingerprint', i.fingerprint, 'title', i.title, 'url', i.url)
        from input i left join prior p on p.ord = i.ord
        where p.ord is null or (p.status <> i.status and p.last_event_at <= i.last_event_at)
      ) entries
      order by part, ord
    )`;
}

interface TimelineRow {
  incident_id: number;
  kind: string;
  actor: string | null;
  data: Record<string, unknown>;
}

/** An incidents row as to_json gives it: timestamps back to Dates. */
function incidentFromJson(row: Record<string, unknown>): Incident {
  const at = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
  return {
    ...(row as unknown as Incident),
    next_escalation_at: at(row.next_escalation_at),
    opened_at: at(row.opened_at)!,
    acknowledged_at: at(row.acknowledged_at),
    resolved_at: at(row.resolved_at),
    last_reopened_at: at(row.last_reopened_at),
    last_alert_at: at(row.last_alert_at)!,
    updated_at: at(row.updated_at)!,
  };
}
