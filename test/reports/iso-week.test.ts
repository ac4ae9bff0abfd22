import { describe, expect, it } from 'vitest';
import { isoWeekBounds, isoWeekOf, parseIsoWeek, shiftIsoWeek, weeksInYear, zonedMidnight } from '../../src/reports/iso-week.js';

describe('ISO weeks', () => {
  it('finds the week of an instant, across year ends', () => {
    expect(isoWeekOf(new Date('2026-11-23T09:00:00Z'))).toBe('2026-W48');
    expect(isoWeekOf(new Date('2026-11-22T23:59:59Z'))).toBe('2026-W47');
    expect(isoWeekOf(new Date('2025-12-29T00:00:00Z'))).toBe('2026-W01');
    expect(isoWeekOf(new Date('2021-01-03T12:00:00Z'))).toBe('2020-W53');
    expect(isoWeekOf(new Date('2027-01-01T00:00:00Z'))).toBe('2026-W53');
  });

  it('uses the calendar of the report time zone', () => {
    // Monday 03:00 UTC is still Sunday evening in New York.
    expect(isoWeekOf(new Date('2026-11-23T03:00:00Z'), 'America/New_York')).toBe('2026-W47');
    expect(isoWeekOf(new Date('2026-11-22T23:30:00Z'), 'Europe/Berlin')).toBe('2026-W48');
  });

  it('bounds a week at Monday 00:00 in the time zone, across DST changes', () => {
    expect(isoWeekBounds('2026-W48')).toEqual({ start: new Date('2026-11-23T00:00:00Z'), end: new Date('2026-11-30T00:00:00Z') });
    // US DST ends Sunday 2026-11-01: the week before starts on EDT (UTC-4), ends on EST (UTC-5).
    expect(isoWeekBounds('2026-W44', 'America/New_York')).toEqual({ start: new Date('2026-10-26T04:00:00Z'), end: new Date('2026-11-02T05:00:00Z') });
    expect(isoWeekBounds('2026-W13', 'Europe/Berlin')).toEqual({ start: new Date('2026-03-22T23:00:00Z'), end: new Date('2026-03-29T22:00:00Z') });
    expect(zonedMidnight(2026, 11, 23, 'Asia/Kolkata')).toEqual(new Date('2026-11-22T18:30:00Z'));
  });

  it('parses and validates week names', () => {
    expect(parseIsoWeek('2026-W47')).toEqual({ year: 2026, week: 47 });
    expect(parseIsoWeek('2026w05')).toEqual({ year: 2026, week: 5 });
    expect(weeksInYear(2026)).toBe(53);
    expect(weeksInYear(2027)).toBe(52);
    expect(() => parseIsoWeek('2027-W53')).toThrow('2027 has no week 53 (it has 52)');
    expect(() => parseIsoWeek('next week')).toThrow('expected an ISO week like 2026-W47, got "next week"');
    expect(() => parseIsoWeek('0099-W01')).toThrow('expected a week from 1970 on, got "0099-W01"');
    expect(shiftIsoWeek('2026-W01', -1)).toBe('2025-W52');
    expect(shiftIsoWeek('2026-W53', 1)).toBe('2027-W01');
  });
});
