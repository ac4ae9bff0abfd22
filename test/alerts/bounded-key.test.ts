import { describe, expect, it } from 'vitest';
import { adaptAlertmanager } from '../../src/alerts/alertmanager.js';
import { boundedKey, MAX_KEY_LENGTH } from '../../src/alerts/bounded-key.js';
import { adaptDatadog } from '../../src/alerts/datadog.js';
import { deliveryKey } from '../../src/alerts/delivery-key.js';
import { adaptPagerduty } from '../../src/alerts/pagerduty.js';
import { fixtureJson } from '../fixtures/webhooks/fixtures.js';

const RECEIVED = new Date('2026-08-14T12:00:00.000Z');
const LONG = 'f'.repeat(MAX_KEY_LENGTH + 1);
const HASHED = /^sha256:[0-9a-f]{64}$/;

describe('boundedKey: sender identities stay short enough for a unique index', () => {
  it('keeps a key of up to MAX_KEY_LENGTH as it is', () => {
    expect(boundedKey('adb2b69742b0474d')).toBe('adb2b69742b0474d');
    expect(boundedKey('f'.repeat(MAX_KEY_LENGTH))).toBe('f'.repeat(MAX_KEY_LENGTH));
  });

  it('hashes a longer one, the same way every time, and differently for different input', () => {
    expect(boundedKey(LONG)).toMatch(HASHED);
    expect(boundedKey(LONG)).toBe(boundedKey(LONG));
    expect(boundedKey(`${LONG}g`)).not.toBe(boundedKey(LONG));
  });

  it('bounds the fingerprint of every adapter that takes it from sender text', () => {
    const am = fixtureJson('alertmanager-firing.json') as { alerts: { fingerprint: string }[] };
    am.alerts[0]!.fingerprint = LONG;
    expect(adaptAlertmanager(am, RECEIVED)[0]!.fingerprint).toBe(boundedKey(LONG));

    const dd = fixtureJson('datadog-triggered.json') as Record<string, unknown>;
    dd.alert_scope = LONG;
    expect(adaptDatadog(dd, RECEIVED)[0]!.fingerprint).toMatch(HASHED);

    const pd = fixtureJson('pagerduty-triggered.json') as { event: { data: { id: string } } };
    pd.event.data.id = LONG;
    expect(adaptPagerduty(pd, RECEIVED)[0]!.fingerprint).toBe(boundedKey(LONG));
  });

  it('bounds a PagerDuty X-Webhook-Id, which the signature does not cover', () => {
    expect(deliveryKey('pagerduty', { 'x-webhook-id': LONG }, Buffer.from('{}'))).toBe(boundedKey(LONG));
  });
});
