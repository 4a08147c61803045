import { describe, expect, it } from 'vitest';
import {
  describeOpening,
  describeWindow,
  type Freeze,
  isTimeZone,
  minutesOf,
  type WeeklyWindow,
  windowState,
  zonedInstant,
} from '../../core/deployment-windows.js';

const LONDON: WeeklyWindow = { days: ['Mon', 'Tue', 'Wed', 'Thu'], from: '09:00', to: '16:00', timezone: 'Europe/London' };
const NEW_YORK: WeeklyWindow = { ...LONDON, timezone: 'America/New_York' };

const closed = (opensAt: string, reason: string, closedBy: 'window' | 'freeze') => ({ open: false, opensAt, reason, closedBy });
const OUTSIDE_LONDON = 'Outside the deployment window (Mon–Thu 09:00–16:00 Europe/London)';

describe('windowState: a weekly window', () => {
  it('is open inside the window, from "from" up to (not at) "to"', () => {
    expect(windowState('2026-12-07T09:00:00Z', LONDON)).toEqual({ open: true });
    expect(windowState('2026-12-10T15:59:59Z', LONDON)).toEqual({ open: true });
    expect(windowState('2026-12-10T16:00:00Z', LONDON)).toEqual(closed('2026-12-14T09:00:00.000Z', OUTSIDE_LONDON, 'window'));
  });

  it('waits from a Friday evening to Monday 09:00', () => {
    expect(windowState('2026-12-04T18:30:00Z', LONDON)).toEqual(closed('2026-12-07T09:00:00.000Z', OUTSIDE_LONDON, 'window'));
  });

  it('waits from early on a window day to 09:00 that day', () => {
    expect(windowState('2026-12-08T06:00:00Z', LONDON)).toEqual(closed('2026-12-08T09:00:00.000Z', OUTSIDE_LONDON, 'window'));
  });

  it('reads the window on the wall clock of its time zone', () => {
    // 08:30 UTC on a Tuesday is 03:30 in New York: it opens at 09:00 EST, 14:00 UTC.
    expect(windowState('2026-12-08T08:30:00Z', NEW_YORK)).toMatchObject({ open: false, opensAt: '2026-12-08T14:00:00.000Z' });
    expect(windowState('2026-12-08T14:00:00Z', NEW_YORK)).toEqual({ open: true });
    // 22:00 UTC on a Thursday is 17:00 in New York: closed until Monday.
    expect(windowState('2026-12-10T22:00:00Z', NEW_YORK)).toMatchObject({ open: false, opensAt: '2026-12-14T14:00:00.000Z' });
  });

  it('ends at midnight with "to: 24:00"', () => {
    const lateShift: WeeklyWindow = { days: ['Sat'], from: '20:00', to: '24:00', timezone: 'UTC' };
    expect(windowState('2026-12-05T23:59:00Z', lateShift)).toEqual({ open: true });
    expect(windowState('2026-12-06T00:00:00Z', lateShift)).toMatchObject({ open: false, opensAt: '2026-12-12T20:00:00.000Z' });
  });

  it('is always open with no window and no freeze', () => {
    expect(windowState('2026-12-05T03:00:00Z', undefined)).toEqual({ open: true });
  });
});

describe('windowState: across daylight-saving changes', () => {
  it('Europe/London, clocks forward (28 March 2027): Monday 09:00 BST is 08:00 UTC', () => {
    expect(windowState('2027-03-26T18:00:00Z', LONDON)).toEqual(closed('2027-03-29T08:00:00.000Z', OUTSIDE_LONDON, 'window'));
    expect(windowState('2027-03-29T08:00:00Z', LONDON)).toEqual({ open: true });
    expect(windowState('2027-03-29T07:59:00Z', LONDON)).toMatchObject({ open: false });
    // 15:30 UTC is 16:30 BST: closed again.
    expect(windowState('2027-03-29T15:30:00Z', LONDON)).toMatchObject({ open: false, opensAt: '2027-03-30T08:00:00.000Z' });
  });

  it('Europe/London, clocks back (25 October 2026): Monday 09:00 GMT is 09:00 UTC', () => {
    expect(windowState('2026-10-23T17:00:00Z', LONDON)).toEqual(closed('2026-10-26T09:00:00.000Z', OUTSIDE_LONDON, 'window'));
    expect(windowState('2026-10-26T08:30:00Z', LONDON)).toMatchObject({ open: false });
  });

  it('America/New_York, clocks forward (14 March 2027): Monday 09:00 EDT is 13:00 UTC', () => {
    expect(windowState('2027-03-12T23:00:00Z', NEW_YORK)).toMatchObject({ open: false, opensAt: '2027-03-15T13:00:00.000Z' });
  });

  it('America/New_York, clocks back (1 November 2026): Monday 09:00 EST is 14:00 UTC', () => {
    expect(windowState('2026-10-30T22:00:00Z', NEW_YORK)).toMatchObject({ open: false, opensAt: '2026-11-02T14:00:00.000Z' });
  });

  it('a window that opens inside the hour that never happens opens when the clocks jump', () => {
    const sunday: WeeklyWindow = { days: ['Sun'], from: '01:30', to: '04:00', timezone: 'Europe/London' };
    // 28 March 2027: 01:00 GMT becomes 02:00 BST; 01:30 never happens, so it opens at 01:00 UTC.
    expect(windowState('2027-03-27T12:00:00Z', sunday)).toMatchObject({ open: false, opensAt: '2027-03-28T01:00:00.000Z' });
  });
});

describe('zonedInstant', () => {
  it('takes the first of a time that happens twice, and the jump for one that never happens', () => {
    // 1 November 2026, New York: 01:30 happens at 05:30 UTC (EDT) and 06:30 UTC (EST).
    expect(new Date(zonedInstant({ year: 2026, month: 11, day: 1 }, 90, 'America/New_York')).toISOString()).toBe('2026-11-01T05:30:00.000Z');
    // 14 March 2027, New York: 02:30 never happens; the clocks jump from 02:00 EST to 03:00 EDT (07:00 UTC).
    expect(new Date(zonedInstant({ year: 2027, month: 3, day: 14 }, 150, 'America/New_York')).toISOString()).toBe('2027-03-14T07:00:00.000Z');
    expect(new Date(zonedInstant({ year: 2027, month: 7, day: 1 }, 540, 'Europe/London')).toISOString()).toBe('2027-07-01T08:00:00.000Z');
  });
});

describe('windowState: freezes', () => {
  const yearEnd: Freeze = { from: '2026-12-20T00:00:00Z', to: '2027-01-04T00:00:00Z', reason: 'Year-end freeze' };

  it('is closed inside a freeze, until it ends', () => {
    expect(windowState('2026-12-24T12:00:00Z', undefined, [yearEnd])).toEqual(closed('2027-01-04T00:00:00.000Z', 'Year-end freeze', 'freeze'));
    expect(windowState('2026-12-19T23:59:59Z', undefined, [yearEnd])).toEqual({ open: true });
    expect(windowState('2027-01-04T00:00:00Z', undefined, [yearEnd])).toEqual({ open: true });
  });

  it('waits for the window after a freeze ends outside it, giving the freeze as the reason', () => {
    // The freeze ends on Monday 4 January 2027 at 00:00; the window opens at 09:00 that day.
    expect(windowState('2026-12-24T12:00:00Z', LONDON, [yearEnd])).toEqual(closed('2027-01-04T09:00:00.000Z', 'Year-end freeze', 'freeze'));
  });

  it('waits past a freeze that begins while the window is closed', () => {
    const midweek: Freeze = { from: '2026-12-14T00:00:00Z', to: '2026-12-16T00:00:00Z', reason: 'Database migration' };
    // Friday evening: Monday and Tuesday are frozen, so it opens on Wednesday at 09:00.
    expect(windowState('2026-12-11T18:00:00Z', LONDON, [midweek])).toEqual(closed('2026-12-16T09:00:00.000Z', OUTSIDE_LONDON, 'window'));
  });

  it('waits for the later end of overlapping freezes', () => {
    const other: Freeze = { from: '2026-12-30T00:00:00Z', to: '2027-01-10T00:00:00Z', reason: 'Stock-take' };
    expect(windowState('2026-12-24T12:00:00Z', undefined, [yearEnd, other])).toEqual(closed('2027-01-10T00:00:00.000Z', 'Year-end freeze', 'freeze'));
  });

  it('a recurring freeze (every: year) holds on those dates every year from the first on', () => {
    const yearly: Freeze = { ...yearEnd, every: 'year' };
    expect(windowState('2028-12-25T12:00:00Z', undefined, [yearly])).toEqual(closed('2029-01-04T00:00:00.000Z', 'Year-end freeze', 'freeze'));
    // Across the new year: the occurrence that began the December before.
    expect(windowState('2030-01-02T12:00:00Z', undefined, [yearly])).toEqual(closed('2030-01-04T00:00:00.000Z', 'Year-end freeze', 'freeze'));
    expect(windowState('2029-06-01T12:00:00Z', undefined, [yearly])).toEqual({ open: true });
    // Not before its first year.
    expect(windowState('2025-12-25T12:00:00Z', undefined, [yearly])).toEqual({ open: true });
    // Without `every`, only once.
    expect(windowState('2028-12-25T12:00:00Z', undefined, [yearEnd])).toEqual({ open: true });
  });
});

describe('describing a window and its opening', () => {
  it('writes consecutive days as a range', () => {
    expect(describeWindow(LONDON)).toBe('Mon–Thu 09:00–16:00 Europe/London');
    expect(describeWindow({ ...LONDON, days: ['Fri', 'Mon', 'Wed'] })).toBe('Mon, Wed, Fri 09:00–16:00 Europe/London');
    expect(describeWindow({ ...LONDON, days: ['Sat', 'Sun'] })).toBe('Sat, Sun 09:00–16:00 Europe/London');
  });

  it('says when it opens on the wall clock of the window, with the date when it is not this week', () => {
    expect(describeOpening('2027-03-29T08:00:00.000Z', 'Europe/London', '2027-03-26T18:00:00Z')).toBe('Monday 09:00 Europe/London');
    expect(describeOpening('2027-03-29T08:00:00.000Z', 'Europe/London', '2027-03-26T18:00:00Z', { short: true })).toBe('Mon 09:00 Europe/London');
    expect(describeOpening('2027-01-04T09:00:00.000Z', 'Europe/London', '2026-12-24T12:00:00Z')).toBe('Monday 4 January 2027 09:00 Europe/London');
    expect(describeOpening('2027-01-04T00:00:00.000Z', undefined, '2026-12-24T12:00:00Z')).toBe('Monday 4 January 2027 00:00 UTC');
  });
});

describe('time zones and times of day', () => {
  it.each([
    ['Europe/London', true],
    ['America/New_York', true],
    ['UTC', true],
    ['Mars/Olympus_Mons', false],
    ['', false],
    ['../etc/passwd', false],
  ])('isTimeZone(%j) is %s', (zone, expected) => {
    expect(isTimeZone(zone)).toBe(expected);
  });

  it.each([
    ['09:00', 540],
    ['00:00', 0],
    ['24:00', 1440],
    ['23:59', 1439],
    ['24:01', undefined],
    ['9:00', undefined],
    ['12:60', undefined],
  ])('minutesOf(%j) is %s', (time, expected) => {
    expect(minutesOf(time)).toBe(expected);
  });
});
