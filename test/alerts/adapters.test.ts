import { readdirSync } from 'node:fs';
import { ZodError } from 'zod';
import { describe, expect, it } from 'vitest';
import { adapters } from '../../src/alerts/adapters.js';
import { SOURCES, type Source } from '../../src/alerts/alert.js';
import { adaptAlertmanager } from '../../src/alerts/alertmanager.js';
import { adaptDatadog } from '../../src/alerts/datadog.js';
import { adaptGrafana } from '../../src/alerts/grafana.js';
import { adaptPagerduty } from '../../src/alerts/pagerduty.js';
import { fixtureBytes, fixtureJson, wireBody } from '../fixtures/webhooks/fixtures.js';

const RECEIVED = new Date('2026-08-14T12:00:00.000Z');

/** Every fixture, the source it is posted to, and how many alerts it must yield (or that it must be a 400). */
const EXPECTED: Record<string, [Source, number | 'invalid']> = {
  'alertmanager-firing.json': ['alertmanager', 1],
  'alertmanager-resolved.json': ['alertmanager', 1],
  'alertmanager-batch-mixed.json': ['alertmanager', 4],
  'alertmanager-hostile-text.json': ['alertmanager', 1],
  'datadog-triggered.json': ['datadog', 1],
  'datadog-recovered.json': ['datadog', 1],
  'datadog-default-payload.json': ['datadog', 1],
  'datadog-default-recovered.json': ['datadog', 1],
  'datadog-numeric-ids.json': ['datadog', 1],
  'datadog-mon-tag-lowercase.json': ['datadog', 1],
  'datadog-scope-mon-host.json': ['datadog', 1],
  'datadog-default-scope-mon-host.json': ['datadog', 1],
  'grafana-firing.json': ['grafana', 1],
  'grafana-resolved.json': ['grafana', 1],
  'grafana-multi-alert.json': ['grafana', 3],
  'grafana-test-button.json': ['grafana', 0],
  'grafana-legacy-alerting.json': ['grafana', 1],
  'grafana-legacy-ok.json': ['grafana', 1],
  'grafana-legacy-paused.json': ['grafana', 0],
  'grafana-legacy-test.json': ['grafana', 0],
  'grafana-legacy-test-random-id.json': ['grafana', 0],
  'grafana-custom-payload.json': ['grafana', 'invalid'],
  'pagerduty-triggered.json': ['pagerduty', 1],
  'pagerduty-acknowledged.json': ['pagerduty', 1],
  'pagerduty-resolved.json': ['pagerduty', 1],
  'pagerduty-ping.json': ['pagerduty', 0],
  'pagerduty-merge-resolved.json': ['pagerduty', 1],
  'pagerduty-annotated.json': ['pagerduty', 0],
  'pagerduty-v2-messages.json': ['pagerduty', 'invalid'],
  'invalid-labels-number.json': ['alertmanager', 'invalid'],
  'invalid-alerts-not-array.json': ['alertmanager', 'invalid'],
  'invalid-top-level-array.json': ['alertmanager', 'invalid'],
  'invalid-grafana-values-string.json': ['grafana', 'invalid'],
};

describe('adapters registry', () => {
  it('has exactly one adapter per source', () => {
    expect(Object.keys(adapters).sort()).toEqual([...SOURCES].sort());
    expect(adapters).toEqual({ datadog: adaptDatadog, grafana: adaptGrafana, alertmanager: adaptAlertmanager, pagerduty: adaptPagerduty });
  });

  it('lists every fixture in this table', () => {
    const files = readdirSync(new URL('../fixtures/webhooks/', import.meta.url)).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s → %j', (file, [source, expected]) => {
    // Parse the wire bytes, as the HTTP layer will.
    const body: unknown = JSON.parse(wireBody(source, file).toString('utf8'));
    if (expected === 'invalid') {
      expect(() => adapters[source](body, RECEIVED)).toThrow(ZodError);
    } else {
      const alerts = adapters[source](body, RECEIVED);
      expect(alerts).toHaveLength(expected);
      for (const alert of alerts) expect(alert.source).toBe(source);
    }
  });

  it.each(SOURCES)('%s refuses a top-level array, string, number and null with a root-path issue', (source) => {
    for (const body of [[], 'x', 1, null]) {
      try {
        adapters[source](body, RECEIVED);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ZodError);
        expect((error as ZodError).issues[0]).toMatchObject({ path: [], message: 'expected a JSON object' });
      }
    }
  });

  it('is pure: the same input gives the same output and the input is not modified', () => {
    for (const [file, [source, expected]] of Object.entries(EXPECTED)) {
      if (expected === 'invalid') continue;
      const body = fixtureJson(file);
      const before = JSON.stringify(body);
      expect(adapters[source](body, RECEIVED)).toEqual(adapters[source](fixtureJson(file), RECEIVED));
      expect(JSON.stringify(body)).toBe(before);
    }
  });
});

describe('wire bytes of the fixtures', () => {
  it('re-encodes the pretty Alertmanager example as compact Go JSON ending with a newline', () => {
    const wire = wireBody('alertmanager', 'alertmanager-firing.json').toString('utf8');
    expect(wire.endsWith('}\n')).toBe(true);
    expect(wire.slice(0, -1)).not.toContain('\n');
    expect(wire).toContain('\\u0026g0.tab=1');
  });

  it('re-encodes the pretty Grafana example compact, without a trailing newline', () => {
    const wire = wireBody('grafana', 'grafana-firing.json').toString('utf8');
    expect(wire.startsWith('{"receiver":"runbook-router","status":"firing","alerts":[')).toBe(true);
    expect(wire.endsWith('}')).toBe(true);
  });

  it('returns the written compact fixtures verbatim', () => {
    expect(wireBody('alertmanager', 'alertmanager-batch-mixed.json')).toEqual(fixtureBytes('alertmanager-batch-mixed.json'));
    expect(wireBody('grafana', 'grafana-multi-alert.json')).toEqual(fixtureBytes('grafana-multi-alert.json'));
    expect(fixtureBytes('alertmanager-hostile-text.json').toString('utf8')).toContain('\\u003cscript\\u003e');
  });

  it('keeps Datadog bodies as typed', () => {
    expect(wireBody('datadog', 'datadog-triggered.json')).toEqual(fixtureBytes('datadog-triggered.json'));
  });
});
