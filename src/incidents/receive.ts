import { sql } from 'kysely';
import type { Alert, Source } from '../alerts/alert.js';
import type { Tx } from '../db/create-db.js';
import type { Incident } from '../db/schema.js';
import { pinRunbook } from './runbook-pin.js';
import type { Route, Routing } from './routing.js';
import { acknowledge, openedState, reopen, resolve, type IncidentState, type TimelineEntry } from './transitions.js';
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

/** Alerts with a MON- id meet in one incident whatever the source; alerts without one are grouped by source and fingerprint. */
export function groupKeyOf(alert: Alert): string {
  return alert.monId ? `mon:${alert.monId}` : `nomon:${alert.source}:${alert.fingerprint}`;
}

const isActive = (status: Alert['status']) => status !== 'resolved';

/**
 * The receive path of a batch of deliveries, inside one transaction: inbox first (a repeat is answered, never applied twice),
 * then one incident per MON- id, alert instances by fingerprint with the ordering guard, state transitions and the timeline.
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

  const inserted = await tx
    .insertInto('alert_events')
    .values(
      primaries.map((i) => {
        const d = deliveries[i]!;
        return {
          source: d.source,
          delivery_key: d.deliveryKey,
          received_at: d.receivedAt,
          raw_body: d.rawBody,
          headers: JSON.stringify(d.headers),
          alert_count: d.alerts.length,
          incident_ids: '[]',
        };
      }),
    )
    .onConflict((oc) => oc.columns(['source', 'delivery_key']).doNothing())
    .returning(['id', 'source', 'delivery_key'])
    .execute();
  const inboxId = new Map(inserted.map((r) => [`${r.source}\u0000${r.delivery_key}`, r.id]));

  const seenBefore = primaries.filter((i) => !inboxId.has(keyOf(deliveries[i]!)));
  if (seenBefore.length) {
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

  const fresh = primaries.filter((i) => inboxId.has(keyOf(deliveries[i]!)));
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
  const timeline: { incident_id: number; at: Date; kind: string; actor: string | null; data: string }[] = [];
  const push = (incidentId: number, entries: TimelineEntry[]) => {
    for (const e of entries) timeline.push({ incident_id: incidentId, at: ctx.now, kind: e.kind, actor: e.actor, data: JSON.stringify(e.data) });
  };
  const states = new Map<number, { incident: Incident; state: IncidentState; changed: boolean }>();

  if (groups.size) {
    const keys = [...groups.keys()].sort();
    // Locked in key order so two replicas touching the same incidents never deadlock.
    const open = await tx.selectFrom('incidents').selectAll().where('group_key', 'in', keys).where('status', '<>', 'resolved').orderBy('group_key').forUpdate().execute();
    for (const incident of open) groups.get(incident.group_key)!.incident = incident;

    for (const key of keys) {
      const group = groups.get(key)!;
      if (group.incident) continue;
      const previous = await lastResolved(tx, key);
      const firing = group.alerts.some((a) => isActive(a.alert.status));
      group.incident = firing && !(previous && (await onlyStaleEvents(tx, previous, group))) ? await openOrReopen(tx, group, ctx, summary, push) : previous;
    }

    const attached = keys.map((k) => groups.get(k)!).filter((g): g is Group & { incident: Incident } => g.incident !== null);
    for (const g of attached) states.set(g.incident.id, { incident: g.incident, state: toState(g.incident), changed: false });
    const changedInstances = await upsertInstances(tx, attached, ctx.now, push);

    // Incidents where an instance resolved or was acknowledged in this batch: count what is still active.
    const needCount = [...new Set(changedInstances.filter((c) => c.status !== 'firing').map((c) => c.incidentId))];
    const active = new Map<number, number>();
    if (needCount.length) {
      const rows = await tx
        .selectFrom('alert_instances')
        .select(['incident_id', sql<number>`count(*) filter (where status <> 'resolved')`.as('active')])
        .where('incident_id', 'in', needCount)
        .groupBy('incident_id')
        .execute();
      for (const r of rows) active.set(r.incident_id, Number(r.active));
    }

    for (const change of changedInstances) {
      const entry = states.get(change.incidentId)!;
      if (change.status === 'acknowledged') {
        const t = acknowledge(entry.state, change.actor ?? change.source, ctx.now);
        if (t.changed) Object.assign(entry, { state: t.state, changed: true }), push(change.incidentId, t.events);
      }
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

    for (const { incident, state, changed } of states.values()) {
      const patch = changed ? fromState(state) : {};
      await tx
        .updateTable('incidents')
        .set({ ...patch, last_alert_at: ctx.now, updated_at: ctx.now })
        .where('id', '=', incident.id)
        .execute();
    }
  }

  if (timeline.length) await tx.insertInto('incident_events').values(timeline).execute();

  for (const i of fresh) {
    const ids = new Set<number>();
    for (const alert of deliveries[i]!.alerts) {
      const incident = groups.get(groupKeyOf(alert))?.incident;
      if (incident) ids.add(incident.id);
    }
    outcomes[i] = { incidentIds: [...ids].sort((a, b) => a - b), duplicate: false };
  }
  const withIds = fresh.filter((i) => outcomes[i]!.incidentIds.length);
  if (withIds.length) {
    const values = sql.join(withIds.map((i) => sql`(${inboxId.get(keyOf(deliveries[i]!))!}::bigint, ${JSON.stringify(outcomes[i]!.incidentIds)}::jsonb)`));
    await sql`update alert_events set incident_ids = v.ids from (values ${values}) as v(id, ids) where alert_events.id = v.id`.execute(tx);
  }

  for (const [i, first] of repeatOf) outcomes[i] = { incidentIds: outcomes[first]!.incidentIds, duplicate: true };
  summary.outcomes = outcomes.map((o) => o!);
  return summary;
}

/** A late copy of an old firing event (older than what the resolved incident already applied) must not reopen it. */
async function onlyStaleEvents(tx: Tx, previous: Incident, group: Group): Promise<boolean> {
  const active = group.alerts.filter((a) => isActive(a.alert.status)).map((a) => a.alert);
  const known = await tx
    .selectFrom('alert_instances')
    .select(['source', 'fingerprint', 'last_event_at'])
    .where('incident_id', '=', previous.id)
    .where('fingerprint', 'in', [...new Set(active.map((a) => a.fingerprint))])
    .execute();
  const lastApplied = new Map(known.map((k) => [`${k.source}\u0000${k.fingerprint}`, k.last_event_at.getTime()]));
  return active.every((a) => {
    const applied = lastApplied.get(`${a.source}\u0000${a.fingerprint}`);
    return applied !== undefined && applied > new Date(a.eventAt).getTime();
  });
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
  for (let attempt = 0; attempt < 3; attempt++) {
    const recent = await lastResolved(tx, group.key);
    if (recent && recent.status === 'resolved' && recent.resolved_at && ctx.now.getTime() - recent.resolved_at.getTime() <= ctx.reopenWindowMs) {
      const t = reopen(toState(recent), ctx.now, policy, recent.escalation_chain.length, ctx.flappingAfter);
      const row = await tx
        .updateTable('incidents')
        .set({ ...fromState(t.state), updated_at: ctx.now })
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
      const pinnedHash = route.runbook ? await pinRunbook(tx, route.runbook, ctx.now) : null;
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
    // Another transaction opened or reopened it first; with read committed the next statement sees its row.
    const open = await tx.selectFrom('incidents').selectAll().where('group_key', '=', group.key).where('status', '<>', 'resolved').forUpdate().executeTakeFirst();
    if (open) return open;
  }
  throw new Error(`could not open or find the incident for ${group.key}`);
}

interface InstanceChange {
  incidentId: number;
  source: string;
  status: Alert['status'];
  actor: string | null;
}

/** Upserts the latest event of each instance; an event older than the last one applied never overrides it. */
async function upsertInstances(tx: Tx, groups: (Group & { incident: Incident })[], now: Date, push: (id: number, e: TimelineEntry[]) => void): Promise<InstanceChange[]> {
  const latest = new Map<string, { incidentId: number; alert: Alert }>();
  for (const g of groups) {
    for (const { alert } of g.alerts) {
      const k = `${g.incident.id}\u0000${alert.source}\u0000${alert.fingerprint}`;
      const prev = latest.get(k);
      if (!prev || prev.alert.eventAt <= alert.eventAt) latest.set(k, { incidentId: g.incident.id, alert });
    }
  }
  if (!latest.size) return [];
  const items = [...latest.values()];
  const existing = await tx
    .selectFrom('alert_instances')
    .select(['incident_id', 'source', 'fingerprint', 'status', 'last_event_at'])
    .where(sql<boolean>`(incident_id, source, fingerprint) in (${sql.join(items.map((it) => sql`(${it.incidentId}::bigint, ${it.alert.source}, ${it.alert.fingerprint})`))})`)
    .execute();
  const before = new Map(existing.map((r) => [`${r.incident_id}\u0000${r.source}\u0000${r.fingerprint}`, r]));

  const changes: InstanceChange[] = [];
  const rows = [];
  for (const { incidentId, alert } of items) {
    const prior = before.get(`${incidentId}\u0000${alert.source}\u0000${alert.fingerprint}`);
    const eventAt = new Date(alert.eventAt);
    if (prior && prior.last_event_at > eventAt) continue;
    if (!prior || prior.status !== alert.status) {
      changes.push({ incidentId, source: alert.source, status: alert.status, actor: alert.actor ?? null });
      push(incidentId, [
        { kind: `alert_${alert.status}`, actor: alert.actor ?? null, data: { source: alert.source, fingerprint: alert.fingerprint, title: alert.title, url: alert.url } },
      ]);
    }
    rows.push({
      incident_id: incidentId,
      source: alert.source,
      fingerprint: alert.fingerprint,
      mon_id: alert.monId,
      status: alert.status,
      title: alert.title,
      labels: JSON.stringify(alert.labels),
      values: JSON.stringify(alert.values),
      url: alert.url,
      starts_at: new Date(alert.startsAt),
      last_event_at: eventAt,
      first_seen_at: now,
      last_seen_at: now,
    });
  }
  if (rows.length) {
    await tx
      .insertInto('alert_instances')
      .values(rows)
      .onConflict((oc) =>
        oc
          .columns(['incident_id', 'source', 'fingerprint'])
          .doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            title: eb.ref('excluded.title'),
            labels: eb.ref('excluded.labels'),
            values: eb.ref('excluded.values'),
            url: eb.ref('excluded.url'),
            starts_at: eb.ref('excluded.starts_at'),
            last_event_at: eb.ref('excluded.last_event_at'),
            last_seen_at: eb.ref('excluded.last_seen_at'),
          }))
          .where('alert_instances.last_event_at', '<=', (eb) => eb.ref('excluded.last_event_at')),
      )
      .execute();
  }
  return changes;
}
