import type { Clock } from '../../src/shared/clock.js';

/** A clock that moves only when a test moves it. */
export class FakeClock implements Clock {
  private current: number;

  constructor(start = '2026-06-01T09:00:00.000Z') {
    this.current = Date.parse(start);
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    this.current += ms;
  }

  set(iso: string): void {
    this.current = Date.parse(iso);
  }
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
