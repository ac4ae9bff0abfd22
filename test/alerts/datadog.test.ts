import { describe, expect, it } from 'vitest';
import { adaptDatadog } from '../../src/alerts/datadog.js';
import { parseDatadogTitle } from '../../src/alerts/datadog-title.js';
import { fixtureJson } from '../fixtures/webhooks/fixtures.js';
import { zodIssues } from './zod-issues.js';

const RECEIVED = new Date('2026-08-14T12:00:00.000Z');

describe('parseDatadogTitle', () => {
  it.each([
    ['[P1] [Triggered on {host:web-03}] [MON-044] Disk usage above 95% on /var', { priority: 'P1', state: 'Triggered', scope: 'host:web-03', text: 'Disk usage above 95% on /var', name: '[MON-044] Disk usage above 95% on /var' }],
    ['[Recovered] Host is Down', { priority: undefined, state: 'Recovered', scope: undefined, text: 'Host is Down', name: 'Host is Down' }],
    ['[Re-No Data on {host:a,env:prod}] x', { priority: undefined, state: 'Re-No Data', scope: 'host:a,env:prod', text: 'x', name: 'x' }],
    ['[Triggered] [Memory Alert]', { priority: undefined, state: 'Triggered', scope: undefined, text: 'Memory Alert', name: '[Memory Alert]' }],
    ['[MON-005] Pool above 90%', { priority: undefined, state: 'MON-005', scope: undefined, text: 'Pool above 90%', name: '[MON-005] Pool above 90%' }],
    ['Plain title [with brackets]', { priority: undefined, state: undefined, scope: undefined, text: 'Plain title [with brackets]', name: 'Plain title [with brackets]' }],
    ['[p3]   [Warn]   Slow', { priority: 'P3', state: 'Warn', scope: undefined, text: 'Slow', name: 'Slow' }],
  ])('%j', (title, parts) => {
    expect(parseDatadogTitle(title)).toEqual(parts);
  });
});

describe('adaptDatadog: our template (spec examples)', () => {
  it('maps the triggered example exactly', () => {
    expect(adaptDatadog(fixtureJson('datadog-triggered.json'), RECEIVED)).toEqual([
      {
        source: 'datadog',
        monId: 'MON-005',
        status: 'firing',
        fingerprint: '148275309/host:pg-primary-1',
        title: 'Database connection pool above 90%',
        labels: { env: 'prod', host: 'pg-primary-1', mon_id: 'MON-005', monitor: '', service: 'orders-db', team: 'backend', scope: 'host:pg-primary-1', priority: 'P2' },
        values: {
          alert_status: 'postgresql.percent_usage_connections over host:pg-primary-1,service:orders-db was > 0.9 on average during the last 5m.',
          alert_type: 'error',
          event_type: 'query_alert_monitor',
          transition: 'Triggered',
          event_id: '7742351184602790911',
          message: (fixtureJson('datadog-triggered.json') as { body: string }).body.trim(),
        },
        url: 'https://app.datadoghq.com/event/jump_to?event_id=7742351184602790911',
        startsAt: '2026-08-14T09:21:40.000Z',
        eventAt: '2026-08-14T09:21:40.000Z',
      },
    ]);
  });

  it('maps the recovered example to the same instance, ordered by date', () => {
    const [alert] = adaptDatadog(fixtureJson('datadog-recovered.json'), RECEIVED);
    expect(alert).toMatchObject({ status: 'resolved', monId: 'MON-005', fingerprint: '148275309/host:pg-primary-1', eventAt: '2026-08-14T09:58:10.000Z' });
  });
});

describe('adaptDatadog: status', () => {
  const withTransition = (alert_transition: string) => adaptDatadog({ alert_transition, mon_id: 'MON-1', alert_id: '1' }, RECEIVED).map((a) => a.status);

  it.each([
    ['Triggered', ['firing']],
    ['Re-Triggered', ['firing']],
    ['Renotify', ['firing']],
    ['Warn', ['firing']],
    ['Re-Warn', ['firing']],
    ['No Data', ['firing']],
    ['Re-No Data', ['firing']],
    ['Recovered', ['resolved']],
    ['Null', []],
    ['Muted', []],
    ['recovered', ['resolved']],
    ['constructor', []],
    ['__proto__', []],
  ])('alert_transition %j → %j', (transition, statuses) => {
    expect(withTransition(transition)).toEqual(statuses);
  });

  it('falls back to the title prefix when alert_transition is missing or empty', () => {
    expect(adaptDatadog({ title: '[P2] [Warn on {host:a}] x', alert_transition: '' }, RECEIVED).map((a) => a.status)).toEqual(['firing']);
    expect(adaptDatadog({ title: '[Recovered] x' }, RECEIVED).map((a) => a.status)).toEqual(['resolved']);
    // No prefix at all, or a first group that is not a state: nothing we could act on.
    expect(adaptDatadog({ title: 'x' }, RECEIVED)).toEqual([]);
    expect(adaptDatadog({ title: '[MON-005] Pool' }, RECEIVED)).toEqual([]);
    expect(adaptDatadog({}, RECEIVED)).toEqual([]);
  });

  it('prefers alert_transition over the title', () => {
    expect(adaptDatadog({ title: '[Triggered] x', alert_transition: 'Recovered' }, RECEIVED).map((a) => a.status)).toEqual(['resolved']);
  });
});

describe('adaptDatadog: default payload (no transition, no alert_id)', () => {
  const triggered = adaptDatadog(fixtureJson('datadog-default-payload.json'), RECEIVED);
  const recovered = adaptDatadog(fixtureJson('datadog-default-recovered.json'), RECEIVED);

  it('derives state, id, priority and scope from the title', () => {
    expect(triggered).toEqual([
      {
        source: 'datadog',
        monId: 'MON-044',
        status: 'firing',
        fingerprint: 'title:[MON-044] Disk usage above 95% on /var/host:web-03',
        title: 'Disk usage above 95% on /var',
        labels: { scope: 'host:web-03', priority: 'P1' },
        values: {
          event_type: 'query_alert_monitor',
          transition: 'Triggered',
          event_id: '7742351184603114466',
          message: '%%%\nDisk usage on web-03 is 96.4% on /var.\nIf inodes are exhausted too, MON-045 applies.\n@webhook-runbook-router\n%%%',
        },
        url: null,
        startsAt: '2026-08-14T10:30:00.000Z',
        eventAt: '2026-08-14T10:30:00.000Z',
      },
    ]);
  });

  it('gives the recovery the same fingerprint so it resolves the same instance', () => {
    expect(recovered.map((a) => [a.status, a.fingerprint, a.monId, a.eventAt])).toEqual([
      ['resolved', 'title:[MON-044] Disk usage above 95% on /var/host:web-03', 'MON-044', '2026-08-14T10:56:00.000Z'],
    ]);
  });
});

describe('adaptDatadog: MON ids', () => {
  it('reads a lower-case id from a `mon:` tag when mon_id is empty', () => {
    const alerts = adaptDatadog(fixtureJson('datadog-mon-tag-lowercase.json'), RECEIVED);
    expect(alerts.map((a) => [a.monId, a.status, a.fingerprint])).toEqual([['MON-005', 'firing', '148275309/host:pg-primary-1']]);
    expect(alerts[0]!.labels).toEqual({ env: 'prod', host: 'pg-primary-1', mon: 'mon-005', monitor: '', service: 'orders-db', team: 'backend', scope: 'host:pg-primary-1', priority: 'P2' });
  });

  it('emits one alert per id from the union of mon_id and mon_id/mon tags, in order', () => {
    const alerts = adaptDatadog({ alert_transition: 'Triggered', alert_id: '7', mon_id: 'MON-5', tags: 'mon_id:MON-6, mon:mon-5,mon:MON-7,team:a', title: 'MON-8' }, RECEIVED);
    expect(alerts.map((a) => a.monId)).toEqual(['MON-5', 'MON-6', 'MON-7']);
    expect(new Set(alerts.map((a) => a.fingerprint))).toEqual(new Set(['7']));
  });

  it('falls back to title, then alert_title, never body, link or other tags', () => {
    const ids = (fields: Record<string, string>) => adaptDatadog({ alert_transition: 'Triggered', ...fields }, RECEIVED).map((a) => a.monId);
    expect(ids({ mon_id: '', tags: 'service:MON-1', title: '[Triggered] [MON-2] x', alert_title: 'MON-3' })).toEqual(['MON-2']);
    expect(ids({ title: '[Triggered] x', alert_title: '[Triggered] MON-3 x' })).toEqual(['MON-3']);
    expect(ids({ title: 'x', body: 'MON-4', link: 'https://a/MON-5', alert_status: 'MON-6', tags: 'runbook:MON-7' })).toEqual([null]);
  });

  it.each(['datadog-scope-mon-host.json', 'datadog-default-scope-mon-host.json'])('never takes an id from the scope Datadog puts in the title (%s: host ceph-mon-01, no mon_id)', (file) => {
    expect(adaptDatadog(fixtureJson(file), RECEIVED).map((a) => [a.monId, a.status, a.title])).toEqual([[null, 'firing', 'Ceph OSD disk usage high']]);
  });

  it('scans title and alert_title from the monitor name on, past the priority and the state with its scope', () => {
    const ids = (fields: Record<string, string>) => adaptDatadog({ alert_transition: 'Triggered', ...fields }, RECEIVED).map((a) => a.monId);
    expect(ids({ title: '[P1] [Triggered on {host:mon-7}] x', alert_title: '[Triggered on {host:mon-8}] [MON-9] x' })).toEqual(['MON-9']);
    expect(ids({ title: '[Re-No Data on {service:mon-3,host:a}] [Prod] MON-4 x' })).toEqual(['MON-4']);
    // A bracket group after Datadog's own is the monitor's name, so an id written there still counts.
    expect(ids({ title: '[P2] [Warn on {host:a}] [MON-10] x' })).toEqual(['MON-10']);
  });

  it('ignores a mon_id that breaks the token rule', () => {
    expect(adaptDatadog({ alert_transition: 'Triggered', mon_id: 'XMON-1', tags: 'mon:MON-12a' }, RECEIVED).map((a) => a.monId)).toEqual([null]);
  });
});

describe('adaptDatadog: numbers where the template left $VARS unquoted', () => {
  const [alert] = adaptDatadog(fixtureJson('datadog-numeric-ids.json'), RECEIVED);

  it('converts ids to strings, drops the 19-digit $ID JSON.parse already rounded, and converts date to an ISO time', () => {
    expect(alert!.values).not.toHaveProperty('event_id');
    expect(alert).toMatchObject({
      status: 'firing',
      monId: 'MON-005',
      fingerprint: '148275309/host:pg-primary-1',
      eventAt: '2026-08-14T09:01:40.000Z',
      values: { transition: 'Warn', alert_type: 'warning' },
    });
  });

  it('accepts quoted and unquoted forms of every scalar id field', () => {
    expect(() => adaptDatadog({ id: 1, alert_id: 2, alert_cycle_key: 3, last_updated: 4, date: 5 }, RECEIVED)).not.toThrow();
    expect(() => adaptDatadog({ id: '1', alert_id: '2', alert_cycle_key: '3', last_updated: '4', date: '5' }, RECEIVED)).not.toThrow();
  });

  it('uses receivedAt when date is absent or empty', () => {
    for (const date of [undefined, '']) {
      const [a] = adaptDatadog({ alert_transition: 'Triggered', date }, RECEIVED);
      expect(a!.eventAt).toBe('2026-08-14T12:00:00.000Z');
    }
  });
});

describe('adaptDatadog: fields', () => {
  it('keeps repeated tag keys, trims spaced tags, and lets hostname win for host', () => {
    const [alert] = adaptDatadog({ alert_transition: 'Triggered', tags: 'team:a, team:b ,host:tagged, url:http://x:1/y', hostname: 'real-host' }, RECEIVED);
    expect(alert!.labels).toEqual({ team: 'a,b', host: 'real-host', url: 'http://x:1/y' });
  });

  it('treats tag keys like __proto__ and constructor as plain keys', () => {
    const [alert] = adaptDatadog({ alert_transition: 'Triggered', tags: '__proto__:x,constructor:y,toString:z' }, RECEIVED);
    expect(Object.entries(alert!.labels)).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
      ['toString', 'z'],
    ]);
    expect(Object.getPrototypeOf(alert!.labels)).toBe(Object.prototype);
  });

  it('keeps only http(s) links', () => {
    expect(adaptDatadog({ alert_transition: 'Triggered', link: 'javascript:alert(1)' }, RECEIVED)[0]!.url).toBeNull();
  });

  it('ignores unknown fields (org, user variables, custom ones)', () => {
    const input = fixtureJson('datadog-triggered.json') as Record<string, unknown>;
    expect(adaptDatadog({ ...input, user: { name: 'x' }, snapshot: 'https://p/x.png', custom: [1] }, RECEIVED)).toEqual(adaptDatadog(input, RECEIVED));
  });
});

describe('adaptDatadog: bad shapes', () => {
  it.each([
    ['a top-level array', fixtureJson('invalid-top-level-array.json'), ['(root): expected a JSON object']],
    ['title as a number', { title: 5 }, ['title: Invalid input: expected string, received number']],
    ['tags as an array', { tags: ['a:b'] }, ['tags: Invalid input: expected string, received array']],
    ['mon_id as a number', { mon_id: 5 }, ['mon_id: Invalid input: expected string, received number']],
    ['body as an object', { body: {} }, ['body: Invalid input: expected string, received object']],
    ['alert_transition null', { alert_transition: null }, ['alert_transition: Invalid input: expected string, received null']],
    ['id as a boolean', { id: true }, ['id: expected a string or a number']],
    ['date not a number', { date: 'yesterday' }, ['date: expected epoch milliseconds']],
    ['date negative', { date: -1 }, ['date: expected epoch milliseconds']],
    ['date fractional', { date: 1.5 }, ['date: expected epoch milliseconds']],
    ['date past the Date range', { date: 9e15 }, ['date: expected epoch milliseconds no later than 9999-12-31T23:59:59.999Z']],
    // Past year 9999 toISOString() writes `+010000-…`, which PostgreSQL refuses: a 500 on every retry before.
    ['date past year 9999', { date: '253402300800000' }, ['date: expected epoch milliseconds no later than 9999-12-31T23:59:59.999Z']],
  ])('%s', (_name, input, issues) => {
    expect(zodIssues(() => adaptDatadog(input, RECEIVED))).toEqual(issues);
  });
});
