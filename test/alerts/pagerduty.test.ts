import { describe, expect, it } from 'vitest';
import { adaptPagerduty } from '../../src/alerts/pagerduty.js';
import { fixtureJson } from '../fixtures/webhooks/fixtures.js';
import { zodIssues } from './zod-issues.js';

const RECEIVED = new Date('2026-08-14T12:00:00.000Z');

type Body = { event: Record<string, unknown> & { data: Record<string, unknown> } };

/** The triggered example with `data` and event fields overridden. */
function incident(data: Record<string, unknown>, event: Record<string, unknown> = {}): Body {
  const base = fixtureJson('pagerduty-triggered.json') as Body;
  return { event: { ...base.event, ...event, data: { ...base.event.data, ...data } } };
}

describe('adaptPagerduty: incident events', () => {
  it('maps the triggered example exactly (agent null = automation)', () => {
    expect(adaptPagerduty(fixtureJson('pagerduty-triggered.json'), RECEIVED)).toEqual([
      {
        source: 'pagerduty',
        monId: 'MON-027',
        status: 'firing',
        fingerprint: 'Q1ZB3WAXH8K2LQ',
        title: '[MON-027] Settlement batch job failed on payments-worker',
        labels: { service: 'Payments API', urgency: 'high', priority: 'P1', number: '4821' },
        values: {
          event_type: 'incident.triggered',
          incident_key: 'MON-027',
          escalation_policy: 'Payments on-call',
          assignees: 'Dana Okafor',
          teams: 'Payments',
        },
        url: 'https://acme.pagerduty.com/incidents/Q1ZB3WAXH8K2LQ',
        startsAt: '2026-08-14T09:05:12.000Z',
        eventAt: '2026-08-14T09:05:12.481Z',
        actor: null,
      },
    ]);
  });

  it.each([
    ['pagerduty-triggered.json', 'firing', '2026-08-14T09:05:12.481Z', null],
    ['pagerduty-acknowledged.json', 'acknowledged', '2026-08-14T09:07:48.102Z', 'Dana Okafor'],
    ['pagerduty-resolved.json', 'resolved', '2026-08-14T09:52:03.877Z', 'Dana Okafor'],
  ])('%s → %s at occurred_at, by the agent', (file, status, eventAt, actor) => {
    const [alert] = adaptPagerduty(fixtureJson(file), RECEIVED);
    expect(alert).toMatchObject({ status, eventAt, actor, fingerprint: 'Q1ZB3WAXH8K2LQ', monId: 'MON-027' });
  });

  it('covers every incident.* event whose data is an incident, by data.status', () => {
    for (const event_type of ['incident.reopened', 'incident.escalated', 'incident.priority_updated', 'incident.unacknowledged']) {
      expect(adaptPagerduty(incident({}, { event_type }), RECEIVED).map((a) => a.status)).toEqual(['firing']);
    }
  });

  it('resolves a merged-away incident as its own instance, naming the incident it was merged into', () => {
    expect(adaptPagerduty(fixtureJson('pagerduty-merge-resolved.json'), RECEIVED)).toEqual([
      {
        source: 'pagerduty',
        monId: 'MON-027',
        status: 'resolved',
        fingerprint: 'Q0RB5YKT2M4N6P',
        title: '[MON-027] Settlement batch job failed on payments-worker-2',
        labels: { service: 'Payments API', urgency: 'high', number: '4823' },
        values: {
          event_type: 'incident.resolved',
          incident_key: 'MON-027/payments-worker-2',
          escalation_policy: 'Payments on-call',
          teams: 'Payments',
          merged_into: 'Q1ZB3WAXH8K2LQ',
        },
        url: 'https://acme.pagerduty.com/incidents/Q0RB5YKT2M4N6P',
        startsAt: '2026-08-14T09:06:02.000Z',
        eventAt: '2026-08-14T09:12:40.915Z',
        actor: 'Dana Okafor',
      },
    ]);
  });

  it('names no merge target for other resolve reasons or a merge reason without its incident', () => {
    const values = (resolve_reason: unknown) => adaptPagerduty(incident({ status: 'resolved', resolve_reason }, { event_type: 'incident.resolved' }), RECEIVED)[0]!.values;
    expect(values(null)).not.toHaveProperty('merged_into');
    expect(values({ type: 'some_future_reason', incident: { id: 'QX' } })).not.toHaveProperty('merged_into');
    expect(values({ type: 'merge_resolve_reason' })).not.toHaveProperty('merged_into');
  });

  it('starts a reopened incident at reopened_at', () => {
    const [alert] = adaptPagerduty(incident({ reopened_at: '2026-08-14T11:00:00Z' }), RECEIVED);
    expect(alert!.startsAt).toBe('2026-08-14T11:00:00.000Z');
  });

  it('reads the id from data.title, then data.incident_key, never elsewhere', () => {
    const id = (data: Record<string, unknown>) => adaptPagerduty(incident(data), RECEIVED)[0]!.monId;
    expect(id({ title: '[MON-001] x', incident_key: 'MON-002' })).toBe('MON-001');
    expect(id({ title: 'Settlement failed', incident_key: 'MON-027/payments-worker-2' })).toBe('MON-027');
    expect(id({ title: 'Settlement failed', incident_key: null })).toBeNull();
    expect(id({ title: 'x', incident_key: 'abc', html_url: 'https://acme.pagerduty.com/MON-3', service: { summary: 'MON-4' } })).toBeNull();
  });

  it('leaves out a null priority and a missing service', () => {
    const [alert] = adaptPagerduty(incident({ priority: null, service: undefined }), RECEIVED);
    expect(alert!.labels).toEqual({ urgency: 'high', number: '4821' });
  });

  it('takes null in display-only fields instead of refusing the delivery (PagerDuty disables a subscription after three 400s)', () => {
    const [alert] = adaptPagerduty(
      incident({ html_url: null, number: null, urgency: null, service: { id: 'P1', summary: null, html_url: null }, assignees: [{ summary: null }], teams: null }),
      RECEIVED,
    );
    expect(alert).toMatchObject({ status: 'firing', url: null, labels: {} });
    expect(alert!.values.assignees).toBeUndefined();
  });

  it('ignores unknown fields (client, conference_bridge, incident_type, future ones)', () => {
    const [a] = adaptPagerduty(incident({ somethingNew: { x: 1 } }, { extra: true }), RECEIVED);
    const [b] = adaptPagerduty(fixtureJson('pagerduty-triggered.json'), RECEIVED);
    expect(a).toEqual(b);
  });
});

describe('adaptPagerduty: events that are not alerts (still valid: 202)', () => {
  it.each([
    ['pagey.ping', 'pagerduty-ping.json'],
    ['incident.annotated (its note names a MON id)', 'pagerduty-annotated.json'],
  ])('%s → no alert', (_name, file) => {
    expect(adaptPagerduty(fixtureJson(file), RECEIVED)).toEqual([]);
  });

  it.each(['service.created', 'service.updated', 'incident.responder.added'])('%s with a non-incident data.type → no alert', (event_type) => {
    expect(adaptPagerduty({ event: { id: 'e', event_type, occurred_at: '2026-08-14T09:00:00Z', data: { id: 'P1', type: 'service' } } }, RECEIVED)).toEqual([]);
  });

  it('does not validate incident fields of non-incident events', () => {
    expect(adaptPagerduty({ event: { id: 'e', event_type: 'x.y', occurred_at: '2026-08-14T09:00:00Z', data: { status: 42 } } }, RECEIVED)).toEqual([]);
  });
});

describe('adaptPagerduty: unsupported and bad shapes', () => {
  it('refuses V2 messages[] and says why first', () => {
    expect(zodIssues(() => adaptPagerduty(fixtureJson('pagerduty-v2-messages.json'), RECEIVED))).toEqual([
      'messages: PagerDuty V2 webhooks (messages[]) are not supported: create a V3 webhook subscription',
      'event: Invalid input: expected object, received undefined',
    ]);
  });

  it.each([
    ['a top-level array', fixtureJson('invalid-top-level-array.json'), ['(root): expected a JSON object']],
    ['event not an object', { event: 'incident.triggered' }, ['event: Invalid input: expected object, received string']],
    ['data not an object', { event: { ...incident({}).event, data: [] } }, ['event.data: Invalid input: expected object, received array']],
    ['a bad occurred_at', incident({}, { occurred_at: 'yesterday' }), ['event.occurred_at: expected an RFC 3339 timestamp such as 2026-08-14T09:40:00Z']],
    ['an unknown incident status', incident({ status: 'snoozed' }), ['event.data.status: Invalid option: expected one of "triggered"|"acknowledged"|"resolved"']],
    ['an incident without id', incident({ id: undefined }), ['event.data.id: Invalid input: expected string, received undefined']],
    ['number as a string', incident({ number: '4821' }), ['event.data.number: Invalid input: expected number, received string']],
    ['agent not an object', incident({}, { agent: 'Dana' }), ['event.agent: Invalid input: expected object, received string']],
  ])('%s', (_name, input, issues) => {
    expect(zodIssues(() => adaptPagerduty(input, RECEIVED))).toEqual(issues);
  });
});
