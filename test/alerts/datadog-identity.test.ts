import { describe, expect, it } from 'vitest';
import { adaptDatadog } from '../../src/alerts/datadog.js';
import { fixtureJson } from '../fixtures/webhooks/fixtures.js';

const RECEIVED = new Date('2026-08-14T12:00:00.000Z');

/** A default-payload body (no alert_id, no alert_transition): the title is all the instance identity there is. */
const defaultPayload = (title: string) => ({ title, body: '%%%\nx\n%%%', event_type: 'query_alert_monitor', date: '1786703400000', id: '7742351184603114466' });
const fingerprintOf = (title: string) => adaptDatadog(defaultPayload(title), RECEIVED).map((a) => a.fingerprint);
const statusOf = (title: string) => adaptDatadog(defaultPayload(title), RECEIVED).map((a) => a.status);

describe('adaptDatadog: default-payload identity keeps the monitor name', () => {
  it('keeps the prod and staging monitors apart, so the staging recovery leaves prod firing', () => {
    const prod = fingerprintOf('[P1] [Triggered] [Prod] [MON-020] Checkout latency high');
    const stagingTriggered = fingerprintOf('[P1] [Triggered] [Staging] [MON-020] Checkout latency high');
    const stagingRecovered = fingerprintOf('[P1] [Recovered] [Staging] [MON-020] Checkout latency high');
    expect(prod).toEqual(['title:[Prod] [MON-020] Checkout latency high']);
    expect(stagingTriggered).toEqual(['title:[Staging] [MON-020] Checkout latency high']);
    expect(stagingRecovered).toEqual(stagingTriggered);
    expect(stagingRecovered).not.toEqual(prod);
  });

  it.each([
    ['[P1] [Triggered] [Prod] x', '[P1] [Recovered] [Prod] x'],
    ['[Triggered on {host:a}] [Prod] x', '[Recovered on {host:a}] [Prod] x'],
    ['[P2] [Warn] [Prod] x', '[P2] [Recovered] [Prod] x'],
    ['[P3] [No Data] [Prod] x', '[P3] [Recovered] [Prod] x'],
    ['[Re-Triggered] [Prod] x', '[Recovered] [Prod] x'],
    ['[Renotify] [Prod] x', '[Recovered] [Prod] x'],
    ['[Re-No Data on {env:prod}] [Prod] x', '[Recovered on {env:prod}] [Prod] x'],
    ['[Re-Warn] [Prod] x', '[Recovered] [Prod] x'],
    ['[p1] [TRIGGERED] [Prod] x', '[P1] [recovered] [Prod] x'],
    ['[Triggered] [Memory Alert]', '[Recovered] [Memory Alert]'],
    ['[Triggered]', '[Recovered]'],
  ])('%j and %j are one instance, firing then resolved', (firing, resolved) => {
    expect(statusOf(firing)).toEqual(['firing']);
    expect(statusOf(resolved)).toEqual(['resolved']);
    expect(fingerprintOf(firing)).toEqual(fingerprintOf(resolved));
  });

  it.each([
    // The priority is Datadog's prefix, so a changed priority is still the same monitor.
    ['[P1] [Triggered] [Prod] x', ['title:[Prod] x']],
    ['[Triggered] [Prod] x', ['title:[Prod] x']],
    ['[Triggered on {host:a}] [Prod] [MON-1] x', ['title:[Prod] [MON-1] x/host:a']],
    // Only one state prefix is Datadog's; a name that starts with a state word keeps it.
    ['[Triggered] [Warn] Disk', ['title:[Warn] Disk']],
    ['[Triggered] [Memory Alert]', ['title:[Memory Alert]']],
  ])('%j → %j', (title, fingerprints) => {
    expect(fingerprintOf(title)).toEqual(fingerprints);
  });

  it('keeps a bracket group of the name when alert_transition gives the state (custom template without alert_id)', () => {
    const fingerprints = (title: string) => adaptDatadog({ title, alert_transition: 'Triggered' }, RECEIVED).map((a) => a.fingerprint);
    expect(fingerprints('[MON-005] [Prod] Pool')).toEqual(['title:[MON-005] [Prod] Pool']);
    expect(fingerprints('[MON-005] [Staging] Pool')).not.toEqual(fingerprints('[MON-005] [Prod] Pool'));
  });

  it('still reads state, priority and scope from the prefixes and shows the stripped title', () => {
    const [alert] = adaptDatadog(defaultPayload('[P1] [Triggered on {host:web-03}] [Prod] [MON-020] Checkout latency high'), RECEIVED);
    expect(alert).toMatchObject({
      status: 'firing',
      monId: 'MON-020',
      title: 'Checkout latency high',
      labels: { scope: 'host:web-03', priority: 'P1' },
      values: { transition: 'Triggered' },
      fingerprint: 'title:[Prod] [MON-020] Checkout latency high/host:web-03',
    });
  });

  it('matches the default-payload fixtures, trigger and recovery, on the name with its [MON-044] group', () => {
    const [triggered] = adaptDatadog(fixtureJson('datadog-default-payload.json'), RECEIVED);
    const [recovered] = adaptDatadog(fixtureJson('datadog-default-recovered.json'), RECEIVED);
    expect(triggered!.fingerprint).toBe('title:[MON-044] Disk usage above 95% on /var/host:web-03');
    expect(recovered!.fingerprint).toBe(triggered!.fingerprint);
  });

  it('leaves the alert_id identity alone', () => {
    const [alert] = adaptDatadog({ title: '[P1] [Triggered] [Prod] x', alert_id: '42', alert_scope: 'host:a' }, RECEIVED);
    expect(alert!.fingerprint).toBe('42/host:a');
  });
});

describe('adaptDatadog: an unquoted $ID never shows wrong digits', () => {
  const eventId = (id: unknown) => adaptDatadog({ alert_transition: 'Triggered', alert_id: '1', id }, RECEIVED)[0]!.values.event_id;

  it('omits an event id that JSON.parse already rounded (datadog-numeric-ids.json: 7742351184602799874)', () => {
    const [alert] = adaptDatadog(fixtureJson('datadog-numeric-ids.json'), RECEIVED);
    expect(alert!.values).not.toHaveProperty('event_id');
    expect(alert).toMatchObject({ status: 'firing', fingerprint: '148275309/host:pg-primary-1', values: { transition: 'Warn' } });
  });

  it.each([
    [Number.MAX_SAFE_INTEGER + 1, undefined],
    [7742351184602799874, undefined],
    [1e21, undefined],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [1234567, '1234567'],
    [0, '0'],
    ['7742351184602799874', '7742351184602799874'],
  ])('id %j → event_id %j', (id, shown) => {
    expect(eventId(id)).toBe(shown);
  });
});
