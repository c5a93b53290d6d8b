import { InvalidArgumentError } from 'commander';
import { DateTime, Duration } from 'luxon';

const UNIT_MS = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;
const SHORT = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/i;

/** The longest duration anyone can ask for, as the server counts it. */
const LONGEST_MS = 3650 * UNIT_MS.d;

/**
 * A duration as people type it (`90m`, `2h`, `1h30m`, `7d`, `2w`) or in ISO 8601 (`PT2H`,
 * `P7D`), answered in ISO 8601 as the API takes it. Months and years have no fixed length and
 * are refused, as the server refuses them.
 */
export function parseDuration(text: string): string {
  const value = text.trim();
  const ms = /^p/i.test(value) ? isoMs(value) : shortMs(value);
  if (ms === null) {
    throw new InvalidArgumentError(
      `'${value}' is not a duration: write it like 90m, 2h, 7d or PT2H.`,
    );
  }
  if (ms <= 0) throw new InvalidArgumentError('A duration must be longer than zero.');
  if (ms > LONGEST_MS) throw new InvalidArgumentError('A duration can be at most 3650 days.');
  return formatDuration(ms);
}

/**
 * An ISO 8601 date, or date and time, answered in UTC. Without an offset it is read in this
 * computer's time zone, as a person typing it means it.
 */
export function parseDate(text: string): string {
  const parsed = DateTime.fromISO(text.trim());
  if (!parsed.isValid || parsed.year < 2000 || parsed.year > 9999) {
    throw new InvalidArgumentError(
      `'${text}' is not a date: write it in ISO 8601, like 2026-07-01 or 2026-07-01T18:00:00Z.`,
    );
  }
  return parsed.toUTC().toISO({ suppressMilliseconds: true }) ?? '';
}

/** A point in time given as a date or as a duration back from now, as `--since` takes it. */
export function parseSince(text: string, now: Date = new Date()): string {
  const trimmed = text.trim();
  const looksLikeDuration = SHORT.test(trimmed) || /^p/i.test(trimmed);
  if (!looksLikeDuration) return parseDate(trimmed);

  const ms = Duration.fromISO(parseDuration(trimmed)).as('milliseconds');
  return new Date(now.getTime() - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A comma-separated list, trimmed and without empty entries. */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** A whole number from `min` to `max`. */
export function parseCount(min: number, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`Give a whole number from ${min} to ${max}.`);
    }
    return value;
  };
}

/** An ISO 8601 duration in days, hours, minutes and seconds: `PT8H`, `P30D`, `PT1H30M`. */
export function formatDuration(ms: number): string {
  const days = Math.floor(ms / UNIT_MS.d);
  const hours = Math.floor((ms % UNIT_MS.d) / UNIT_MS.h);
  const minutes = Math.floor((ms % UNIT_MS.h) / UNIT_MS.m);
  const seconds = (ms % UNIT_MS.m) / UNIT_MS.s;

  const time = [
    hours ? `${hours}H` : '',
    minutes ? `${minutes}M` : '',
    seconds ? `${seconds}S` : '',
  ].join('');
  return `P${days ? `${days}D` : ''}${time ? `T${time}` : ''}`;
}

/** A duration for people: `8h`, `1h30m`, `365d`, or the text itself when it is not ISO 8601. */
export function humanDuration(iso: string | null | undefined): string {
  if (!iso) return '-';
  const ms = isoMs(iso);
  if (ms === null) return iso;

  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ['d', UNIT_MS.d],
    ['h', UNIT_MS.h],
    ['m', UNIT_MS.m],
    ['s', UNIT_MS.s],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.join('') || '0s';
}

function shortMs(value: string): number | null {
  const match = SHORT.exec(value);
  if (!match || value === '') return null;

  const [, weeks, days, hours, minutes, seconds] = match;
  return (
    Number(weeks ?? 0) * UNIT_MS.w +
    Number(days ?? 0) * UNIT_MS.d +
    Number(hours ?? 0) * UNIT_MS.h +
    Number(minutes ?? 0) * UNIT_MS.m +
    Number(seconds ?? 0) * UNIT_MS.s
  );
}

function isoMs(value: string): number | null {
  const duration = Duration.fromISO(value.toUpperCase());
  if (!duration.isValid || duration.years !== 0 || duration.months !== 0) return null;
  const ms = duration.as('milliseconds');
  return Number.isFinite(ms) ? ms : null;
}
