import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { GroupRow, UserRow } from '../directory/store.js';
import type { PolicyView } from '../pim/policies/model.js';
import type { RequestRow, ScheduleRow } from '../pim/schema.js';

/**
 * Something that happened to a PIM request or schedule that people may need to hear about. The
 * notifier reads whatever else it needs (the group, the principal, the policy) by these ids.
 */
export type NotificationEvent =
  /** A request was made: completed at once, or waiting for an approval or an admin decision. */
  | { type: 'requestCreated'; requestId: string }
  /** A stage of an approval was decided; `nextStage` means the next stage now waits. */
  | {
      type: 'approvalDecided';
      requestId: string;
      stageId: string;
      outcome: 'approved' | 'nextStage' | 'denied' | 'obsolete';
    }
  | { type: 'requestCanceled'; requestId: string }
  /** A pending request was not decided in time. */
  | { type: 'requestExpired'; requestId: string }
  /** A time-bound eligibility or assignment ends in 14 days, or in 1 day. */
  | { type: 'assignmentEnding'; scheduleId: string; daysLeft: 14 | 1 }
  | { type: 'assignmentEnded'; scheduleId: string };

/**
 * Rows that the cause of an event has already read or written in its transaction, exactly as that
 * transaction sees them now, so that the notifier need not read them again. Any row may be left
 * out; the notifier reads what it is not given.
 */
export interface KnownRows {
  request?: RequestRow;
  schedules?: readonly ScheduleRow[];
  group?: GroupRow;
  /** Groups of the schedules, for events about many of them. */
  groups?: readonly GroupRow[];
  users?: readonly UserRow[];
  /** The policy of the request's group and access, read under the group's lock. */
  policy?: PolicyView;
}

/**
 * Turns events into emails. `notify` runs inside the transaction of the event's cause, so the
 * emails are written (to the outbox) exactly when the change commits, and never without it.
 */
export interface Notifier {
  notify(trx: Kysely<Database>, event: NotificationEvent, known?: KnownRows): Promise<void>;
  /**
   * The same emails as `notify` for each event in turn, for the many events of one jobs batch.
   * A notifier without it is given them one at a time.
   */
  notifyMany?(
    trx: Kysely<Database>,
    events: readonly NotificationEvent[],
    known?: KnownRows,
  ): Promise<void>;
}

/** Gives a notifier the events of one transaction: all at once if it can take them so. */
export async function notifyAll(
  notifier: Notifier,
  trx: Kysely<Database>,
  events: readonly NotificationEvent[],
  known?: KnownRows,
): Promise<void> {
  if (events.length === 0) return;
  if (notifier.notifyMany) return notifier.notifyMany(trx, events, known);
  for (const event of events) await notifier.notify(trx, event, known);
}

/** A notifier that sends nothing, for deployments and tests that do not need email. */
export const silentNotifier: Notifier = { notify: async () => {} };
