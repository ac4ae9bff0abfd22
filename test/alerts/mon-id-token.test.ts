import { describe, expect, it } from 'vitest';
import { monIdsFromFirstSource, monIdsIn } from '../../src/alerts/mon-id-token.js';

describe('monIdsIn (token rule)', () => {
  it.each([
    ['MON-005', ['MON-005']],
    ['mon-007', ['MON-007']],
    ['Mon-12', ['MON-12']],
    ['[MON-027] Settlement batch job failed', ['MON-027']],
    ['MON-027/payments-worker-2', ['MON-027']],
    ['mon_id:MON-005', ['MON-005']],
    ['MON-005_replica', ['MON-005']],
    ['MON-5 and MON-005 differ', ['MON-5', 'MON-005']],
    ['MON-123456789', ['MON-123456789']],
    ['MON-005, MON-006, mon-005', ['MON-005', 'MON-006']],
    ['MON-005<img src=x onerror=alert(1)>', ['MON-005']],
    ['(MON-1)', ['MON-1']],
    ['MON-005.', ['MON-005']],
  ])('%j → %j', (text, ids) => {
    expect(monIdsIn(text)).toEqual(ids);
  });

  it.each([
    'XMON-9',
    'MON-12a',
    'MON-abc',
    'MONITOR-5',
    'MON-1234567890',
    'MON-',
    'MON 005',
    'MON_005',
    '9MON-5',
    'éMON-5',
    'MON-5é',
    'MON−005', // U+2212 minus sign, not a hyphen
  ])('%j has no id', (text) => {
    expect(monIdsIn(text)).toEqual([]);
  });

  it('is stateless between calls (global regex lastIndex does not leak)', () => {
    expect(monIdsIn('MON-1')).toEqual(['MON-1']);
    expect(monIdsIn('MON-1')).toEqual(['MON-1']);
  });
});

describe('monIdsFromFirstSource', () => {
  it('takes every id of the first source that has one and ignores later sources', () => {
    expect(monIdsFromFirstSource([undefined, '', 'no id here', 'MON-3 MON-4', 'MON-9'])).toEqual(['MON-3', 'MON-4']);
  });

  it('skips a source whose only "id" breaks the token rule', () => {
    expect(monIdsFromFirstSource(['XMON-1', 'MON-2'])).toEqual(['MON-2']);
  });

  it('returns [] when no source yields an id', () => {
    expect(monIdsFromFirstSource([null, undefined, 'MONITOR-5'])).toEqual([]);
  });
});
