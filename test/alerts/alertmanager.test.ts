import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { adaptAlertmanager } from '../../src/alerts/alertmanager.js';
import { fixtureJson } from '../fixtures/webhooks/fixtures.js';
import { zodIssues } from './zod-issues.js';

const RECEIVED = new Date('2026-08-14T12:00:00.000Z');
const ZERO = '0001-01-01T00:00:00Z';

/** A minimal valid Alertmanager body around one alert; `alert` fields override the defaults. */
function body(alert: Record<string, unknown>, top: Record<string, unknown> = {}): unknown {
  return {
    receiver: 'runbook-router',
    status: 'firing',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'HighLatency' },
        annotations: {},
        startsAt: '2026-08-14T10:00:00Z',
        endsAt: ZERO,
        generatorURL: 'http://prometheus-0:9090/graph',
        fingerprint: '0123456789abcdef',
        ...alert,
      },
    ],
    version: '4',
    ...top,
  };
}

const only = (alerts: Alert[]): Alert => {
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
};

describe('adaptAlertmanager: spec examples', () => {
  it('maps the firing example exactly', () => {
    expect(adaptAlertmanager(fixtureJson('alertmanager-firing.json'), RECEIVED)).toEqual([
      {
        source: 'alertmanager',
        monId: 'MON-005',
        status: 'firing',
        fingerprint: 'adb2b69742b0474d',
        title: 'MON-005: connection pool above 90% on pg-primary-1',
        labels: {
          alertname: 'PostgresConnectionsSaturated',
          instance: 'pg-primary-1:9187',
          job: 'postgres-exporter',
          mon_id: 'MON-005',
          severity: 'critical',
          team: 'dba',
        },
        values: {
          runbook_url: 'https://runbooks.example.com/MON-005',
          summary: 'MON-005: connection pool above 90% on pg-primary-1',
        },
        url: 'http://prometheus-0:9090/graph?g0.expr=pg_stat_activity_count+%2F+pg_settings_max_connections+%3E+0.9&g0.tab=1',
        startsAt: '2026-08-14T09:18:45.512Z',
        eventAt: '2026-08-14T09:18:45.512Z',
      },
    ]);
  });

  it('orders the resolution at endsAt, same instance as the firing one', () => {
    const resolved = only(adaptAlertmanager(fixtureJson('alertmanager-resolved.json'), RECEIVED));
    expect(resolved).toMatchObject({ status: 'resolved', fingerprint: 'adb2b69742b0474d', monId: 'MON-005' });
    expect(resolved.startsAt).toBe('2026-08-14T09:18:45.512Z');
    expect(resolved.eventAt).toBe('2026-08-14T09:49:15.512Z');
  });
});

describe('adaptAlertmanager: batches', () => {
  const alerts = adaptAlertmanager(fixtureJson('alertmanager-batch-mixed.json'), RECEIVED);

  it('emits one alert per element with its own status, never the top-level one', () => {
    expect(alerts.map((a) => [a.fingerprint, a.status, a.monId])).toEqual([
      ['adb2b69742b0474d', 'firing', 'MON-005'],
      ['5f0e3c1d9b7a2e41', 'resolved', 'MON-005'],
      ['9c1e04b6f3a8d257', 'firing', 'MON-031'],
      ['0e7d3b95a1c46f28', 'resolved', null],
    ]);
  });

  it('takes the id from alertname when there is no mon_id label, and never from description', () => {
    expect(alerts[2]).toMatchObject({ monId: 'MON-031', title: 'Disk almost full on worker-7' });
    // MON-099 is in this alert's description and MON-040 in the last one's: free text is never scanned.
    expect(alerts.map((a) => a.monId)).not.toContain('MON-099');
    expect(alerts[3]!.monId).toBeNull();
    expect(alerts[3]!.values.description).toBe('Runbook: https://runbooks.example.com/MON-040');
  });

  it('uses endsAt for resolved and startsAt for firing as the ordering time', () => {
    expect(alerts.map((a) => a.eventAt)).toEqual([
      '2026-08-14T10:02:15.118Z',
      '2026-08-14T10:04:30.004Z',
      '2026-08-14T09:58:45.770Z',
      '2026-08-14T10:01:40.500Z',
    ]);
  });

  it('accepts an empty alerts array as a valid body with no alert', () => {
    expect(adaptAlertmanager({ ...(body({}) as object), alerts: [] }, RECEIVED)).toEqual([]);
  });

  it('does not infer anything from truncatedAlerts', () => {
    expect(adaptAlertmanager(body({}, { truncatedAlerts: 40 }), RECEIVED)).toHaveLength(1);
  });
});

describe('adaptAlertmanager: MON id source order', () => {
  it.each([
    ['labels.mon_id beats everything', { labels: { alertname: 'MON-3', mon_id: 'MON-1' }, annotations: { mon_id: 'MON-2', summary: 'MON-4' } }, 'MON-1'],
    ['annotations.mon_id beats alertname', { labels: { alertname: 'MON-3' }, annotations: { mon_id: 'MON-2', summary: 'MON-4' } }, 'MON-2'],
    ['alertname beats summary', { labels: { alertname: 'MON-3 Disk' }, annotations: { summary: 'MON-4' } }, 'MON-3'],
    ['summary is last', { labels: { alertname: 'Disk' }, annotations: { summary: 'mon-004: disk' } }, 'MON-004'],
    ['an invalid label falls through', { labels: { alertname: 'Disk', mon_id: 'XMON-1' }, annotations: { summary: 'MON-4' } }, 'MON-4'],
    ['description, runbook_url and generatorURL are never read', { labels: { alertname: 'Disk' }, annotations: { description: 'MON-7', runbook_url: 'https://x/MON-8' }, generatorURL: 'http://p/MON-9' }, null],
    ['the first of several ids in the winning source', { labels: { alertname: 'Disk', mon_id: 'MON-10,MON-11' } }, 'MON-10'],
  ])('%s', (_name, alert, monId) => {
    expect(only(adaptAlertmanager(body(alert), RECEIVED)).monId).toBe(monId);
  });
});

describe('adaptAlertmanager: fields', () => {
  it('falls back from summary to alertname to the fingerprint for the title', () => {
    expect(only(adaptAlertmanager(body({ labels: { alertname: 'HighLatency' }, annotations: { summary: '  ' } }), RECEIVED)).title).toBe('HighLatency');
    expect(only(adaptAlertmanager(body({ labels: {}, annotations: {} }), RECEIVED)).title).toBe('alertmanager alert 0123456789abcdef');
  });

  it('tolerates a missing annotations object and endsAt', () => {
    const alert = only(adaptAlertmanager(body({ annotations: undefined, endsAt: undefined, status: 'resolved' }), RECEIVED));
    expect(alert.values).toEqual({});
    expect(alert.eventAt).toBe('2026-08-14T10:00:00.000Z');
  });

  it('keeps nanosecond and offset timestamps, normalised to UTC milliseconds', () => {
    const alert = only(adaptAlertmanager(body({ startsAt: '2026-08-14T12:00:00.123456789+02:00' }), RECEIVED));
    expect(alert.startsAt).toBe('2026-08-14T10:00:00.123Z');
  });

  it('drops a generatorURL that is not http(s)', () => {
    expect(only(adaptAlertmanager(body({ generatorURL: 'javascript:alert(1)' }), RECEIVED)).url).toBeNull();
    expect(only(adaptAlertmanager(body({ generatorURL: '' }), RECEIVED)).url).toBeNull();
  });

  it('ignores unknown fields at every level (upstream main adds notification_reason and routeLabels)', () => {
    const alert = only(
      adaptAlertmanager(body({ someFutureField: { nested: [1] } }, { notification_reason: 'new_alerts', routeLabels: { team: 'dba' }, extra: 1 }), RECEIVED),
    );
    expect(alert.fingerprint).toBe('0123456789abcdef');
    expect(alert).not.toHaveProperty('someFutureField');
  });

  it('carries hostile text verbatim: escaping is the page’s job, the id is still clean', () => {
    const alert = only(adaptAlertmanager(fixtureJson('alertmanager-hostile-text.json'), RECEIVED));
    expect(alert.monId).toBe('MON-005');
    expect(alert.title).toBe('<script>alert(1)</script> pool at 97%');
    expect(alert.labels.instance).toBe('<img src=x onerror=alert(1)>');
    expect(alert.labels['{{alert.labels.instance}}']).toBe('{{#each this}}{{/each}}');
    expect(alert.values.description).toBe('<img src=x onerror=alert(1)> & "quoted" \'single\'');
    expect(alert.url).toBeNull();
  });
});

describe('adaptAlertmanager: bad shapes', () => {
  it.each([
    ['a number label value', fixtureJson('invalid-labels-number.json'), ['alerts.0.labels.priority: Invalid input: expected string, received number']],
    ['alerts not an array', fixtureJson('invalid-alerts-not-array.json'), ['alerts: Invalid input: expected array, received object']],
    ['a top-level array (API v2 format)', fixtureJson('invalid-top-level-array.json'), ['(root): expected a JSON object']],
    ['null', null, ['(root): expected a JSON object']],
    ['no alerts', { receiver: 'x' }, ['alerts: Invalid input: expected array, received undefined']],
    ['an alert that is a string', { alerts: ['firing'] }, ['alerts.0: Invalid input: expected object, received string']],
    ['annotations with a null value', body({ annotations: { summary: null } }), ['alerts.0.annotations.summary: Invalid input: expected string, received null']],
    ['an unknown status', body({ status: 'pending' }), ['alerts.0.status: Invalid option: expected one of "firing"|"resolved"']],
    ['a missing fingerprint', body({ fingerprint: undefined }), ['alerts.0.fingerprint: Invalid input: expected string, received undefined']],
    ['a non-RFC 3339 startsAt', body({ startsAt: '14/08/2026' }), ['alerts.0.startsAt: expected an RFC 3339 timestamp such as 2026-08-14T09:40:00Z']],
    ['commonLabels with a number', body({}, { commonLabels: { a: 1 } }), ['commonLabels.a: Invalid input: expected string, received number']],
  ])('%s', (_name, input, issues) => {
    expect(zodIssues(() => adaptAlertmanager(input, RECEIVED))).toEqual(issues);
  });
});
