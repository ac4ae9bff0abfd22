import { z } from 'zod';
import type { Alert } from './alert.js';
import { boundedKey } from './bounded-key.js';
import { monIdsFromFirstSource } from './mon-id-token.js';
import { httpUrl, jsonObject, present, timestamp, toIso } from './schema-parts.js';

/**
 * PagerDuty references (`{html_url,id,self,summary,type}`); only the summary is shown. Display-only fields take null too:
 * a 400 is a dropped webhook for PagerDuty, and three in a row disable the subscription.
 */
const reference = z.object({ id: z.string().nullish(), summary: z.string().nullish(), html_url: z.string().nullish() });

const eventShape = {
  id: z.string(),
  event_type: z.string(),
  resource_type: z.string().optional(),
  occurred_at: timestamp,
  // null means PagerDuty automation acted.
  agent: reference.nullable().optional(),
};

/**
 * V3 webhook envelope: exactly one event. `data` depends on the event type, so only its `type` is read here;
 * pagey.ping, service.* and incident_note events are valid and produce no alert.
 */
export const pagerdutyBodySchema = jsonObject({
  // Listed first so a V2 body's first issue says why it is refused.
  messages: z
    .undefined({ error: 'PagerDuty V2 webhooks (messages[]) are not supported: create a V3 webhook subscription' })
    .optional(),
  event: z.object({ ...eventShape, data: z.looseObject({ type: z.string().optional() }) }),
});

/** `data` of events whose `data.type` is `incident`, the only ones that become alerts. */
export const pagerdutyIncidentBodySchema = jsonObject({
  event: z.object({
    ...eventShape,
    data: z.object({
      type: z.literal('incident'),
      id: z.string().min(1),
      html_url: z.string().nullish(),
      number: z.number().int().nullish(),
      status: z.enum(['triggered', 'acknowledged', 'resolved']),
      incident_key: z.string().nullable().optional(),
      created_at: timestamp.optional(),
      reopened_at: timestamp.nullable().optional(),
      title: z.string(),
      service: reference.nullish(),
      escalation_policy: reference.nullable().optional(),
      priority: reference.nullable().optional(),
      urgency: z.string().nullish(),
      assignees: z.array(reference).nullish(),
      teams: z.array(reference).nullish(),
      resolve_reason: z.object({ type: z.string(), incident: reference.nullish() }).nullable().optional(),
    }),
  }),
});

const STATUS = { triggered: 'firing', acknowledged: 'acknowledged', resolved: 'resolved' } as const;

export function adaptPagerduty(body: unknown, _receivedAt: Date): Alert[] {
  const envelope = pagerdutyBodySchema.parse(body);
  if (envelope.event.data.type !== 'incident') return [];
  const { event } = pagerdutyIncidentBodySchema.parse(body);
  const incident = event.data;
  const [monId] = monIdsFromFirstSource([incident.title, incident.incident_key]);
  const labels: Record<string, string> = {};
  const service = present(incident.service?.summary);
  if (service !== undefined) labels.service = service;
  if (incident.urgency != null) labels.urgency = incident.urgency;
  const priority = present(incident.priority?.summary);
  if (priority !== undefined) labels.priority = priority;
  if (incident.number != null) labels.number = String(incident.number);

  const values: Record<string, string | number> = { event_type: event.event_type };
  const incidentKey = present(incident.incident_key);
  if (incidentKey !== undefined) values.incident_key = incidentKey;
  const policy = present(incident.escalation_policy?.summary);
  if (policy !== undefined) values.escalation_policy = policy;
  const assignees = (incident.assignees ?? []).map((a) => present(a.summary)).filter((s) => s !== undefined);
  if (assignees.length > 0) values.assignees = assignees.join(', ');
  const teams = (incident.teams ?? []).map((t) => present(t.summary)).filter((s) => s !== undefined);
  if (teams.length > 0) values.teams = teams.join(', ');
  // A merged-away incident is resolved for good: PagerDuty sends nothing more about it, so it resolves its own instance
  // (kept firing, it would hold the router incident open forever). The router incident stays open while the surviving
  // incident's instance still fires; the survivor's id says where the work went.
  const mergedInto = incident.resolve_reason?.type === 'merge_resolve_reason' ? present(incident.resolve_reason.incident?.id) : undefined;
  if (mergedInto !== undefined) values.merged_into = mergedInto;

  // A reopened incident is a new episode; otherwise it began when PagerDuty created it.
  const startedAt = incident.reopened_at ?? incident.created_at ?? event.occurred_at;
  return [
    {
      source: 'pagerduty',
      monId: monId ?? null,
      status: STATUS[incident.status],
      fingerprint: boundedKey(incident.id),
      title: incident.title,
      labels,
      values,
      url: httpUrl(incident.html_url) ?? null,
      startsAt: toIso(startedAt),
      eventAt: toIso(event.occurred_at),
      actor: present(event.agent?.summary) ?? null,
    },
  ];
}
