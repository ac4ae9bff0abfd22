import { timingSafeEqual } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Source } from '../../src/alerts/alert.js';
import { signDelivery, verifyDelivery, type WebhookSecrets } from '../../src/alerts/verify-signature.js';

// Wraps the real timingSafeEqual so the test sees every comparison the verifier makes.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const NOW = new Date('2026-08-14T10:00:00.000Z');
const SECRETS: WebhookSecrets = {
  pagerduty: ['pd-secret-new', 'pd-secret-old'],
  grafanaHmac: 'grafana-hmac-secret',
  grafanaSignatureHeader: 'X-Grafana-Alerting-Signature',
  grafanaTimestampHeader: 'X-Grafana-Alerting-Timestamp',
  grafanaToleranceS: 300,
  alertmanagerToken: 'am-token-9f8e7d',
  datadogToken: 'dd-token-1a2b3c',
};
const BODY = Buffer.from('{"alerts":[]}');

/** Credentials that are wrong and of a different length than the right ones: a plain === or an early length check would short-cut. */
const WRONG: Record<Source, Record<string, string>> = {
  pagerduty: { 'x-pagerduty-signature': 'v1=abc' },
  grafana: { 'x-grafana-alerting-signature': 'abc' },
  alertmanager: { authorization: 'Bearer a' },
  datadog: { 'x-runbook-router-token': 'a-much-longer-token-than-the-configured-one' },
};

const mocked = vi.mocked(timingSafeEqual);

describe('constant-time comparison', () => {
  // A braced body: a function returned from beforeEach is run as teardown, and mockClear returns the mock itself.
  beforeEach(() => {
    mocked.mockClear();
  });

  it.each(['pagerduty', 'grafana', 'alertmanager', 'datadog'] as const)('%s compares equal-length digests with timingSafeEqual, right or wrong', (source) => {
    expect(verifyDelivery(source, signDelivery(source, BODY, SECRETS, NOW), BODY, SECRETS, NOW)).toEqual({ ok: true });
    expect(mocked).toHaveBeenCalled();
    const callsForValid = mocked.mock.calls.length;
    const wrong = verifyDelivery(source, WRONG[source], BODY, SECRETS, NOW);
    expect(wrong.ok).toBe(false);
    expect(mocked.mock.calls.length).toBeGreaterThan(callsForValid);
    for (const [a, b] of mocked.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
  });

  it('compares every PagerDuty entry against every secret, without stopping at the first match', () => {
    const header = signDelivery('pagerduty', BODY, SECRETS, NOW)['X-PagerDuty-Signature']!;
    verifyDelivery('pagerduty', { 'x-pagerduty-signature': header }, BODY, SECRETS, NOW);
    expect(mocked).toHaveBeenCalledTimes(4);
  });
});
