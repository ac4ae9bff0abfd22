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
    expect(config.webhooks.grafanaSignatureHeader).toBe('X-Grafana-Alerting-Signature');
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
    expect(lines).toContain('PORT: expected a number from 1 to 65535, got "abc"');
    expect(lines.some((l) => l.startsWith('REOPEN_WINDOW: expected a duration like 500ms, 30s, 5m, 2h or 30d, got "soon"'))).toBe(true);
    expect(lines.some((l) => l.startsWith('LOG_LEVEL:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('DATABASE_URL: expected a postgres:// URL'))).toBe(true);
    expect(lines.length).toBe(4);
    expect(problems({ REPORT_TZ: 'Mars/Olympus' })).toEqual(['REPORT_TZ: unknown time zone "Mars/Olympus"']);
    expect(problems({ PORT: '70000' })).toEqual(['PORT: expected a number from 1 to 65535, got "70000"']);
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
