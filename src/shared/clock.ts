/**
 * The only source of "now" for decisions. Services take a Clock so that tests can move time
 * without waiting, and so that every decision in one request sees the same instant.
 */
export interface Clock {
  now(): Date;
}

/**
 * The wall clock, made monotonic: if the system time steps backwards (an NTP correction, a
 * restored snapshot), it keeps answering the latest time it has seen, so that a backward jump can
 * never make an ended assignment look active again.
 */
export class SystemClock implements Clock {
  private latest = 0;

  now(): Date {
    this.latest = Math.max(this.latest, Date.now());
    return new Date(this.latest);
  }
}

/** ISO 8601 in UTC with milliseconds: the one format in which Elevate stores times. */
export function toIso(date: Date): string {
  return date.toISOString();
}
