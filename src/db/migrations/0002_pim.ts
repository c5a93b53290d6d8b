import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Each group has two policies, one for members and one for owners; their rules are JSON in
  // Graph's own shape, because every rule type has different fields.
  await db.schema
    .createTable('pim_policies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('access_id', 'text', (c) => c.notNull())
    .addColumn('last_modified_at', 'text')
    .addColumn('last_modified_by', 'text')
    .addUniqueConstraint('pim_policies_group_access', ['group_id', 'access_id'])
    .execute();

  await db.schema
    .createTable('pim_policy_rules')
    .addColumn('policy_id', 'text', (c) =>
      c.notNull().references('pim_policies.id').onDelete('cascade'),
    )
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('pim_policy_rules_pk', ['policy_id', 'rule_id'])
    .execute();

  // Eligibility and assignment schedules share one table: they have the same shape and the same
  // life cycle, and an activation refers to the eligibility it was made from.
  await db.schema
    .createTable('pim_schedules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('access_id', 'text', (c) => c.notNull())
    .addColumn('assignment_type', 'text')
    .addColumn('member_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('start_at', 'text', (c) => c.notNull())
    .addColumn('end_at', 'text')
    .addColumn('expiration_type', 'text', (c) => c.notNull())
    .addColumn('created_using', 'text', (c) => c.notNull())
    .addColumn('activated_using', 'text')
    .addColumn('activation_settings', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('modified_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('pim_schedules_principal')
    .on('pim_schedules')
    .columns(['principal_id', 'kind', 'status', 'group_id'])
    .execute();
  await db.schema
    .createIndex('pim_schedules_group')
    .on('pim_schedules')
    .columns(['group_id', 'kind', 'access_id', 'status'])
    .execute();
  await db.schema
    .createIndex('pim_schedules_end')
    .on('pim_schedules')
    .columns(['status', 'end_at'])
    .execute();

  await db.schema
    .createTable('pim_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('access_id', 'text', (c) => c.notNull())
    .addColumn('justification', 'text')
    .addColumn('ticket_number', 'text')
    .addColumn('ticket_system', 'text')
    .addColumn('custom_data', 'text')
    .addColumn('start_at', 'text')
    .addColumn('expiration_type', 'text', (c) => c.notNull())
    .addColumn('expiration_end', 'text')
    .addColumn('expiration_duration', 'text')
    .addColumn('activation_settings', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('completed_at', 'text')
    .addColumn('approval_id', 'text')
    .addColumn('target_schedule_id', 'text')
    .execute();
  await db.schema
    .createIndex('pim_requests_group')
    .on('pim_requests')
    .columns(['group_id', 'kind', 'created_at'])
    .execute();
  await db.schema
    .createIndex('pim_requests_principal')
    .on('pim_requests')
    .columns(['principal_id', 'kind', 'created_at'])
    .execute();
  await db.schema
    .createIndex('pim_requests_created_by')
    .on('pim_requests')
    .columns(['created_by', 'kind', 'created_at'])
    .execute();
}
