import { DateTime, Duration } from 'luxon';
import { badRequest } from '../http/errors.js';

/** No assignment may be asked for longer than this, whatever a policy says. */
export const LONGEST_MS = 3650 * 24 * 60 * 60 * 1000;

/**
 * Milliseconds in an ISO 8601 duration of weeks, days, hours, minutes and seconds (`PT8H`,
 * `P365D`), or null when the text is not one. Years and months have no fixed length, so they are
 * not read at all rather than guessed.
 */
export function durationMs(text: string): number | null {
  const duration = Duration.fromISO(text);
  if (!duration.isValid || duration.years !== 0 || duration.months !== 0) return null;

  // Without years and months every unit has a fixed length, which `toMillis` adds up.
  const ms = duration.toMillis();
  return Number.isFinite(ms) ? ms : null;
}

/** Milliseconds in a duration a client sent, or a 400 that says how to write one. */
export function parseDuration(value: string, field: string): number {
  if (value.length > 40) throw badRequest(`${field} is too long to be an ISO 8601 duration.`);

  const ms = durationMs(value);
  if (ms === null) {
    throw badRequest(
      `${field} must be an ISO 8601 duration in weeks, days, hours, minutes or seconds, ` +
        'such as PT8H or P30D.',
    );
  }
  if (ms > LONGEST_MS) throw badRequest(`${field} must be at most P3650D.`);
  return ms;
}

/** A UTC instant from an ISO 8601 date and time that states its offset, like `...T07:43:00Z`. */
export function parseDateTime(value: string, field: string): Date {
  if (value.length > 40) throw badRequest(`${field} is too long to be a date and time.`);

  const parsed = DateTime.fromISO(value, { setZone: true });
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/i.test(value);
  if (!parsed.isValid || !hasOffset || parsed.year < 2000 || parsed.year > 9999) {
    throw badRequest(
      `${field} must be an ISO 8601 date and time in UTC, like 2026-01-31T09:00:00Z.`,
    );
  }
  return parsed.toJSDate();
}

/** An ISO 8601 duration for a number of milliseconds, as Graph writes them (`PT8H`, `P30D`). */
export function formatDuration(ms: number): string {
  return Duration.fromMillis(ms).shiftTo('days', 'hours', 'minutes', 'seconds').rescale().toISO();
}
