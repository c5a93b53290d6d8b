import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Removing an eligibility ends the activations made from it, found by `activated_using`;
  // without an index that lookup reads every schedule (a million rows in the benchmark).
  await db.schema
    .createIndex('pim_schedules_activated_using')
    .on('pim_schedules')
    .column('activated_using')
    .execute();

  // "Which groups does this principal belong to now" runs on every access check. With the
  // window and the group in the index, it is answered from the index alone instead of reading a
  // wide, scattered schedule row per match: several times faster once the table outgrows the page
  // cache. It starts with the columns of the index it replaces, so it serves those lookups too.
  await db.schema
    .createIndex('pim_schedules_in_effect')
    .on('pim_schedules')
    .columns(['principal_id', 'kind', 'status', 'access_id', 'start_at', 'end_at', 'group_id'])
    .execute();
  await db.schema.dropIndex('pim_schedules_principal').execute();
}
