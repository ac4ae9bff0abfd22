import type { RequestHandler } from 'express';
import { ZodError } from 'zod';
import { adapters } from '../alerts/adapters.js';
import { SOURCES, type Source } from '../alerts/alert.js';
import { deliveryKey } from '../alerts/delivery-key.js';
import { verifyDelivery, type WebhookSecrets } from '../alerts/verify-signature.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/create-db.js';
import { isTransientDbError } from '../db/transient-error.js';
import type { IngestBatcher } from '../incidents/ingest-batcher.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { describeZodError } from './error-handler.js';
import { HttpError } from './http-error.js';
import { readRawBody } from './read-raw-body.js';

export interface WebhookDeps {
  db: Db;
  ingest: IngestBatcher;
  secrets: WebhookSecrets;
  maxBodyBytes: number;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
}

/** Headers worth keeping with a delivery; never the ones that carry secrets. */
const KEPT_HEADERS = ['content-type', 'user-agent', 'x-webhook-id', 'x-webhook-subscription', 'x-grafana-alerting-timestamp'];

const isSource = (s: string): s is Source => (SOURCES as readonly string[]).includes(s);

/**
 * POST /webhooks/:source — size, authentication over the raw bytes, JSON, schema, then the group-committed receive path.
 * It answers itself rather than through the error middleware: this is the hot path and every outcome is counted by source.
 */
export function webhookHandler(deps: WebhookDeps): RequestHandler {
  return async (req, res) => {
    const source = String(req.params.source);
    if (!isSource(source)) {
      res.status(404).json({ error: `unknown source "${source}"; use one of ${SOURCES.join(', ')}` });
      return;
    }
    if (req.method === 'PUT' && source !== 'grafana') {
      res.status(405).setHeader('Allow', 'POST').json({ error: `PUT is only accepted for grafana; use POST /webhooks/${source}` });
      return;
    }
    const count = (outcome: string) => deps.metrics.deliveries.inc({ source, outcome });
    const receivedAt = deps.clock.now();

    let raw: Buffer;
    try {
      raw = await readRawBody(req, deps.maxBodyBytes);
    } catch (error) {
      if (error instanceof HttpError) {
        count('too_large');
        res.status(error.status).json({ error: error.message });
        return;
      }
      throw error;
    }

    const verified = verifyDelivery(source, req.headers, raw, deps.secrets, receivedAt);
    if (!verified.ok) {
      count('unauthorized');
      deps.logger.warn({ source, reason: verified.reason }, 'webhook authentication failed');
      res.status(401).json({ error: `authentication failed: ${verified.reason}` });
      return;
    }

    const headers: Record<string, string> = {};
    for (const name of KEPT_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const text = raw.toString('utf8');
    const reject = async (reason: string, details: Record<string, unknown> = {}) => {
      count('rejected');
      try {
        await deps.db.insertInto('rejected_deliveries').values({ source, received_at: receivedAt, status_code: 400, reason, raw_body: text, headers: JSON.stringify(headers) }).execute();
      } catch (error) {
        deps.logger.error({ err: error, source }, 'could not keep a rejected delivery');
      }
      res.status(400).json({ error: reason, ...details });
    };

    const contentType = req.headers['content-type'];
    if (contentType && !/^application\/([\w.+-]*\+)?json\b/i.test(contentType)) {
      await reject(`Content-Type must be application/json, got "${contentType}" (in Datadog, untick "Encode as form")`);
      return;
    }
    if (!text.trim()) {
      await reject('empty body: expected a JSON object');
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      await reject(`body is not valid JSON: ${(error as Error).message}`);
      return;
    }
    let alerts;
    try {
      alerts = adapters[source](body, receivedAt);
    } catch (error) {
      if (error instanceof ZodError) {
        const issues = describeZodError(error);
        await reject(`invalid ${source} payload: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
        return;
      }
      throw error;
    }

    try {
      const outcome = await deps.ingest.submit({ source, deliveryKey: deliveryKey(source, req.headers, raw), rawBody: text, headers, receivedAt, alerts });
      count(outcome.duplicate ? 'duplicate' : 'accepted');
      for (const alert of alerts) deps.metrics.alertsReceived.inc({ source, status: alert.status });
      res.status(202).json({ incidents: outcome.incidentIds, duplicate: outcome.duplicate, alerts: alerts.length });
    } catch (error) {
      if (isTransientDbError(error)) {
        count('unavailable');
        deps.logger.warn({ err: error, source }, 'database unavailable; delivery refused so the sender retries');
        res.setHeader('Retry-After', '5');
        res.status(503).json({ error: 'database unavailable; nothing was applied, retry later' });
        return;
      }
      count('error');
      deps.logger.error({ err: error, source }, 'delivery failed');
      res.status(500).json({ error: 'internal error; nothing was applied, retry later' });
    }
  };
}
