import { describe, expect, it } from 'vitest';
import { deliveryKey } from '../../src/alerts/delivery-key.js';

// Expected hashes computed with `printf 'pagerduty\n{"event":{"id":"e1"}}' | sha256sum`.
const BODY = Buffer.from('{"event":{"id":"e1"}}');

describe('deliveryKey', () => {
  it('uses the PagerDuty X-Webhook-Id, the same on every retry', () => {
    expect(deliveryKey('pagerduty', { 'x-webhook-id': '0b5a3f8e-3f4c-4c2e-9d44-1f6c1c0e2a77' }, BODY)).toBe('0b5a3f8e-3f4c-4c2e-9d44-1f6c1c0e2a77');
    expect(deliveryKey('pagerduty', { 'X-Webhook-Id': ' abc ' }, BODY)).toBe('abc');
  });

  it('falls back to sha256(source + "\\n" + body)', () => {
    expect(deliveryKey('pagerduty', {}, BODY)).toBe('b7880725c24f3b5a19d4aac14e276a4965ad80650f8dd2c22ee856c184b1bb1e');
    expect(deliveryKey('pagerduty', { 'x-webhook-id': '' }, BODY)).toBe('b7880725c24f3b5a19d4aac14e276a4965ad80650f8dd2c22ee856c184b1bb1e');
    expect(deliveryKey('alertmanager', {}, BODY)).toBe('9dd3453cb291b0db474dd02e682753a484305e71521e48ae0e88366d9e8e9f73');
  });

  it('ignores X-Webhook-Id for other sources: only PagerDuty defines it', () => {
    expect(deliveryKey('alertmanager', { 'x-webhook-id': 'abc' }, BODY)).toBe('9dd3453cb291b0db474dd02e682753a484305e71521e48ae0e88366d9e8e9f73');
  });

  it('differs by source and by any byte of the body', () => {
    const keys = new Set([
      deliveryKey('grafana', {}, BODY),
      deliveryKey('datadog', {}, BODY),
      deliveryKey('grafana', {}, Buffer.from('{"event":{"id":"e2"}}')),
      deliveryKey('grafana', {}, Buffer.concat([BODY, Buffer.from('\n')])),
    ]);
    expect(keys.size).toBe(4);
  });
});
