/**
 * Deployment windows and freezes (docs/change-control.md): whether a policy gate is open at an
 * instant, and if not, why and when it opens. A weekly window is read on the wall clock of its IANA
 * time zone, so "09:00 Europe/London" is 09:00 in winter and in summer alike; freezes are instants,
 * optionally every year. Pure (Intl's time zones only): the workflow, the dashboard and the CLI use it.
 */
import { WEEKDAYS, type Weekday } from './names.js';

/** A weekly window: open on `days`, from `from` (inclusive) to `to` (exclusive), on the wall clock of `timezone`. */
export interface WeeklyWindow {
  days: readonly Weekday[];
  /** `HH:MM`. */
  from: string;
  /** `HH:MM`, after `from`; `24:00` is the end of the day. */
  to: string;
  /** An IANA time zone: `Europe/London`, `America/New_York`, `UTC`. */
  timezone: string;
}

/** A freeze: closed from `from` (inclusive) to `to` (exclusive), RFC 3339 instants; with `every: year`, on those dates every year from the first on. */
export interface Freeze {
  from: string;
  to: string;
  reason: string;
  every?: 'year' | undefined;
}

export type WindowState =
  | { open: true }
  /** Why it is closed now (the first reason, if a freeze follows the window), and the first instant at which it is open. */
  | { open: false; opensAt: string; reason: string; closedBy: 'window' | 'freeze' };

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Whether `timezone` is an IANA time zone this runtime knows (`UTC` included). */
export function isTimeZone(timezone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(timezone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** Minutes since midnight of `HH:MM` (`24:00` is 1440); undefined for anything else. */
export function minutesOf(time: string): number | undefined {
  const match = /^(\d{2}):(\d{2})$/.exec(time);
  if (!match) return undefined;
  const [hours, minutes] = [Number(match[1]), Number(match[2])];
  if (hours === 24 && minutes === 0) return 1440;
  return hours < 24 && minutes < 60 ? hours * 60 + minutes : undefined;
}

/**
 * Whether the gate is open at `now`, and if not, why and when it opens: the first instant at which
 * no freeze holds and the window (if any) is open. A freeze that follows a window's closing, or a
 * window that is closed when a freeze ends, is waited for too.
 */
export function windowState(now: number | string | Date, window: WeeklyWindow | undefined, freezes: readonly Freeze[] = []): WindowState {
  const start = instant(now);
  let at = start;
  let first: { reason: string; closedBy: 'window' | 'freeze' } | undefined;
  // Each round moves past one freeze or to one window's opening; a handful is the most a real calendar needs.
  for (let round = 0; round < 1000; round++) {
    const freeze = activeFreeze(at, freezes);
    if (freeze) {
      first ??= { reason: freeze.reason, closedBy: 'freeze' };
      at = freeze.until;
      continue;
    }
    const weekly = window ? weeklyState(at, window) : { open: true as const };
    if (!weekly.open) {
      first ??= { reason: `Outside the deployment window (${describeWindow(window!)})`, closedBy: 'window' };
      at = weekly.opensAt;
      continue;
    }
    break;
  }
  if (!first) return { open: true };
  return { open: false, opensAt: new Date(at).toISOString(), reason: first.reason, closedBy: first.closedBy };
}

/** The freeze (of those given, each occurrence of a yearly one) that holds at `at`, and when it ends; the latest ending one if several do. */
function activeFreeze(at: number, freezes: readonly Freeze[]): { reason: string; until: number } | undefined {
  let found: { reason: string; until: number } | undefined;
  for (const freeze of freezes) {
    for (const [from, to] of occurrencesAround(freeze, at)) {
      if (from <= at && at < to && (!found || to > found.until)) found = { reason: freeze.reason, until: to };
    }
  }
  return found;
}

/** The freeze's own interval, or for a yearly one its occurrences of the years around `at` (from the first one on). */
function occurrencesAround(freeze: Freeze, at: number): [number, number][] {
  const from = Date.parse(freeze.from);
  const to = Date.parse(freeze.to);
  if (freeze.every !== 'year') return [[from, to]];
  const years = new Date(at).getUTCFullYear() - new Date(from).getUTCFullYear();
  const shifted: [number, number][] = [];
  for (const k of [years - 1, years, years + 1]) {
    if (k < 0) continue;
    shifted.push([addYears(from, k), addYears(to, k)]);
  }
  return shifted;
}

const addYears = (ms: number, years: number) => {
  const date = new Date(ms);
  date.setUTCFullYear(date.getUTCFullYear() + years);
  return date.getTime();
};

/** The weekly window alone at `at`: open, or when it next opens. */
function weeklyState(at: number, window: WeeklyWindow): { open: true } | { open: false; opensAt: number } {
  const from = minutesOf(window.from) ?? 0;
  const to = minutesOf(window.to) ?? 1440;
  const today = localParts(at, window.timezone);
  // A window never crosses midnight, so today's and the next seven days' windows are all there is to look at.
  for (let offset = 0; offset <= 7; offset++) {
    const day = new Date(Date.UTC(today.year, today.month - 1, today.day + offset));
    const date = { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate() };
    if (!window.days.includes(weekdayOf(date))) continue;
    const opens = zonedInstant(date, from, window.timezone);
    const closes = zonedInstant(date, to, window.timezone);
    if (at < opens) return { open: false, opensAt: opens };
    if (at < closes) return { open: true };
  }
  // Unreachable with at least one day; a window of no day never opens within a week.
  return { open: false, opensAt: at + 7 * DAY };
}

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const weekdayOf = ({ year, month, day }: LocalDate): Weekday => WEEKDAYS[(new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7]!;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall clock of `timezone` at `at`. */
export function localParts(at: number, timezone: string): LocalDate & { hour: number; minute: number; second: number; weekday: Weekday } {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(at))) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const date = { year: parts.year!, month: parts.month!, day: parts.day! };
  return { ...date, hour: parts.hour! % 24, minute: parts.minute!, second: parts.second!, weekday: weekdayOf(date) };
}

/** How far the wall clock of `timezone` is ahead of UTC at `at`, in ms. */
function offsetAt(at: number, timezone: string): number {
  const whole = Math.floor(at / 1000) * 1000;
  const local = localParts(whole, timezone);
  return Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second) - whole;
}

/**
 * The instant at which the wall clock of `timezone` first shows `minutes` past midnight of `date`.
 * A time that happens twice (the hour the clocks go back) is its first occurrence; a time that never
 * happens (the hour they go forward) is the moment they jump, the first moment at or past it.
 */
export function zonedInstant(date: LocalDate, minutes: number, timezone: string): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day, 0, minutes);
  const before = offsetAt(wall - DAY, timezone);
  const after = offsetAt(wall + DAY, timezone);
  const candidates = [wall - before, wall - after].filter((at) => at + offsetAt(at, timezone) === wall);
  if (candidates.length > 0) return Math.min(...candidates);
  // In the gap: the jump lies between the two readings; find the first second that has the new offset.
  let low = Math.min(wall - before, wall - after);
  let high = Math.max(wall - before, wall - after);
  while (high - low > 1000) {
    const middle = Math.floor((low + high) / 2000) * 1000;
    if (offsetAt(middle, timezone) === after) high = middle;
    else low = middle;
  }
  return high;
}

/** `Mon–Thu 09:00–16:00 Europe/London`: consecutive days as a range. */
export function describeWindow(window: WeeklyWindow): string {
  const indexes = [...new Set(window.days.map((day) => WEEKDAYS.indexOf(day)))].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < indexes.length; ) {
    let j = i;
    while (j + 1 < indexes.length && indexes[j + 1] === indexes[j]! + 1) j++;
    const first = WEEKDAYS[indexes[i]!]!;
    const last = WEEKDAYS[indexes[j]!]!;
    runs.push(j === i ? first : j === i + 1 ? `${first}, ${last}` : `${first}–${last}`);
    i = j + 1;
  }
  return `${runs.join(', ')} ${window.from}–${window.to} ${window.timezone}`;
}

const DAY_NAMES: Record<Weekday, string> = { Mon: 'Monday', Tue: 'Tuesday', Wed: 'Wednesday', Thu: 'Thursday', Fri: 'Friday', Sat: 'Saturday', Sun: 'Sunday' };
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * When a closed gate opens, in words on the wall clock of `timezone` (UTC when none):
 * `Monday 09:00 Europe/London` within the coming week (seen from `now`), else with its date,
 * `Monday 4 January 2027 09:00 Europe/London`. `short`: `Mon 09:00 Europe/London`, `Mon 4 Jan 2027 09:00 Europe/London`.
 */
export function describeOpening(opensAt: string, timezone: string | undefined, now: number | string | Date, { short = false } = {}): string {
  const zone = timezone && isTimeZone(timezone) ? timezone : 'UTC';
  const at = Date.parse(opensAt);
  if (Number.isNaN(at)) return opensAt;
  const local = localParts(at, zone);
  const time = `${String(local.hour).padStart(2, '0')}:${String(local.minute).padStart(2, '0')}`;
  const day = short ? local.weekday : DAY_NAMES[local.weekday];
  const soon = at - instant(now) < 6 * DAY;
  const month = MONTH_NAMES[local.month - 1]!;
  const date = soon ? day : `${day} ${local.day} ${short ? month.slice(0, 3) : month} ${local.year}`;
  return `${date} ${time} ${zone}`;
}

function instant(value: number | string | Date): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' ? Date.parse(value) : value.getTime();
}
