import type { ScheduleRow } from '../pim/schema.js';
import type { ThresholdKind } from './store.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

/** How long before a schedule's start or end each threshold kind falls due. */
export const OFFSET_MS: Record<ThresholdKind, number> = {
  started: 0,
  ending14: 14 * DAY_MS,
  ending1: DAY_MS,
};

/** Eligibilities and assigned assignments get reminders; activations last hours, not weeks. */
export function remindable(schedule: Pick<ScheduleRow, 'kind' | 'assignment_type'>): boolean {
  return schedule.kind === 'eligibility' || schedule.assignment_type === 'assigned';
}

/**
 * The times at which a schedule just written gives the jobs something to do: its start if it
 * was written before it, its end, and the reminders before its end that fall after the write.
 * A writer passes them to `Jobs.wake` so that the loop learns of them without a query.
 */
export function dueTimesOf(
  schedule: Pick<ScheduleRow, 'kind' | 'assignment_type' | 'start_at' | 'end_at' | 'modified_at'>,
): Date[] {
  const written = Date.parse(schedule.modified_at);
  const start = Date.parse(schedule.start_at);
  const times = start > written ? [start] : [];
  if (schedule.end_at !== null) {
    const end = Date.parse(schedule.end_at);
    times.push(end);
    if (remindable(schedule)) times.push(end - OFFSET_MS.ending14, end - OFFSET_MS.ending1);
  }
  return times.filter((at) => at > written).map((at) => new Date(at));
}
