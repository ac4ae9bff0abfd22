import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
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
import { BodyAborted, readRawBody } from './read-raw-body.js';

export interface WebhookDeps {
  db: Db;
  ingest: IngestBatcher;
  secrets: WebhookSecrets;
  maxBodyBytes: number;
  /** WEBHOOK_ANSWER_WITHIN: senders give up waiting (PagerDuty at 5 s), so a commit that takes longer is answered 503. */
  answerWithinMs: number;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
}

/** Headers worth keeping with a delivery; never the ones that carry secrets. */
const KEPT_HEADERS = ['content-type', 'user-agent', 'x-webhook-id', 'x-webhook-subscription', 'x-grafana-alerting-timestamp'];

const isSource = (s: string): s is Source => (SOURCES as readonly string[]).includes(s);

const JSON_CONTENT_TYPE = /^application\/([\w.+-]*\+)?json\b/i;

// PostgreSQL's text and jsonb cannot hold U+0000, and its json input refuses a lone UTF-16 surrogate (`"\ud800"` with no
// low half after it): a string that has either would fail its transaction on every retry, a 500 the sender retries forever.
const NUL_STAND_IN = '\uFFFD';

/** Only an escape can put either into a parsed string: raw NUL is not valid JSON, and bytes that are not UTF-8 decode as U+FFFD. */
const UNSTORABLE_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const storable = (text: string): string => text.replaceAll('\0', NUL_STAND_IN).replace(LONE_SURROGATE, NUL_STAND_IN);

/** JSON.parse's reviver for a body with such an escape: every string and key gets U+FFFD for each NUL or lone surrogate. */
function storableStrings(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return storable(value);
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).some((k) => storable(k) !== k)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), v]));
  }
  return value;
}

/** The delivery's commit did not finish within WEBHOOK_ANSWER_WITHIN; it may still finish, which the inbox makes harmless. */
class CommitTooSlow extends Error {}

function committedWithin<T>(commit: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CommitTooSlow()), ms);
  });
  return Promise.race([commit, late]).finally(() => clearTimeout(timer));
}

/** Answers JSON with plain node:http calls, so the same route serves Express and the bare server's fast path. */
function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** `POST /webhooks/:source` on node's own request and response: what Express and the bare fast path both call. */
export type WebhookRoute = (req: IncomingMessage, res: ServerResponse, source: string) => Promise<void>;

/**
 * POST /webhooks/:source — size, authentication over the raw bytes, JSON, schema, then the group-committed receive path.
 * The body is read once, as bytes: the signature is checked over them, the delivery key hashes them, and they are parsed
 * once. It answers itself, with no framework on the way: this is the hot path, and every outcome is counted by source.
 */
export function webhookRoute(deps: WebhookDeps): WebhookRoute {
  return async (req, res, source) => {
    if (!isSource(source)) {
      send(res, 404, { error: `unknown source "${source}"; use one of ${SOURCES.join(', ')}` });
      return;
    }
    if (req.method === 'PUT' && source !== 'grafana') {
      send(res, 405, { error: `PUT is only accepted for grafana; use POST /webhooks/${source}` }, { Allow: 'POST' });
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
        // The rest of the body is read and thrown away; closing after the answer spares reading more of it on this socket.
        send(res, error.status, { error: error.message }, { Connection: 'close' });
        return;
      }
      if (error instanceof BodyAborted) {
        // Nothing was received, so nothing is lost: the sender, which got no answer, sends it again.
        count('aborted');
        deps.logger.info({ source }, 'webhook sender closed the connection before its body was complete');
        return;
      }
      throw error;
    }

    const verified = verifyDelivery(source, req.headers, raw, deps.secrets, receivedAt);
    if (!verified.ok) {
      count('unauthorized');
      deps.logger.warn({ source, reason: verified.reason }, 'webhook authentication failed');
      send(res, 401, { error: `authentication failed: ${verified.reason}` });
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
        await deps.db.insertInto('rejected_deliveries').values({ source, received_at: receivedAt, status_code: 400, reason, raw_body: text.replaceAll('\0', NUL_STAND_IN), headers: JSON.stringify(headers) }).execute();
      } catch (error) {
        deps.logger.error({ err: error, source }, 'could not keep a rejected delivery');
      }
      send(res, 400, { error: reason, ...details });
    };

    const contentType = req.headers['content-type'];
    if (contentType && !JSON_CONTENT_TYPE.test(contentType)) {
      await reject(`Content-Type must be application/json, got "${contentType}" (in Datadog, untick "Encode as form")`);
      return;
    }
    // Any non-whitespace character (without copying the body as trim() would).
    if (!/\S/.test(text)) {
      await reject('empty body: expected a JSON object');
      return;
    }
    let body: unknown;
    try {
      body = UNSTORABLE_ESCAPE.test(text) ? JSON.parse(text, storableStrings) : JSON.parse(text);
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

    // While the delivery waits for its commit, only what is stored stays referenced (a Grafana body parses into thousands of objects).
    const delivery = { source, deliveryKey: deliveryKey(source, req.headers, raw), rawBody: text, headers, receivedAt, alerts };
    body = undefined;
    try {
      const outcome = await committedWithin(deps.ingest.submit(delivery), deps.answerWithinMs);
      count(outcome.duplicate ? 'duplicate' : 'accepted');
      // A duplicate's alerts were counted with the delivery that was applied: a sender's retries must not read as more
      // alerts. One increment per status, not per alert: a Grafana delivery carries up to hundreds.
      if (!outcome.duplicate) {
        const byStatus = new Map<string, number>();
        for (const alert of alerts) byStatus.set(alert.status, (byStatus.get(alert.status) ?? 0) + 1);
        for (const [status, n] of byStatus) deps.metrics.alertsReceived.inc({ source, status }, n);
      }
      send(res, 202, { incidents: outcome.incidentIds, duplicate: outcome.duplicate, alerts: alerts.length });
    } catch (error) {
      if (error instanceof CommitTooSlow) {
        count('unavailable');
        deps.logger.warn({ source, ms: deps.answerWithinMs }, 'delivery not committed in time; answered 503 so the sender retries');
        send(res, 503, { error: `not committed within ${deps.answerWithinMs} ms (the database is slow or unavailable); retry: if it is applied meanwhile, the retry is answered as a duplicate` }, { 'Retry-After': '5' });
        return;
      }
      if (isTransientDbError(error)) {
        count('unavailable');
        deps.logger.warn({ err: error, source }, 'database unavailable; delivery refused so the sender retries');
        send(res, 503, { error: 'database unavailable; nothing was applied, retry later' }, { 'Retry-After': '5' });
        return;
      }
      count('error');
      deps.logger.error({ err: error, source }, 'delivery failed');
      send(res, 500, { error: 'internal error; nothing was applied, retry later' });
    }
  };
}

/** The route mounted in Express (`app.post('/webhooks/:source', …)`); anything it throws goes to the error middleware. */
export function webhookHandler(deps: WebhookDeps): RequestHandler {
  const route = webhookRoute(deps);
  return (req, res, next) => route(req, res, String(req.params.source)).catch(next);
}

/** `/webhooks/<letters>` with an optional query: the plain form every sender uses. Anything else goes through Express. */
const PLAIN_WEBHOOK_URL = /^\/webhooks\/([a-z]+)(?:\?|$)/;

/**
 * The server's request listener: a webhook POST/PUT in its plain form goes straight to the route, without Express's
 * routing, request/response decoration and ETag (tens of µs a request, as much as the rest of the receive path's CPU);
 * everything else, and every unusual spelling of a webhook URL, goes to Express, which serves the same route.
 * Timing and the request log line are the same as Express's middleware records.
 */
export function webhookFastPath(deps: WebhookDeps, fallback: RequestListener): RequestListener {
  const route = webhookRoute(deps);
  return (req, res) => {
    const method = req.method;
    const match = method === 'POST' || method === 'PUT' ? PLAIN_WEBHOOK_URL.exec(req.url ?? '') : null;
    if (!match) {
      fallback(req, res);
      return;
    }
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      deps.metrics.httpDuration.observe({ route: 'webhook', status: `${Math.floor(res.statusCode / 100)}xx` }, seconds);
      if (deps.logger.isLevelEnabled('info')) deps.logger.info({ method, url: req.url, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request');
    });
    route(req, res, match[1]!).catch((error: unknown) => {
      deps.logger.error({ err: error, url: req.url }, 'unhandled error');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };
}
