import type { Kysely, Selectable } from 'kysely';
import type { DialectName } from '../db/database.js';
import type { Database, OutboxMessageTable } from '../db/schema.js';
import { slices } from '../db/slices.js';

type Db = Kysely<Database>;

export type OutboxRow = Selectable<OutboxMessageTable>;

/**
 * Writes emails to the outbox, in the caller's transaction, a few hundred rows per statement. Sent
 * and dead messages stay in the table as a record; nothing removes them yet, so it grows by a few
 * rows for each PIM change.
 */
export async function insertMessages(db: Db, rows: readonly OutboxRow[]): Promise<void> {
  for (const slice of slices(rows, MESSAGES_PER_INSERT)) {
    await db.insertInto('outbox_messages').values(slice).execute();
  }
}

/** Rows per insert: 15 columns each, well under both dialects' limits on bound parameters. */
const MESSAGES_PER_INSERT = 500;

/**
 * Takes up to `limit` due messages for one attempt each: counts the attempt and moves the
 * message's due time to the end of a lease, and commits that before anything is sent. Another
 * worker skips them meanwhile (PostgreSQL's SKIP LOCKED, SQLite's single writer); if this one
 * stops mid-send, the lease runs out and the message is sent again, under the same Message-ID.
 */
export async function claimDue(
  db: Db,
  dialect: DialectName,
  now: string,
  leaseUntil: string,
  limit: number,
): Promise<OutboxRow[]> {
  return db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom('outbox_messages')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(limit)
      .$if(dialect === 'postgres', (qb) => qb.forUpdate().skipLocked())
      .execute();
    if (due.length === 0) return [];

    return trx
      .updateTable('outbox_messages')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: leaseUntil }))
      .where(
        'id',
        'in',
        due.map((row) => row.id),
      )
      .where('status', '=', 'pending')
      .returningAll()
      .execute();
  });
}

export async function markSent(db: Db, id: string, now: string): Promise<void> {
  await db
    .updateTable('outbox_messages')
    .set({ status: 'sent', sent_at: now, last_error: null })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

/** Schedules the next attempt, or gives the message up as 'dead' after its last one. */
export async function markFailed(
  db: Db,
  id: string,
  change: { dead: boolean; nextAttemptAt: string; error: string },
): Promise<void> {
  await db
    .updateTable('outbox_messages')
    .set({
      status: change.dead ? 'dead' : 'pending',
      next_attempt_at: change.nextAttemptAt,
      last_error: change.error,
    })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

/** When the next pending message is due, if any. */
export async function nextDueAt(db: Db): Promise<string | null> {
  const row = await db
    .selectFrom('outbox_messages')
    .select((eb) => eb.fn.min('next_attempt_at').as('due'))
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return row?.due ?? null;
}

export function findMessage(db: Db, id: string): Promise<OutboxRow | undefined> {
  return db.selectFrom('outbox_messages').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Puts a dead message back in the queue with a fresh set of attempts; answers whether it did. */
export async function requeue(db: Db, id: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('outbox_messages')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now })
    .where('id', '=', id)
    .where('status', '=', 'dead')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** How many messages there are in each status, for the metrics. */
export async function countByStatus(db: Db): Promise<Record<OutboxRow['status'], number>> {
  const rows = await db
    .selectFrom('outbox_messages')
    .select((eb) => ['status', eb.fn.countAll<number | string>().as('count')])
    .groupBy('status')
    .execute();
  const counts = { pending: 0, sent: 0, dead: 0 };
  for (const row of rows) counts[row.status] = Number(row.count);
  return counts;
}
