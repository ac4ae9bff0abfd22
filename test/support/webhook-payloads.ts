import fs from 'node:fs';
import path from 'node:path';
import type { Source } from '../../src/alerts/alert.js';
import { signDelivery, type WebhookSecrets } from '../../src/alerts/verify-signature.js';
import { ROOT } from './test-service.js';

const FIXTURES = path.join(ROOT, 'test/fixtures/webhooks');

/** A fixture as the sender puts it on the wire (send it as a string: supertest would JSON-encode a Buffer): Go-style compact JSON (Alertmanager's ends with a newline). */
export function wireBody(name: string, edit?: (body: any) => void): string {
  const body = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));
  edit?.(body);
  const text = JSON.stringify(body);
  return name.startsWith('alertmanager') ? `${text}\n` : text;
}

export const NO_SECRETS: WebhookSecrets = {
  pagerduty: [],
  grafanaHmac: null,
  grafanaSignatureHeader: 'X-Grafana-Alerting-Signature',
  grafanaTimestampHeader: 'X-Grafana-Alerting-Timestamp',
  grafanaToleranceS: 300,
  alertmanagerToken: null,
  datadogToken: null,
};

export function signedHeaders(source: Source, body: string, secrets: WebhookSecrets = NO_SECRETS, now = new Date()): Record<string, string> {
  return signDelivery(source, Buffer.from(body, 'utf8'), secrets, now);
}

/** An Alertmanager delivery of one alert, built from the firing fixture. */
export function alertmanagerAlert(opts: { monId?: string | null; fingerprint: string; status?: 'firing' | 'resolved'; startsAt?: string; endsAt?: string; labels?: Record<string, string>; annotations?: Record<string, string>; groupKey?: string }): string {
  return wireBody('alertmanager-firing', (body) => {
    const template = body.alerts[0];
    const labels = { ...template.labels, ...(opts.labels ?? {}) };
    if (opts.monId === null) delete labels.mon_id;
    else if (opts.monId) labels.mon_id = opts.monId;
    if (opts.monId === null) labels.alertname = 'UnlabelledAlert';
    const annotations = { ...template.annotations, ...(opts.annotations ?? {}) };
    if (opts.monId === null) annotations.summary = 'Something with no monitor id';
    const status = opts.status ?? 'firing';
    body.status = status;
    body.groupKey = opts.groupKey ?? body.groupKey;
    body.alerts = [
      {
        ...template,
        status,
        labels,
        annotations,
        fingerprint: opts.fingerprint,
        startsAt: opts.startsAt ?? template.startsAt,
        endsAt: opts.endsAt ?? (status === 'resolved' ? '2026-08-14T10:30:00Z' : '0001-01-01T00:00:00Z'),
      },
    ];
  });
}
