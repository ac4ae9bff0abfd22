import { createHash } from 'node:crypto';
import type { Source } from './alert.js';
import { boundedKey } from './bounded-key.js';
import { headerValue, type IncomingHeaders } from './headers.js';

/**
 * Identifies a delivery so a retry is acknowledged without being applied twice. Only PagerDuty sends a delivery id
 * (`X-Webhook-Id`, the same on every retry); for the others a retry repeats the exact bytes, so their hash is the id.
 * Datadog's `$ID` is not used: unquoted it can exceed 2^53 and JSON.parse rounds it.
 */
export function deliveryKey(source: Source, headers: IncomingHeaders, rawBody: Buffer): string {
  if (source === 'pagerduty') {
    const webhookId = headerValue(headers, 'X-Webhook-Id')?.trim();
    // The header is not covered by the signature, so its length is the sender's to choose; the inbox key must stay indexable.
    if (webhookId) return boundedKey(webhookId);
  }
  return createHash('sha256').update(`${source}\n`, 'utf8').update(rawBody).digest('hex');
}
