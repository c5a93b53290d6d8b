import type { Kysely } from 'kysely';

// Migrations are frozen once released: a later change to the schema is a new migration.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('user_principal_name', 'text', (c) => c.notNull().unique())
    .addColumn('mail', 'text')
    .addColumn('user_type', 'text', (c) => c.notNull())
    .addColumn('account_enabled', 'integer', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('mail_nickname', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('security_enabled', 'integer', (c) => c.notNull())
    .addColumn('mail_enabled', 'integer', (c) => c.notNull())
    .addColumn('is_assignable_to_role', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('groups_display_name').on('groups').column('display_name').execute();

  await db.schema
    .createTable('group_members')
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('relationship', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'relationship', 'principal_id'])
    .execute();
  await db.schema
    .createIndex('group_members_principal')
    .on('group_members')
    .columns(['principal_id', 'relationship'])
    .execute();

  await db.schema
    .createTable('role_definitions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('is_built_in', 'integer', (c) => c.notNull())
    .addColumn('is_enabled', 'integer', (c) => c.notNull())
    .addColumn('template_id', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('role_assignments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('role_definition_id', 'text', (c) => c.notNull().references('role_definitions.id'))
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('directory_scope_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('role_assignments_unique', [
      'principal_id',
      'role_definition_id',
      'directory_scope_id',
    ])
    .execute();

  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('private_jwk', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('totp_methods')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_step', 'integer')
    .execute();
  await db.schema.createIndex('totp_methods_user').on('totp_methods').column('user_id').execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('amr', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sign_in_throttle')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('window_started_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('activity_date_time', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('logged_by_service', 'text', (c) => c.notNull())
    .addColumn('activity_display_name', 'text', (c) => c.notNull())
    .addColumn('operation_type', 'text', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('result_reason', 'text', (c) => c.notNull())
    .addColumn('initiator_id', 'text')
    .addColumn('initiated_by', 'text', (c) => c.notNull())
    .addColumn('target_resources', 'text', (c) => c.notNull())
    .addColumn('additional_details', 'text', (c) => c.notNull())
    .addColumn('correlation_id', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('audit_events_time')
    .on('audit_events')
    .columns(['activity_date_time', 'id'])
    .execute();
  await db.schema
    .createIndex('audit_events_initiator')
    .on('audit_events')
    .columns(['initiator_id', 'activity_date_time'])
    .execute();

  await db.schema
    .createTable('audit_targets')
    .addColumn('audit_event_id', 'text', (c) =>
      c.notNull().references('audit_events.id').onDelete('cascade'),
    )
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_targets_pk', ['target_id', 'audit_event_id'])
    .execute();
}
