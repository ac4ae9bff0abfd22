import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Source } from './alert.js';
import { headerValue, type IncomingHeaders } from './headers.js';

/** One field per environment variable of the webhook spec; a null or empty secret means "not configured". */
export interface WebhookSecrets {
  /** PAGERDUTY_WEBHOOK_SECRETS, split on `,`: several during rotation. */
  pagerduty: string[];
  grafanaHmac: string | null;
  /** GRAFANA_SIGNATURE_HEADER, or null when it is not set: then either name Grafana sends by default is accepted. */
  grafanaSignatureHeader: string | null;
  grafanaTimestampHeader: string;
  grafanaToleranceS: number;
  alertmanagerToken: string | null;
  datadogToken: string | null;
}

export type Verification = { ok: true } | { ok: false; reason: string };

export const PAGERDUTY_SIGNATURE_HEADER = 'X-PagerDuty-Signature';
export const DATADOG_TOKEN_HEADER = 'X-Runbook-Router-Token';
/**
 * Grafana's default signature header is `X-Grafana-Alerting-Signature` in some releases and `X-Grafana-Alert-Signature`
 * in others; a contact point left at its default must work either way. The first is the one signDelivery uses.
 */
const GRAFANA_DEFAULT_SIGNATURE_HEADERS = ['X-Grafana-Alerting-Signature', 'X-Grafana-Alert-Signature'] as const;

const OK: Verification = { ok: true };
const fail = (reason: string): Verification => ({ ok: false, reason });

/**
 * Equality that takes the same time wherever the strings differ. Both sides are hashed first so the buffers always
 * have equal length: timingSafeEqual throws on a length mismatch, and an early length check would leak the length.
 */
export function constantTimeEqual(received: string, expected: string): boolean {
  const a = createHash('sha256').update(received, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function hmacHex(secret: string, ...parts: Buffer[]): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8'));
  for (const part of parts) mac.update(part);
  return mac.digest('hex');
}

/**
 * Whether `source`'s deliveries are authenticated, i.e. its secret is configured. verifyDelivery and the start-up warning
 * about unauthenticated sources both ask this, so the warning cannot miss a source that accepts anyone.
 */
export function hasSecret(source: Source, secrets: WebhookSecrets): boolean {
  switch (source) {
    case 'pagerduty':
      return secrets.pagerduty.some((s) => s !== '');
    case 'grafana':
      return Boolean(secrets.grafanaHmac);
    case 'alertmanager':
      return Boolean(secrets.alertmanagerToken);
    case 'datadog':
      return Boolean(secrets.datadogToken);
  }
}

/**
 * Authenticates a delivery over its raw bytes, before any parsing. A source without a configured secret is accepted
 * (local or trial mode; the service warns about it at start). Reasons name what is wrong, never a secret.
 */
export function verifyDelivery(source: Source, headers: IncomingHeaders, rawBody: Buffer, secrets: WebhookSecrets, now: Date): Verification {
  if (!hasSecret(source, secrets)) return OK;
  switch (source) {
    case 'pagerduty':
      return verifyPagerduty(headers, rawBody, secrets.pagerduty.filter((s) => s !== ''));
    case 'grafana':
      return verifyGrafana(headers, rawBody, secrets, now);
    case 'alertmanager':
      return verifyBearer(headers, secrets.alertmanagerToken);
    case 'datadog':
      return verifyHeaderToken(headers, DATADOG_TOKEN_HEADER, secrets.datadogToken);
  }
}

function verifyPagerduty(headers: IncomingHeaders, rawBody: Buffer, secrets: string[]): Verification {
  if (secrets.length === 0) return OK;
  const header = headerValue(headers, PAGERDUTY_SIGNATURE_HEADER);
  if (header === undefined) return fail(`missing ${PAGERDUTY_SIGNATURE_HEADER} header`);
  const signatures = header
    .split(',')
    .map((entry) => entry.trim())
    // Other versions are ignored, as PagerDuty asks, so a future v2 scheme does not break us.
    .filter((entry) => entry.startsWith('v1='))
    .map((entry) => entry.slice(3).toLowerCase());
  if (signatures.length === 0) return fail(`${PAGERDUTY_SIGNATURE_HEADER} has no v1= signature`);
  const expected = secrets.map((secret) => hmacHex(secret, rawBody));
  // Every pair is compared (no early exit) so the time taken does not tell which secret or entry matched.
  let matched = false;
  for (const signature of signatures) for (const digest of expected) matched = constantTimeEqual(signature, digest) || matched;
  return matched ? OK : fail(`no v1 signature in ${PAGERDUTY_SIGNATURE_HEADER} matches a configured secret`);
}

function grafanaSignatureHeaders(secrets: WebhookSecrets): readonly string[] {
  return secrets.grafanaSignatureHeader === null ? GRAFANA_DEFAULT_SIGNATURE_HEADERS : [secrets.grafanaSignatureHeader];
}

/** The first of `names` that has a value, lower-cased for the hex comparison. */
function firstSignature(headers: IncomingHeaders, names: readonly string[]): { name: string; signature: string } | undefined {
  for (const name of names) {
    const signature = headerValue(headers, name)?.trim().toLowerCase();
    if (signature) return { name, signature };
  }
  return undefined;
}

function verifyGrafana(headers: IncomingHeaders, rawBody: Buffer, secrets: WebhookSecrets, now: Date): Verification {
  const secret = secrets.grafanaHmac;
  if (secret === null || secret === '') return OK;
  const names = grafanaSignatureHeaders(secrets);
  const found = firstSignature(headers, names);
  if (!found) return fail(`missing ${names.join(' or ')} header`);
  const { name: signatureHeader, signature } = found;
  const timestamp = headerValue(headers, secrets.grafanaTimestampHeader)?.trim();
  if (timestamp === undefined) {
    // Grafana can be configured without a timestamp header; then the body alone is signed and there is no replay window.
    // The usual cause of a mismatch here is a contact point that names its timestamp header differently: Grafana has no
    // default name, so the reason says which header was looked for rather than suggesting the secret is wrong.
    return constantTimeEqual(signature, hmacHex(secret, rawBody))
      ? OK
      : fail(
          `${signatureHeader} does not match the body (no ${secrets.grafanaTimestampHeader} header, so the body alone was checked; ` +
            'if the contact point sends its timestamp under another header name, set GRAFANA_TIMESTAMP_HEADER to that name)',
        );
  }
  if (!/^\d{1,15}$/.test(timestamp)) return fail(`${secrets.grafanaTimestampHeader} is not Unix seconds`);
  if (!constantTimeEqual(signature, hmacHex(secret, Buffer.from(`${timestamp}:`, 'utf8'), rawBody))) {
    return fail(`${signatureHeader} does not match the timestamp and body`);
  }
  // Checked after the signature so "stale" is only ever said of a request that is otherwise authentic.
  const skewS = Math.abs(now.getTime() / 1000 - Number(timestamp));
  if (skewS > secrets.grafanaToleranceS) {
    return fail(`${secrets.grafanaTimestampHeader} is ${Math.round(skewS)} s away from now, outside ±${secrets.grafanaToleranceS} s`);
  }
  return OK;
}

function verifyBearer(headers: IncomingHeaders, token: string | null): Verification {
  if (token === null || token === '') return OK;
  const header = headerValue(headers, 'Authorization');
  if (header === undefined) return fail('missing Authorization header');
  // The scheme is case-insensitive (RFC 9110); Alertmanager sends `Bearer` unless the config names another type.
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) return fail('Authorization header is not "Bearer <token>"');
  return constantTimeEqual(match[1], token) ? OK : fail('wrong bearer token');
}

function verifyHeaderToken(headers: IncomingHeaders, name: string, token: string | null): Verification {
  if (token === null || token === '') return OK;
  const value = headerValue(headers, name)?.trim();
  if (!value) return fail(`missing ${name} header`);
  return constantTimeEqual(value, token) ? OK : fail(`wrong ${name}`);
}

/**
 * The headers a real sender would attach to `rawBody` (authentication plus Content-Type), for tests and for the
 * `demo` command posting examples to a running service. A source without a configured secret gets no auth header.
 */
export function signDelivery(source: Source, rawBody: Buffer, secrets: WebhookSecrets, now: Date): Record<string, string> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  switch (source) {
    case 'pagerduty': {
      const configured = secrets.pagerduty.filter((s) => s !== '');
      // During rotation PagerDuty signs with every active secret, one v1 entry each.
      if (configured.length > 0) headers[PAGERDUTY_SIGNATURE_HEADER] = configured.map((s) => `v1=${hmacHex(s, rawBody)}`).join(',');
      break;
    }
    case 'grafana': {
      if (secrets.grafanaHmac) {
        const timestamp = String(Math.floor(now.getTime() / 1000));
        headers[secrets.grafanaTimestampHeader] = timestamp;
        headers[secrets.grafanaSignatureHeader ?? GRAFANA_DEFAULT_SIGNATURE_HEADERS[0]] = hmacHex(secrets.grafanaHmac, Buffer.from(`${timestamp}:`, 'utf8'), rawBody);
      }
      break;
    }
    case 'alertmanager':
      if (secrets.alertmanagerToken) headers.Authorization = `Bearer ${secrets.alertmanagerToken}`;
      break;
    case 'datadog':
      if (secrets.datadogToken) headers[DATADOG_TOKEN_HEADER] = secrets.datadogToken;
      break;
  }
  return headers;
}
