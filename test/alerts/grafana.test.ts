import { describe, expect, it } from 'vitest';
import { adaptGrafana } from '../../src/alerts/grafana.js';
import { fixtureJson } from '../fixtures/webhooks/fixtures.js';
import { zodIssues } from './zod-issues.js';

const RECEIVED = new Date('2026-08-14T12:00:00.000Z');

describe('adaptGrafana: unified alerting (v1)', () => {
  it('maps the firing example exactly', () => {
    expect(adaptGrafana(fixtureJson('grafana-firing.json'), RECEIVED)).toEqual([
      {
        source: 'grafana',
        monId: 'MON-012',
        status: 'firing',
        fingerprint: 'c3eae2e2a5647738',
        title: 'MON-012: payments-api 5xx ratio above 5% for 5m',
        labels: {
          alertname: 'Payments API error rate',
          grafana_folder: 'Payments',
          instance: 'payments-api-6c9d7:8080',
          mon_id: 'MON-012',
          severity: 'critical',
          team: 'payments',
        },
        values: {
          description: '5xx ratio is 7.9% on payments-api-6c9d7:8080',
          runbook_url: 'https://runbooks.example.com/MON-012',
          summary: 'MON-012: payments-api 5xx ratio above 5% for 5m',
          dashboardURL: 'https://grafana.example.com/d/pay-api-overview?from=1786696800000&orgId=1&to=1786701750000',
          panelURL: 'https://grafana.example.com/d/pay-api-overview?from=1786696800000&orgId=1&to=1786701750000&viewPanel=14',
          silenceURL:
            'https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=__alert_rule_uid__%3Dbe7k2q9xw1kcgd&matcher=instance%3Dpayments-api-6c9d7%3A8080&matcher=mon_id%3DMON-012&matcher=severity%3Dcritical&matcher=team%3Dpayments&orgId=1',
          valueString:
            "[ var='A' labels={instance=payments-api-6c9d7:8080} value=0.0791 ], [ var='C' labels={instance=payments-api-6c9d7:8080} value=1 ]",
          A: 0.0791,
          C: 1,
        },
        url: 'https://grafana.example.com/alerting/grafana/be7k2q9xw1kcgd/view?orgId=1',
        startsAt: '2026-08-14T09:40:00.000Z',
        eventAt: '2026-08-14T09:40:00.000Z',
      },
    ]);
  });

  it('maps the resolved example to the same instance, ordered at endsAt', () => {
    const [alert] = adaptGrafana(fixtureJson('grafana-resolved.json'), RECEIVED);
    expect(alert).toMatchObject({ status: 'resolved', fingerprint: 'c3eae2e2a5647738', monId: 'MON-012', eventAt: '2026-08-14T10:11:00.000Z' });
    expect(alert!.values).toMatchObject({ A: 0.0042, C: 0 });
  });

  it('emits each alert of a group with its own status and fingerprint', () => {
    const alerts = adaptGrafana(fixtureJson('grafana-multi-alert.json'), RECEIVED);
    expect(alerts.map((a) => [a.fingerprint, a.status, a.labels.instance, a.eventAt])).toEqual([
      ['c3eae2e2a5647738', 'firing', 'payments-api-6c9d7:8080', '2026-08-14T09:40:00.000Z'],
      ['4b1f7a0de29c6e53', 'firing', 'payments-api-8f2b1:8080', '2026-08-14T09:45:00.000Z'],
      ['e81d5c09b7f3a264', 'resolved', 'payments-api-2a7e4:8080', '2026-08-14T10:05:00.000Z'],
    ]);
    expect(new Set(alerts.map((a) => a.monId))).toEqual(new Set(['MON-012']));
  });

  it('handles the test button: no MON id, values null, empty URLs dropped', () => {
    expect(adaptGrafana(fixtureJson('grafana-test-button.json'), RECEIVED)).toEqual([
      {
        source: 'grafana',
        monId: null,
        status: 'firing',
        fingerprint: '57c6d9296de2ad39',
        title: 'Notification test',
        labels: { alertname: 'TestAlert', instance: 'Grafana' },
        values: {
          summary: 'Notification test',
          silenceURL: 'https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DTestAlert&matcher=instance%3DGrafana',
          valueString: "[ metric='foo' labels={instance=bar} value=10 ]",
        },
        url: null,
        startsAt: '2026-08-14T10:20:31.337Z',
        eventAt: '2026-08-14T10:20:31.337Z',
      },
    ]);
  });

  it('follows the same MON id order as Alertmanager: labels.mon_id → annotations.mon_id → alertname → summary', () => {
    const withAlert = (labels: Record<string, string>, annotations: Record<string, string>) =>
      adaptGrafana({ alerts: [{ status: 'firing', labels, annotations, startsAt: '2026-08-14T10:00:00Z', fingerprint: 'f' }] }, RECEIVED)[0]!.monId;
    expect(withAlert({ mon_id: 'MON-1', alertname: 'MON-3' }, { mon_id: 'MON-2', summary: 'MON-4' })).toBe('MON-1');
    expect(withAlert({ alertname: 'MON-3' }, { mon_id: 'MON-2', summary: 'MON-4' })).toBe('MON-2');
    expect(withAlert({ alertname: 'MON-3' }, { summary: 'MON-4' })).toBe('MON-3');
    expect(withAlert({ alertname: 'x' }, { summary: 'MON-4', description: 'MON-5' })).toBe('MON-4');
    expect(withAlert({ alertname: 'x' }, { description: 'MON-5', runbook_url: 'https://r/MON-6' })).toBeNull();
  });

  it('ignores unknown fields (enrichments, embeddedImage, appVersion, future ones)', () => {
    const input = fixtureJson('grafana-firing.json') as Record<string, unknown> & { alerts: Record<string, unknown>[] };
    const augmented = { ...input, appVersion: '12.4.0', somethingNew: [1, 2], alerts: [{ ...input.alerts[0], enrichments: { x: 1 }, embeddedImage: 'iVBOR…' }] };
    expect(adaptGrafana(augmented, RECEIVED)).toEqual(adaptGrafana(input, RECEIVED));
  });
});

describe('adaptGrafana: legacy alerting (≤ 10.x)', () => {
  it('maps alerting to firing, identified by ruleId, ordered by arrival', () => {
    expect(adaptGrafana(fixtureJson('grafana-legacy-alerting.json'), RECEIVED)).toEqual([
      {
        source: 'grafana',
        monId: 'MON-005',
        status: 'firing',
        fingerprint: '7',
        title: 'Connection pool saturation',
        labels: { mon_id: 'MON-005', severity: 'critical' },
        values: {
          state: 'alerting',
          'pg_pool_usage_percent{instance=pg-primary-1:9187}': 97.3,
          'pg_pool_usage_percent{instance=pg-replica-2:9187}': 91.05,
          message: 'Connection pool above 90%. Runbook: https://runbooks.example.com/MON-005',
          imageUrl: 'https://grafana.example.com/public/img/attachments/8h3kQ2Lm.png',
        },
        url: 'https://grafana.example.com/d/pg-overview/postgres?tab=alert&editPanel=4&orgId=1',
        startsAt: '2026-08-14T12:00:00.000Z',
        eventAt: '2026-08-14T12:00:00.000Z',
      },
    ]);
  });

  it('maps ok to resolved for the same rule', () => {
    const [alert] = adaptGrafana(fixtureJson('grafana-legacy-ok.json'), RECEIVED);
    expect(alert).toMatchObject({ status: 'resolved', fingerprint: '7', monId: 'MON-005', eventAt: '2026-08-14T12:00:00.000Z' });
  });

  it('emits nothing for paused (evalMatches null)', () => {
    expect(adaptGrafana(fixtureJson('grafana-legacy-paused.json'), RECEIVED)).toEqual([]);
  });

  it.each([
    ['alerting', 'firing'],
    ['no_data', 'firing'],
    ['ok', 'resolved'],
    ['paused', null],
    ['pending', null],
    ['unknown', null],
  ])('state %s → %s', (state, status) => {
    const alerts = adaptGrafana({ ruleId: 3, ruleName: 'r', state, evalMatches: [] }, RECEIVED);
    expect(alerts.map((a) => a.status)).toEqual(status === null ? [] : [status]);
  });

  it('reads the id from tags.mon_id, then ruleName, then title, never the message', () => {
    const id = (fields: Record<string, unknown>) => adaptGrafana({ ruleId: 3, state: 'alerting', evalMatches: [], ...fields }, RECEIVED)[0]!.monId;
    expect(id({ tags: { mon_id: 'mon-1' }, ruleName: 'MON-2', title: '[Alerting] MON-3' })).toBe('MON-1');
    expect(id({ tags: {}, ruleName: 'MON-2 pool', title: '[Alerting] MON-3' })).toBe('MON-2');
    expect(id({ ruleName: 'pool', title: '[Alerting] MON-3 pool' })).toBe('MON-3');
    expect(id({ ruleName: 'pool', message: 'see MON-4', ruleUrl: 'https://g/MON-5' })).toBeNull();
  });

  it('is recognised by evalMatches alone, and shows a null match value as "no value"', () => {
    const [alert] = adaptGrafana({ ruleId: 9, state: 'no_data', evalMatches: [{ value: null, metric: 'up', tags: null }] }, RECEIVED);
    expect(alert).toMatchObject({ status: 'firing', fingerprint: '9', title: 'Grafana rule 9', values: { state: 'no_data', up: 'no value' } });
  });
});

describe('adaptGrafana: unsupported and bad shapes', () => {
  it('refuses a custom payload template with a reason', () => {
    expect(zodIssues(() => adaptGrafana(fixtureJson('grafana-custom-payload.json'), RECEIVED))).toEqual([
      'alerts: expected alerts[] (Grafana unified alerting) or ruleName/evalMatches (legacy alerting); custom payload templates are not supported, keep the default payload',
    ]);
  });

  it.each([
    ['a top-level array', fixtureJson('invalid-top-level-array.json'), ['(root): expected a JSON object']],
    ['a string', 'firing', ['(root): expected a JSON object']],
    ['alerts not an array', fixtureJson('invalid-alerts-not-array.json'), ['alerts: Invalid input: expected array, received object']],
    ['a number label value', fixtureJson('invalid-labels-number.json'), ['alerts.0.labels.priority: Invalid input: expected string, received number']],
    ['values with a string', fixtureJson('invalid-grafana-values-string.json'), ['alerts.0.values.A: Invalid input: expected number, received string']],
    ['legacy without ruleId', { ruleName: 'r', state: 'alerting' }, ['ruleId: Invalid input: expected number, received undefined']],
    ['legacy with an unknown state', { ruleId: 1, ruleName: 'r', state: 'firing' }, ['state: Invalid option: expected one of "alerting"|"ok"|"no_data"|"paused"|"pending"|"unknown"']],
    ['legacy tags with a number', { ruleId: 1, ruleName: 'r', state: 'ok', tags: { mon_id: 5 } }, ['tags.mon_id: Invalid input: expected string, received number']],
    ['legacy evalMatches not an array', { ruleId: 1, state: 'ok', evalMatches: {} }, ['evalMatches: Invalid input: expected array, received object']],
  ])('%s', (_name, input, issues) => {
    expect(zodIssues(() => adaptGrafana(input, RECEIVED))).toEqual(issues);
  });

  it('treats a body with alerts as unified even if it also has ruleName', () => {
    expect(adaptGrafana({ alerts: [], ruleName: 'x', ruleId: 1, state: 'alerting' }, RECEIVED)).toEqual([]);
  });
});
