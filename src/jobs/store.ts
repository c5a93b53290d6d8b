import type { Kysely } from 'kysely';
import type { DialectName } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { slices } from '../db/slices.js';
import type { ScheduleRow } from '../pim/schema.js';

type Db = Kysely<Database>;

/** The kinds of threshold the loop follows with a cursor. */
export type ThresholdKind = 'started' | 'ending14' | 'ending1';

/** A position in the order a threshold kind is handled: its time column, then the id. */
export interface Position {
  at: string;
  id: string;
}

/**
 * Schedules that have run out but still read `Provisioned`, oldest first. On PostgreSQL the rows
 * are locked and rows another instance holds are skipped, so that instances share the backlog;
 * SQLite's write transactions already exclude each other.
 */
export function claimEnded(
  db: Db,
  dialect: DialectName,
  now: string,
  limit: number,
): Promise<ScheduleRow[]> {
  return db
    .selectFrom('pim_schedules')
    .selectAll()
    .where('status', '=', 'Provisioned')
    .where('end_at', '<=', now)
    .orderBy('end_at')
    .orderBy('id')
    .limit(limit)
    .$if(dialect === 'postgres', (qb) => qb.forUpdate().skipLocked())
    .execute();
}

/**
 * Marks claimed schedules `Expired`, keeping their end and their `modified_at`, which says when
 * a person last changed them; answers the ids that moved.
 */
export async function markExpired(db: Db, ids: string[], now: string): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const moved = await db
    .updateTable('pim_schedules')
    .set({ status: 'Expired' })
    .where('id', 'in', ids)
    .where('status', '=', 'Provisioned')
    .where('end_at', '<=', now)
    .returning('id')
    .execute();
  return new Set(moved.map((row) => row.id));
}

/**
 * Locks the kind's cursor for this transaction and answers how far it has been handled, or
 * undefined when another instance holds it (PostgreSQL only): that instance is doing the work.
 */
export async function lockCursor(
  db: Db,
  dialect: DialectName,
  kind: ThresholdKind,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('job_cursors')
    .select('through')
    .where('kind', '=', kind)
    .$if(dialect === 'postgres', (qb) => qb.forUpdate().skipLocked())
    .executeTakeFirst();
  return row?.through;
}

export function readCursors(db: Db) {
  return db.selectFrom('job_cursors').select(['kind', 'through']).execute();
}

/** Moves the cursor forward, never back: another instance may already have gone further. */
export async function advanceCursor(db: Db, kind: ThresholdKind, through: string): Promise<void> {
  await db
    .updateTable('job_cursors')
    .set({ through })
    .where('kind', '=', kind)
    .where('through', '<', through)
    .execute();
}

/**
 * Schedules whose time column (`start_at` for starts, `end_at` for ends) lies after `from` and at
 * or before `to`, in the order a cursor walks them. Ending reminders concern eligibilities and
 * assigned assignments that still run past `endsAfter`. A start concerns a schedule written
 * before it began that did run (one revoked before its start ends before it).
 */
export function thresholdCandidates(
  db: Db,
  kind: ThresholdKind,
  range: { from: Position; to: string; endsAfter: string },
  limit: number,
): Promise<ScheduleRow[]> {
  const { from, to } = range;
  const column = kind === 'started' ? 'start_at' : 'end_at';
  return db
    .selectFrom('pim_schedules')
    .selectAll()
    .where((eb) =>
      eb.or([eb(column, '>', from.at), eb.and([eb(column, '=', from.at), eb('id', '>', from.id)])]),
    )
    .where(column, '<=', to)
    .$if(kind === 'started', (qb) =>
      qb
        .where('status', 'in', ['Provisioned', 'Expired', 'Revoked'])
        .whereRef('modified_at', '<', 'start_at')
        .where((eb) => eb.or([eb('end_at', 'is', null), eb('end_at', '>', eb.ref('start_at'))])),
    )
    .$if(kind !== 'started', (qb) =>
      qb
        .where('status', '=', 'Provisioned')
        .where('end_at', '>', range.endsAfter)
        .where((eb) =>
          eb.or([eb('kind', '=', 'eligibility'), eb('assignment_type', '=', 'assigned')]),
        ),
    )
    .orderBy(column)
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * Records side effects; answers the keys it recorded. A key recorded before is left out: its
 * side effect happened already and must not happen again.
 */
export async function insertMarks(
  db: Db,
  marks: { key: string; kind: ThresholdKind; due_at: string; done_at: string }[],
): Promise<Set<string>> {
  const inserted = new Set<string>();
  for (const slice of slices(marks, MARKS_PER_INSERT)) {
    const rows = await db
      .insertInto('job_marks')
      .values(slice)
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('key')
      .execute();
    for (const row of rows) inserted.add(row.key);
  }
  return inserted;
}

/** Rows per insert: well under both dialects' limits on bound parameters. */
const MARKS_PER_INSERT = 500;

/** Forgets marks that no cursor can reach again. */
export async function pruneMarks(db: Db, kind: ThresholdKind, before: string): Promise<void> {
  await db.deleteFrom('job_marks').where('kind', '=', kind).where('due_at', '<', before).execute();
}

// What is due next, for the loop's sleep and for the metrics

/** The earliest end of a running schedule, after `after` when given. */
export async function nextEnd(
  db: Db,
  options: { after?: string; remindable?: boolean } = {},
): Promise<string | null> {
  const row = await db
    .selectFrom('pim_schedules')
    .select('end_at')
    .where('status', '=', 'Provisioned')
    .where('end_at', 'is not', null)
    .$if(options.after !== undefined, (qb) => qb.where('end_at', '>', options.after ?? ''))
    .$if(options.remindable === true, (qb) =>
      qb.where((eb) =>
        eb.or([eb('kind', '=', 'eligibility'), eb('assignment_type', '=', 'assigned')]),
      ),
    )
    .orderBy('end_at')
    .limit(1)
    .executeTakeFirst();
  return row?.end_at ?? null;
}

/** The next start to record: of a schedule written before it begins. */
export async function nextStart(db: Db, after: string): Promise<string | null> {
  const row = await db
    .selectFrom('pim_schedules')
    .select('start_at')
    .where('status', '=', 'Provisioned')
    .where('start_at', '>', after)
    .whereRef('modified_at', '<', 'start_at')
    .orderBy('start_at')
    .limit(1)
    .executeTakeFirst();
  return row?.start_at ?? null;
}

export async function nextStageDeadline(db: Db): Promise<string | null> {
  const row = await db
    .selectFrom('pim_approval_stages')
    .select('expires_at')
    .where('status', '=', 'InProgress')
    .where('expires_at', 'is not', null)
    .orderBy('expires_at')
    .limit(1)
    .executeTakeFirst();
  return row?.expires_at ?? null;
}

/** How many schedules have run out without their expiry handled, and the oldest end. */
export async function endedBacklog(db: Db, now: string) {
  const row = await db
    .selectFrom('pim_schedules')
    .select((eb) => [
      eb.fn.countAll<number | string>().as('count'),
      eb.fn.min('end_at').as('oldest'),
    ])
    .where('status', '=', 'Provisioned')
    .where('end_at', '<=', now)
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), oldest: row.oldest };
}

/** How many undecided stages are past their deadline, and the oldest deadline. */
export async function stageBacklog(db: Db, now: string) {
  const row = await db
    .selectFrom('pim_approval_stages')
    .select((eb) => [
      eb.fn.countAll<number | string>().as('count'),
      eb.fn.min('expires_at').as('oldest'),
    ])
    .where('status', '=', 'InProgress')
    .where('expires_at', '<=', now)
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), oldest: row.oldest };
}

/** Schedules whose time column crossed into (from, to] since the kind's cursor. */
export async function thresholdBacklog(db: Db, kind: ThresholdKind, from: string, to: string) {
  const column = kind === 'started' ? 'start_at' : 'end_at';
  const row = await db
    .selectFrom('pim_schedules')
    .select((eb) => [eb.fn.countAll<number | string>().as('count'), eb.fn.min(column).as('oldest')])
    .where('status', '=', 'Provisioned')
    .where(column, '>', from)
    .where(column, '<=', to)
    .$if(kind === 'started', (qb) => qb.whereRef('modified_at', '<', 'start_at'))
    .$if(kind !== 'started', (qb) =>
      qb.where((eb) =>
        eb.or([eb('kind', '=', 'eligibility'), eb('assignment_type', '=', 'assigned')]),
      ),
    )
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), oldest: row.oldest };
}
