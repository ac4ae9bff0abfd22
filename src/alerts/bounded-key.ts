import { createHash } from 'node:crypto';

/**
 * Longest sender-given identity kept verbatim. Fingerprints and delivery ids end up in unique indexes (alert instances,
 * the "no runbook" group key, the inbox), and PostgreSQL refuses an index row over about 2.7 kB: such a delivery would
 * fail with a 500 on every retry and never be applied. 256 UTF-16 units are at most 768 bytes of UTF-8.
 */
export const MAX_KEY_LENGTH = 256;

/** `value` itself when short enough, else `sha256:<hex>` of it: the same input always gives the same key. */
export function boundedKey(value: string): string {
  return value.length <= MAX_KEY_LENGTH ? value : `sha256:${createHash('sha256').update(value, 'utf8').digest('hex')}`;
}
