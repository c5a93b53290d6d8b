import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per side effect of time passing that the jobs loop has done (a reminder, a "started"
  // audit event), written in the transaction of the effect itself, so that each happens once.
  // Expiries and approval timeouts need no mark: the status they change is their record.
  await db.schema
    .createTable('job_marks')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('due_at', 'text', (c) => c.notNull())
    .addColumn('done_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('job_marks_due')
    .on('job_marks')
    .columns(['kind', 'due_at'])
    .execute();

  // How far each kind of threshold (a start, 14 days and 1 day before an end) has been handled,
  // so that a pass looks only at the thresholds crossed since, never at every schedule.
  await db.schema
    .createTable('job_cursors')
    .addColumn('kind', 'text', (c) => c.primaryKey())
    .addColumn('through', 'text', (c) => c.notNull())
    .execute();
  await db
    .withTables<{ job_cursors: { kind: string; through: string } }>()
    .insertInto('job_cursors')
    .values(['started', 'ending14', 'ending1'].map((kind) => ({ kind, through: '' })))
    .execute();

  // The next start to come, for the loop's sleep; ends already have (status, end_at).
  await db.schema
    .createIndex('pim_schedules_start')
    .on('pim_schedules')
    .columns(['status', 'start_at'])
    .execute();
}
