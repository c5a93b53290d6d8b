import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // A principal's own schedules are listed by start, then id ("my eligible assignments"). With
  // those two right after the equality columns, SQLite reads them in order from the index
  // instead of sorting them in a temporary B-tree on every request. Access, window and group
  // follow, so that "which groups does this principal belong to now" is still answered from the
  // index alone: a principal has a handful of schedules of one kind and status, and filtering
  // them inside the index costs less than keeping a second index this wide up to date on every
  // write. It replaces `pim_schedules_in_effect`, whose leading columns it starts with.
  await db.schema
    .createIndex('pim_schedules_of_principal')
    .on('pim_schedules')
    .columns([
      'principal_id',
      'kind',
      'status',
      'start_at',
      'id',
      'access_id',
      'end_at',
      'group_id',
    ])
    .execute();
  await db.schema.dropIndex('pim_schedules_in_effect').execute();
}
