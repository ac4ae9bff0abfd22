import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SOURCES } from '../../src/alerts/alert.js';
import { hasSecret, signDelivery, verifyDelivery, type WebhookSecrets } from '../../src/alerts/verify-signature.js';
import { wireBody } from '../fixtures/webhooks/fixtures.js';

// Known-answer vectors below were computed with `openssl dgst -sha256 -hmac`, not with the code under test.
const NOW = new Date('2026-08-14T10:00:00.000Z'); // Unix 1786701600
const PD_BODY = Buffer.from('{"event":{"id":"e1"}}');
const PD_SIG_NEW = 'e6d91e0fe59ff2112c4a354f5b2fbbb824edfb339fa408df96e1bb307496077a';
const PD_SIG_OLD = 'ad00ff47857e15c037ca3dda221bd0ef2c0403c40631dbdea5e949d8b9676645';
const GRAFANA_BODY = Buffer.from('{"alerts":[]}');
const GRAFANA_SIG_TS = '7f414e4e38b4891497a38186e630142d66d3bb17e52cba028416ca3a4921c677'; // over `1786701600:{"alerts":[]}`
const GRAFANA_SIG_BODY = '74a28b47026716756e7cfbb2186168caed5c34d5096ed0fb33de1c890d65d6e1'; // over the body alone

const SECRETS: WebhookSecrets = {
  pagerduty: ['pd-secret-new'],
  grafanaHmac: 'grafana-hmac-secret',
  grafanaSignatureHeader: 'X-Grafana-Alerting-Signature',
  grafanaTimestampHeader: 'X-Grafana-Alerting-Timestamp',
  grafanaToleranceS: 300,
  alertmanagerToken: 'am-token-9f8e7d',
  datadogToken: 'dd-token-1a2b3c',
};
const UNCONFIGURED: WebhookSecrets = { ...SECRETS, pagerduty: [], grafanaHmac: null, alertmanagerToken: null, datadogToken: null };

const OK = { ok: true };
const fails = (reason: string) => ({ ok: false, reason });

describe('verifyDelivery: PagerDuty', () => {
  const verify = (headers: Record<string, string | string[] | undefined>, secrets: Partial<WebhookSecrets> = {}, body = PD_BODY) =>
    verifyDelivery('pagerduty', headers, body, { ...SECRETS, ...secrets }, NOW);

  it('accepts a valid v1 signature (Node lower-cases header names)', () => {
    expect(verify({ 'x-pagerduty-signature': `v1=${PD_SIG_NEW}` })).toEqual(OK);
  });

  it('rejects a wrong signature, a tampered body and a missing header', () => {
    expect(verify({ 'x-pagerduty-signature': `v1=${PD_SIG_OLD}` })).toEqual(fails('no v1 signature in X-PagerDuty-Signature matches a configured secret'));
    expect(verify({ 'x-pagerduty-signature': `v1=${PD_SIG_NEW}` }, {}, Buffer.from('{"event":{"id":"e2"}}'))).toEqual(
      fails('no v1 signature in X-PagerDuty-Signature matches a configured secret'),
    );
    expect(verify({})).toEqual(fails('missing X-PagerDuty-Signature header'));
    expect(verify({ 'x-pagerduty-signature': 'v1=' })).toEqual(fails('no v1 signature in X-PagerDuty-Signature matches a configured secret'));
  });

  it('checks the raw bytes, not the parsed JSON', () => {
    const reformatted = Buffer.from('{"event": {"id": "e1"}}');
    expect(verify({ 'x-pagerduty-signature': `v1=${PD_SIG_NEW}` }, {}, reformatted).ok).toBe(false);
  });

  it('rotation: two configured secrets, either one verifies', () => {
    const rotating = { pagerduty: ['pd-secret-new', 'pd-secret-old'] };
    expect(verify({ 'x-pagerduty-signature': `v1=${PD_SIG_NEW}` }, rotating)).toEqual(OK);
    expect(verify({ 'x-pagerduty-signature': `v1=${PD_SIG_OLD}` }, rotating)).toEqual(OK);
  });

  it('rotation: a header with two v1 entries, split on commas and trimmed, any one matching', () => {
    expect(verify({ 'x-pagerduty-signature': `v1=${'0'.repeat(64)}, v1=${PD_SIG_NEW}` })).toEqual(OK);
    expect(verify({ 'x-pagerduty-signature': ` v1=${PD_SIG_NEW} ,v1=${PD_SIG_OLD}` }, { pagerduty: ['pd-secret-old'] })).toEqual(OK);
    // The same list sent as two header lines.
    expect(verify({ 'x-pagerduty-signature': [`v1=${PD_SIG_OLD}`, `v1=${PD_SIG_NEW}`] })).toEqual(OK);
  });

  it('ignores entries of other versions', () => {
    expect(verify({ 'x-pagerduty-signature': `v2=${PD_SIG_NEW}` })).toEqual(fails('X-PagerDuty-Signature has no v1= signature'));
    expect(verify({ 'x-pagerduty-signature': `v0=abc,v1=${PD_SIG_NEW}` })).toEqual(OK);
  });

  it('accepts anything when no secret is configured (local mode)', () => {
    expect(verify({}, { pagerduty: [] })).toEqual(OK);
    expect(verify({}, { pagerduty: [''] })).toEqual(OK);
  });
});

describe('verifyDelivery: Grafana', () => {
  const verify = (headers: Record<string, string>, secrets: Partial<WebhookSecrets> = {}, now = NOW, body = GRAFANA_BODY) =>
    verifyDelivery('grafana', headers, body, { ...SECRETS, ...secrets }, now);
  const withTs = (ts: number | string, sig = GRAFANA_SIG_TS) => ({ 'x-grafana-alerting-signature': sig, 'x-grafana-alerting-timestamp': String(ts) });
  const at = (offsetS: number) => new Date(NOW.getTime() + offsetS * 1000);

  it('accepts HMAC over `<ts>:<body>` inside the window, on both sides and at its edges', () => {
    expect(verify(withTs(1786701600))).toEqual(OK);
    expect(verify(withTs(1786701600), {}, at(300))).toEqual(OK);
    expect(verify(withTs(1786701600), {}, at(-300))).toEqual(OK);
  });

  it('rejects an authentic request outside the ±tolerance window', () => {
    expect(verify(withTs(1786701600), {}, at(301))).toEqual(fails('X-Grafana-Alerting-Timestamp is 301 s away from now, outside ±300 s'));
    expect(verify(withTs(1786701600), {}, at(-301))).toEqual(fails('X-Grafana-Alerting-Timestamp is 301 s away from now, outside ±300 s'));
    expect(verify(withTs(1786701600), { grafanaToleranceS: 30 }, at(31)).ok).toBe(false);
  });

  it('rejects a timestamp that was changed after signing, or is not Unix seconds', () => {
    expect(verify(withTs(1786701601))).toEqual(fails('X-Grafana-Alerting-Signature does not match the timestamp and body'));
    expect(verify(withTs('2026-08-14T10:00:00Z'))).toEqual(fails('X-Grafana-Alerting-Timestamp is not Unix seconds'));
    expect(verify(withTs(''))).toEqual(fails('X-Grafana-Alerting-Timestamp is not Unix seconds'));
  });

  it('without a timestamp header, verifies HMAC over the body alone', () => {
    expect(verify({ 'x-grafana-alerting-signature': GRAFANA_SIG_BODY })).toEqual(OK);
    // A timestamped signature does not verify once the timestamp header is stripped, and vice versa.
    expect(verify({ 'x-grafana-alerting-signature': GRAFANA_SIG_TS })).toEqual(
      fails(
        'X-Grafana-Alerting-Signature does not match the body (no X-Grafana-Alerting-Timestamp header, so the body alone was checked; ' +
          'if the contact point sends its timestamp under another header name, set GRAFANA_TIMESTAMP_HEADER to that name)',
      ),
    );
    // The usual cause: Grafana sent its timestamp under a name other than GRAFANA_TIMESTAMP_HEADER; the reason names the fix.
    expect(verify({ 'x-grafana-alerting-signature': GRAFANA_SIG_TS, 'x-ts': '1786701600' })).toMatchObject({ ok: false, reason: expect.stringContaining('set GRAFANA_TIMESTAMP_HEADER') });
    expect(verify(withTs(1786701600, GRAFANA_SIG_BODY)).ok).toBe(false);
  });

  it('rejects a missing signature, a wrong secret and a tampered body', () => {
    expect(verify({ 'x-grafana-alerting-timestamp': '1786701600' })).toEqual(fails('missing X-Grafana-Alerting-Signature header'));
    expect(verify(withTs(1786701600), { grafanaHmac: 'another-secret' }).ok).toBe(false);
    expect(verify(withTs(1786701600), {}, NOW, Buffer.from('{"alerts":[1]}')).ok).toBe(false);
  });

  it('accepts upper-case hex (hex is case-insensitive)', () => {
    expect(verify(withTs(1786701600, GRAFANA_SIG_TS.toUpperCase()))).toEqual(OK);
  });

  it('reads the configured header names', () => {
    const secrets = { grafanaSignatureHeader: 'X-Router-Sig', grafanaTimestampHeader: 'X-Router-Ts' };
    expect(verify({ 'x-router-sig': GRAFANA_SIG_TS, 'x-router-ts': '1786701600' }, secrets)).toEqual(OK);
    expect(verify(withTs(1786701600), secrets)).toEqual(fails('missing X-Router-Sig header'));
  });

  it('accepts anything when no HMAC secret is configured', () => {
    expect(verify({}, { grafanaHmac: null })).toEqual(OK);
  });

  it('with GRAFANA_SIGNATURE_HEADER unset, accepts either name Grafana releases sign under by default', () => {
    const byDefault = { grafanaSignatureHeader: null };
    expect(verify(withTs(1786701600), byDefault)).toEqual(OK);
    expect(verify({ 'x-grafana-alert-signature': GRAFANA_SIG_TS, 'x-grafana-alerting-timestamp': '1786701600' }, byDefault)).toEqual(OK);
    expect(verify({ 'X-Grafana-Alert-Signature': GRAFANA_SIG_BODY }, byDefault)).toEqual(OK);
    // Either name is still checked like the other: a wrong signature under the second name fails and names it.
    expect(verify({ 'x-grafana-alert-signature': GRAFANA_SIG_BODY, 'x-grafana-alerting-timestamp': '1786701600' }, byDefault)).toEqual(
      fails('X-Grafana-Alert-Signature does not match the timestamp and body'),
    );
    expect(verify({ 'x-grafana-alerting-timestamp': '1786701600' }, byDefault)).toEqual(fails('missing X-Grafana-Alerting-Signature or X-Grafana-Alert-Signature header'));
  });

  it('with GRAFANA_SIGNATURE_HEADER set, reads only that name', () => {
    expect(verify({ 'x-grafana-alert-signature': GRAFANA_SIG_TS, 'x-grafana-alerting-timestamp': '1786701600' })).toEqual(fails('missing X-Grafana-Alerting-Signature header'));
    expect(verify(withTs(1786701600), { grafanaSignatureHeader: 'X-Grafana-Alert-Signature' })).toEqual(fails('missing X-Grafana-Alert-Signature header'));
  });
});

describe('verifyDelivery: Alertmanager bearer token', () => {
  const verify = (headers: Record<string, string>, secrets: Partial<WebhookSecrets> = {}) =>
    verifyDelivery('alertmanager', headers, Buffer.from('{}\n'), { ...SECRETS, ...secrets }, NOW);

  it.each([
    ['Bearer am-token-9f8e7d', OK],
    ['bearer am-token-9f8e7d', OK],
    ['Bearer  am-token-9f8e7d ', OK],
    ['Bearer am-token-9f8e7', fails('wrong bearer token')],
    ['Bearer am-token-9f8e7d0', fails('wrong bearer token')],
    ['Bearer x', fails('wrong bearer token')],
    ['Basic YWxlcnRtYW5hZ2VyOmFtLXRva2VuLTlmOGU3ZA==', fails('Authorization header is not "Bearer <token>"')],
    ['am-token-9f8e7d', fails('Authorization header is not "Bearer <token>"')],
    ['Bearer ', fails('Authorization header is not "Bearer <token>"')],
  ])('Authorization: %j', (authorization, verdict) => {
    expect(verify({ authorization })).toEqual(verdict);
  });

  it('rejects a missing header and accepts anything when unconfigured', () => {
    expect(verify({})).toEqual(fails('missing Authorization header'));
    expect(verify({}, { alertmanagerToken: null })).toEqual(OK);
  });
});

describe('verifyDelivery: Datadog custom header token', () => {
  const verify = (headers: Record<string, string>, secrets: Partial<WebhookSecrets> = {}) =>
    verifyDelivery('datadog', headers, Buffer.from('{}'), { ...SECRETS, ...secrets }, NOW);

  it('accepts the token and rejects others', () => {
    expect(verify({ 'x-runbook-router-token': 'dd-token-1a2b3c' })).toEqual(OK);
    expect(verify({ 'X-Runbook-Router-Token': 'dd-token-1a2b3c' })).toEqual(OK);
    expect(verify({ 'x-runbook-router-token': 'dd-token-1a2b3' })).toEqual(fails('wrong X-Runbook-Router-Token'));
    expect(verify({ 'x-runbook-router-token': 'DD-TOKEN-1A2B3C' })).toEqual(fails('wrong X-Runbook-Router-Token'));
    expect(verify({ authorization: 'Bearer dd-token-1a2b3c' })).toEqual(fails('missing X-Runbook-Router-Token header'));
    expect(verify({ 'x-runbook-router-token': '' })).toEqual(fails('missing X-Runbook-Router-Token header'));
  });

  it('accepts anything when unconfigured', () => {
    expect(verify({}, { datadogToken: null })).toEqual(OK);
  });

  it('never puts a secret in a reason', () => {
    for (const source of SOURCES) {
      const result = verifyDelivery(source, { authorization: 'Bearer nope', 'x-runbook-router-token': 'nope' }, Buffer.from('{}'), SECRETS, NOW);
      expect(result.ok).toBe(false);
      const reason = result.ok ? '' : result.reason;
      for (const secret of ['pd-secret-new', 'grafana-hmac-secret', 'am-token-9f8e7d', 'dd-token-1a2b3c']) expect(reason).not.toContain(secret);
    }
  });
});

describe('hasSecret', () => {
  it.each(SOURCES)('%s: true with its secret configured, false without, as verifyDelivery sees it', (source) => {
    expect(hasSecret(source, SECRETS)).toBe(true);
    expect(hasSecret(source, UNCONFIGURED)).toBe(false);
    expect(verifyDelivery(source, {}, Buffer.from('{}'), UNCONFIGURED, NOW)).toEqual(OK);
  });

  it('takes a PagerDuty list of empty entries as no secret', () => {
    expect(hasSecret('pagerduty', { ...SECRETS, pagerduty: [''] })).toBe(false);
  });
});

describe('signDelivery', () => {
  it('produces the known PagerDuty and Grafana signatures', () => {
    expect(signDelivery('pagerduty', PD_BODY, { ...SECRETS, pagerduty: ['pd-secret-new', 'pd-secret-old'] }, NOW)).toEqual({
      'Content-Type': 'application/json',
      'X-PagerDuty-Signature': `v1=${PD_SIG_NEW},v1=${PD_SIG_OLD}`,
    });
    expect(signDelivery('grafana', GRAFANA_BODY, SECRETS, new Date('2026-08-14T10:00:00.999Z'))).toEqual({
      'Content-Type': 'application/json',
      'X-Grafana-Alerting-Timestamp': '1786701600',
      'X-Grafana-Alerting-Signature': GRAFANA_SIG_TS,
    });
  });

  it('produces the token headers', () => {
    expect(signDelivery('alertmanager', Buffer.from('{}\n'), SECRETS, NOW)).toEqual({ 'Content-Type': 'application/json', Authorization: 'Bearer am-token-9f8e7d' });
    expect(signDelivery('datadog', Buffer.from('{}'), SECRETS, NOW)).toEqual({ 'Content-Type': 'application/json', 'X-Runbook-Router-Token': 'dd-token-1a2b3c' });
  });

  it('signs under the first default Grafana name when GRAFANA_SIGNATURE_HEADER is unset', () => {
    expect(signDelivery('grafana', GRAFANA_BODY, { ...SECRETS, grafanaSignatureHeader: null }, NOW)).toMatchObject({ 'X-Grafana-Alerting-Signature': GRAFANA_SIG_TS });
  });

  it('adds no credentials for an unconfigured source', () => {
    for (const source of SOURCES) expect(signDelivery(source, Buffer.from('{}'), UNCONFIGURED, NOW)).toEqual({ 'Content-Type': 'application/json' });
  });

  it.each([
    ['datadog', 'datadog-triggered.json'],
    ['grafana', 'grafana-firing.json'],
    ['alertmanager', 'alertmanager-batch-mixed.json'],
    ['pagerduty', 'pagerduty-triggered.json'],
  ] as const)('round-trips %s wire bytes through verifyDelivery', (source, file) => {
    const body = wireBody(source, file);
    expect(verifyDelivery(source, signDelivery(source, body, SECRETS, NOW), body, SECRETS, NOW)).toEqual(OK);
    // One flipped byte fails every signed source; the token sources do not sign the body.
    const tampered = Buffer.from(body);
    tampered[5] = tampered[5]! ^ 1;
    const expected = source === 'pagerduty' || source === 'grafana' ? false : true;
    expect(verifyDelivery(source, signDelivery(source, body, SECRETS, NOW), tampered, SECRETS, NOW).ok).toBe(expected);
  });

  it('uses vectors that agree with node:crypto', () => {
    expect(createHmac('sha256', 'grafana-hmac-secret').update('1786701600:{"alerts":[]}').digest('hex')).toBe(GRAFANA_SIG_TS);
  });
});
