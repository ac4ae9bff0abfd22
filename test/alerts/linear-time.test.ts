import { describe, expect, it } from 'vitest';
import { adaptDatadog } from '../../src/alerts/datadog.js';
import { parseDatadogTitle } from '../../src/alerts/datadog-title.js';
import { monIdsIn } from '../../src/alerts/mon-id-token.js';

// Adapters run on the event loop that answers every other delivery and ticks escalations, on bodies of up to
// MAX_BODY_BYTES (1 MiB) of sender text. Each case below ran for seconds to minutes before (quadratic in the input) and
// now takes milliseconds. This is not a speed target (those live in the bench): the test's own timeout, far above any
// linear run on a loaded machine and far below the old code's, is what catches a return of the blow-up.
const HANG_MS = 10_000;

describe('sender text of the largest accepted size is parsed in linear time', () => {
  it('parseDatadogTitle: a group that repeats " on {" (7 s for 200 kB, minutes for 1 MiB before)', () => {
    const title = `[${' on {'.repeat(200_000)}x] Disk full`;
    const result = parseDatadogTitle(title);
    expect(result.scope).toBeUndefined();
    expect(result.text).toBe('Disk full');
  }, HANG_MS);

  it('parseDatadogTitle: still takes the first " on {" of a group that ends with "}"', () => {
    expect(parseDatadogTitle('[Triggered on {host:a} on {b}] x')).toEqual({ priority: undefined, state: 'Triggered', scope: 'host:a} on {b', text: 'x', name: 'x' });
    expect(parseDatadogTitle('[Triggered on {}] x')).toMatchObject({ state: 'Triggered', scope: undefined });
    expect(parseDatadogTitle('[Triggered on {host:a] x')).toMatchObject({ state: 'Triggered on {host:a', scope: undefined });
  });

  it('monIdsIn: a text full of distinct ids (20 s for 1 MiB before)', () => {
    const text = Array.from({ length: 100_000 }, (_, i) => `MON-${i}`).join(' ');
    const result = monIdsIn(text);
    expect(result).toHaveLength(100_000);
    expect(result.slice(0, 3)).toEqual(['MON-0', 'MON-1', 'MON-2']);
    expect(monIdsIn('MON-7 mon-7 MON-3 MON-7')).toEqual(['MON-7', 'MON-3']);
  }, HANG_MS);

  it('adaptDatadog: a 1 MiB title of bracket groups and ids', () => {
    const title = `[Triggered on {host:a}] ${Array.from({ length: 100_000 }, (_, i) => `[MON-${i}]`).join('')}`;
    const result = adaptDatadog({ title, alert_id: '1' }, new Date('2026-08-14T12:00:00Z'));
    expect(result[0]!.fingerprint).toBe('1/host:a');
  }, HANG_MS);
});
