import { sql, type Kysely } from 'kysely';
import { up as firstVersion } from './0002_receive_firing_function.js';

// Frozen in time: never edit after it has landed; add a new migration (create or replace) instead.
//
// receive_firing (0002) with the re-fire window of src/incidents/refire-window.ts (guardedEventAt says the same in
// TypeScript): an instance row may carry `refire_before` (an alert dated by its start), and then the guard compares
// - a firing for an instance whose resolution was applied before that time, no newer than the resolution by its own
//   date (Alertmanager's startsAt does not change when an expired alert comes back), just past the resolution's time,
//   so it is applied and a late copy of that resolution cannot resolve it again;
// - another notification of the episode an instance still fires in (the same startsAt) at the instance's own time, so
//   a re-fire having moved that time past its startsAt does not make the episode's repeats stale.
// A row without `refire_before` (a caller from before this version) is guarded as before. The rest is 0002's function
// unchanged.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function receive_firing(p_deliveries json, p_instances json, p_bodies text, p_now timestamptz) returns json
    language plpgsql volatile as $fn$
    declare
      v_wanted text[];
      v_keys text[];
      v_ids bigint[];
      v_answer json;
    begin
      if exists (
        select from json_to_recordset(p_deliveries) as d(source text, key text)
        cross join lateral (select from alert_events a where a.source = d.source and a.delivery_key = d.key limit 1) hit
      ) then
        return null;
      end if;

      select array_agg(distinct g) into v_wanted from json_to_recordset(p_deliveries) as d(groups text[]), unnest(d.groups) as g;
      select array_agg(l.group_key order by l.group_key), array_agg(l.id order by l.group_key) into v_keys, v_ids
      from (select id, group_key from incidents where group_key = any(v_wanted) and status <> 'resolved' order by group_key for update) l;
      if coalesce(cardinality(v_ids), 0) <> coalesce(cardinality(v_wanted), 0) then
        return null;
      end if;

      update incidents set last_alert_at = p_now, updated_at = p_now where id = any(v_ids);

      with k as (select * from unnest(v_keys, v_ids) as k(group_key, incident_id)),
      raw as (
        select k.incident_id, t.*
        from rows from (json_to_recordset(p_instances) as (group_key text, source text, fingerprint text, mon_id text, status text, title text,
                                                           labels jsonb, vals jsonb, url text, starts_at timestamptz, last_event_at timestamptz, actor text,
                                                           refire_before timestamptz))
             with ordinality as t(group_key, source, fingerprint, mon_id, status, title, labels, vals, url, starts_at, last_event_at, actor, refire_before, ord)
        join k on k.group_key = t.group_key
      ),
      prior as (
        select r.ord, a.status, a.starts_at, a.last_event_at, a.last_seen_at
        from raw r cross join lateral (
          select status, starts_at, last_event_at, last_seen_at from alert_instances a where a.incident_id = r.incident_id and a.source = r.source and a.fingerprint = r.fingerprint limit 1
        ) a
      ),
      input as (
        select r.incident_id, r.group_key, r.source, r.fingerprint, r.mon_id, r.status, r.title, r.labels, r.vals, r.url, r.starts_at,
          case when r.refire_before is null or r.last_event_at >= p.last_event_at then r.last_event_at
               when p.status = 'resolved' and p.last_seen_at < r.refire_before then p.last_event_at + interval '1 millisecond'
               when p.status <> 'resolved' and r.starts_at = p.starts_at then p.last_event_at
               else r.last_event_at end as last_event_at,
          r.actor, r.ord
        from raw r left join prior p on p.ord = r.ord
      ),
      upsert as (
        insert into alert_instances (incident_id, source, fingerprint, mon_id, status, title, labels, values, url, starts_at, last_event_at, first_seen_at, last_seen_at)
        select incident_id, source, fingerprint, mon_id, status, title, labels, vals, url, starts_at, last_event_at, p_now, p_now
        from input order by ord
        on conflict (incident_id, source, fingerprint) do update set
          status = excluded.status, title = excluded.title, labels = excluded.labels, values = excluded.values, url = excluded.url,
          starts_at = excluded.starts_at, last_event_at = excluded.last_event_at, last_seen_at = excluded.last_seen_at
        where alert_instances.last_event_at <= excluded.last_event_at
      ),
      timeline as (
        insert into incident_events (incident_id, at, kind, actor, data)
        select i.incident_id, p_now, 'alert_' || i.status, i.actor, jsonb_build_object('source', i.source, 'fingerprint', i.fingerprint, 'title', i.title, 'url', i.url)
        from input i left join prior p on p.ord = i.ord
        where p.ord is null or (p.status <> i.status and p.last_event_at <= i.last_event_at)
        order by i.ord
      ),
      d as (
        select t.*, (
          select coalesce(jsonb_agg(x.incident_id order by x.incident_id), '[]'::jsonb)
          from (select distinct k.incident_id from unnest(t.groups) as g join k on k.group_key = g) x
        ) as incident_ids
        from rows from (json_to_recordset(p_deliveries) as (source text, key text, groups text[], received_at timestamptz, headers jsonb, alert_count integer))
             with ordinality as t(source, key, groups, received_at, headers, alert_count, ord)
      ),
      inbox as (
        insert into alert_events (source, delivery_key, received_at, raw_body, headers, alert_count, incident_ids)
        select d.source, d.key, d.received_at, b.raw_body, d.headers, d.alert_count, d.incident_ids
        from d join string_to_table(p_bodies, E'\\x1e') with ordinality as b(raw_body, ord) on b.ord = d.ord
        order by d.ord
      )
      select json_agg(d.incident_ids order by d.ord) into v_answer from d;
      return v_answer;
    end
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists receive_firing(json, json, text, timestamptz)`.execute(db);
  await firstVersion(db);
}
