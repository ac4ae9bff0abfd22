import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { assertSafeListen } from '../../src/local-mode.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration from the environment', () => {
  it('has working defaults with nothing set', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.databaseUrl).toBeNull();
    expect(config.dataDir).toBe('./data');
    expect(config.runbooksDir).toBe('./runbooks');
    expect(config.publicUrl).toBe('http://127.0.0.1:3000');
    expect(config.reopenWindowMs).toBe(30 * 60_000);
    expect(config.escalationTickMs).toBe(1000);
    expect(config.maxBodyBytes).toBe(1_048_576);
    expect(config.batch).toEqual({ maxWaitMs: 5, maxSize: 200 });
    expect(config.report).toEqual({ cron: '0 9 * * 1', timeZone: 'UTC', contacts: [] });
    // Unset: either name Grafana releases sign under by default is accepted (verify-signature.ts).
    expect(config.webhooks.grafanaSignatureHeader).toBeNull();
  });

  it('reads durations in the one format (500ms, 30s, 5m, 2h, 30d)', () => {
    const config = loadConfig({ ESCALATION_TICK: '500ms', REOPEN_WINDOW: '2h', NOTIFY_TIMEOUT: '30s', BATCH_MAX_WAIT: '12ms' });
    expect(config.escalationTickMs).toBe(500);
    expect(config.reopenWindowMs).toBe(7_200_000);
    expect(config.notify.timeoutMs).toBe(30_000);
    expect(config.batch.maxWaitMs).toBe(12);
  });

  it('reports one clear line per problem', () => {
    const lines = problems({ PORT: 'abc', REOPEN_WINDOW: 'soon', LOG_LEVEL: 'loud', DATABASE_URL: 'not a url', REPORT_TZ: 'Mars/Olympus' });
    expect(lines).toContain('PORT: expected a number from 0 (any free port) to 65535, got "abc"');
    expect(lines.some((l) => l.startsWith('REOPEN_WINDOW: expected a duration like 500ms, 30s, 5m, 2h or 30d, got "soon"'))).toBe(true);
    expect(lines.some((l) => l.startsWith('LOG_LEVEL:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('DATABASE_URL: expected a postgres:// URL'))).toBe(true);
    expect(lines.length).toBe(4);
    expect(problems({ REPORT_TZ: 'Mars/Olympus' })).toEqual(['REPORT_TZ: unknown time zone "Mars/Olympus"']);
    expect(problems({ PORT: '70000' })).toEqual(['PORT: expected a number from 0 (any free port) to 65535, got "70000"']);
    expect(problems({ LOG_LEVEL: 'verbose' })).toEqual(['LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"']);
    expect(loadConfig({ LOG_LEVEL: 'WARN' }).logLevel).toBe('warn');
    expect(problems({ DATABASE_URL: 'http://db.example.com/app' })).toEqual(['DATABASE_URL: expected a postgres:// URL, got "http://db.example.com/app"']);
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@db/app' }).databaseUrl).toBe('postgresql://u@db/app');
  });

  it('refuses durations a timer or a sender cannot work with, saying why', () => {
    // Node fires a timer set past 2^31 ms (24.8 days) at once: ESCALATION_TICK=30d would poll the database non-stop.
    expect(problems({ ESCALATION_TICK: '30d' })).toEqual([
      'ESCALATION_TICK: "30d" is too long, it must be at most 1m: escalations and notifications would go out up to this late, and the matrix counts ack_within in seconds',
    ]);
    expect(problems({ ESCALATION_TICK: '0s' })[0]).toMatch(/^ESCALATION_TICK: "0s" is too short, it must be at least 10ms: /);
    expect(problems({ WEBHOOK_ANSWER_WITHIN: '30d' })[0]).toMatch(/^WEBHOOK_ANSWER_WITHIN: "30d" is too long, it must be at most 10m: /);
    expect(problems({ WEBHOOK_ANSWER_WITHIN: '0ms' })[0]).toMatch(/^WEBHOOK_ANSWER_WITHIN: "0ms" is too short/);
    expect(problems({ NOTIFY_TIMEOUT: '0s' })[0]).toMatch(/^NOTIFY_TIMEOUT: "0s" is too short/);
    expect(problems({ NOTIFY_TIMEOUT: '25d' })[0]).toMatch(/^NOTIFY_TIMEOUT: "25d" is too long/);
    expect(problems({ NOTIFY_BACKOFF: '1h' })[0]).toMatch(/^NOTIFY_BACKOFF: "1h" is too long, it must be at most 5m: /);
    expect(problems({ BATCH_MAX_WAIT: '5m' })[0]).toMatch(/^BATCH_MAX_WAIT: "5m" is too long, it must be at most 1s: /);
    // The edges themselves, and a batch that does not wait at all, are fine.
    const edges = loadConfig({ ESCALATION_TICK: '1m', WEBHOOK_ANSWER_WITHIN: '10ms', NOTIFY_TIMEOUT: '5m', NOTIFY_BACKOFF: '10ms', BATCH_MAX_WAIT: '0ms' });
    expect([edges.escalationTickMs, edges.webhookAnswerWithinMs, edges.notify.timeoutMs, edges.notify.backoffMs, edges.batch.maxWaitMs]).toEqual([60_000, 10, 300_000, 10, 0]);
  });

  it('refuses an answer deadline that BATCH_MAX_WAIT alone can use up', () => {
    expect(problems({ WEBHOOK_ANSWER_WITHIN: '100ms', BATCH_MAX_WAIT: '1s' })).toEqual([
      'WEBHOOK_ANSWER_WITHIN: 100ms leaves no time to commit after BATCH_MAX_WAIT (1000ms), which every delivery may wait first; make it more than twice BATCH_MAX_WAIT',
    ]);
    expect(problems({ WEBHOOK_ANSWER_WITHIN: '2s', BATCH_MAX_WAIT: '1s' })).toHaveLength(1);
    expect(loadConfig({ WEBHOOK_ANSWER_WITHIN: '2010ms', BATCH_MAX_WAIT: '1s' }).webhookAnswerWithinMs).toBe(2010);
  });

  it('never echoes the password of a mistyped DATABASE_URL', () => {
    expect(problems({ DATABASE_URL: 'postgress://postgres:hunter2pw@127.0.0.1:5432/db' })).toEqual(['DATABASE_URL: expected a postgres:// URL, got "postgress://postgres:***@127.0.0.1:5432/db"']);
    // An unencoded /, # or ? in the password is what makes the URL fail to parse.
    for (const password of ['s3cr/et', 'a#b', 'q?x']) {
      expect(problems({ DATABASE_URL: `postgres://app:${password}@db:5432/rr` }), password).toEqual(['DATABASE_URL: expected a postgres:// URL, got "postgres://app:***@db:5432/rr"']);
    }
  });

  it('refuses a webhook secret set to blanks only (a secret that failed to arrive), and takes an unset one as none', () => {
    expect(problems({ ALERTMANAGER_WEBHOOK_TOKEN: '   ', PAGERDUTY_WEBHOOK_SECRETS: ' , ' })).toEqual([
      'ALERTMANAGER_WEBHOOK_TOKEN: set to blanks only; give the secret, or unset it to accept unauthenticated deliveries',
      'PAGERDUTY_WEBHOOK_SECRETS: set to blanks only; give the secret, or unset it to accept unauthenticated deliveries',
    ]);
    expect(loadConfig({}).webhooks).toMatchObject({ pagerduty: [], grafanaHmac: null, alertmanagerToken: null, datadogToken: null });
  });

  it('refuses every source\'s secret set but empty (a missing k8s mount, an unset ${VAR} in compose), not accepting anyone', () => {
    const empty = (name: string) => `${name}: set but empty (what a missing secret mount or an unset \${VAR} gives); give the secret, or unset it to accept unauthenticated deliveries`;
    expect(problems({ DATADOG_WEBHOOK_TOKEN: '' })).toEqual([empty('DATADOG_WEBHOOK_TOKEN')]);
    expect(problems({ DATADOG_WEBHOOK_TOKEN: '', GRAFANA_WEBHOOK_HMAC_SECRET: '', ALERTMANAGER_WEBHOOK_TOKEN: '', PAGERDUTY_WEBHOOK_SECRETS: '' })).toEqual(
      ['DATADOG_WEBHOOK_TOKEN', 'GRAFANA_WEBHOOK_HMAC_SECRET', 'ALERTMANAGER_WEBHOOK_TOKEN', 'PAGERDUTY_WEBHOOK_SECRETS'].map(empty),
    );
    // Reported with the other problems, so one failed start names them all.
    expect(problems({ PORT: 'abc', DATADOG_WEBHOOK_TOKEN: '' })).toEqual(['PORT: expected a number from 0 (any free port) to 65535, got "abc"', empty('DATADOG_WEBHOOK_TOKEN')]);
    // Other settings set empty still mean unset.
    expect(loadConfig({ PORT: '', GRAFANA_SIGNATURE_HEADER: '' })).toMatchObject({ port: 3000, webhooks: { grafanaSignatureHeader: null } });
  });

  it('reads GRAFANA_SIGNATURE_HEADER when set', () => {
    expect(loadConfig({ GRAFANA_SIGNATURE_HEADER: ' X-Grafana-Alert-Signature ' }).webhooks.grafanaSignatureHeader).toBe('X-Grafana-Alert-Signature');
  });

  it('splits comma-separated secrets for rotation', () => {
    const config = loadConfig({ PAGERDUTY_WEBHOOK_SECRETS: ' old-secret , new-secret ', REPORT_CONTACTS: 'sre-leads,db-lead' });
    expect(config.webhooks.pagerduty).toEqual(['old-secret', 'new-secret']);
    expect(config.report.contacts).toEqual(['sre-leads', 'db-lead']);
  });

  it('refuses a non-loopback HOST without responder authentication', () => {
    expect(() => assertSafeListen(loadConfig({ HOST: '0.0.0.0' }))).toThrow(/refusing to listen on 0\.0\.0\.0 without responder authentication/);
    expect(() => assertSafeListen(loadConfig({ HOST: '0.0.0.0', TRUSTED_USER_HEADER: 'X-Forwarded-User' }))).not.toThrow();
    expect(() => assertSafeListen(loadConfig({ HOST: '127.0.0.1' }))).not.toThrow();
  });
});
