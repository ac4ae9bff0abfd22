import { describe, expect, it } from 'vitest';
import { extractMonIds, normalizeMonId } from '../../src/runbooks/mon-id.js';

describe('MON- id token rule', () => {
  it('finds ids case-insensitively, normalised to upper case with digits verbatim', () => {
    expect(extractMonIds('[mon-007] pool, then MON-5 and MON-005; mon_id:Mon-12')).toEqual(['MON-007', 'MON-5', 'MON-005', 'MON-12']);
  });

  it('rejects ids glued to letters or digits, and more than 9 digits', () => {
    expect(extractMonIds('XMON-9 MON-12a MON-abc MONITOR-5 MON-1234567890 2MON-3')).toEqual([]);
    expect(extractMonIds('MON-123456789.')).toEqual(['MON-123456789']);
  });

  it('lists each id once', () => {
    expect(extractMonIds('MON-005 (alert) then MON-005 again')).toEqual(['MON-005']);
  });

  it('normalizeMonId accepts exactly one id, trimmed', () => {
    expect(normalizeMonId(' mon-007 ')).toBe('MON-007');
    expect(normalizeMonId('MON-5')).toBe('MON-5');
    expect(normalizeMonId('[MON-5]')).toBeNull();
    expect(normalizeMonId('MON-5 MON-6')).toBeNull();
    expect(normalizeMonId('MON-1234567890')).toBeNull();
    expect(normalizeMonId('')).toBeNull();
  });
});
