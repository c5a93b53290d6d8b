import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // The stages of an approval; the approval's id is its request's id, as in Graph. Approvers are
  // stored as the policy named them (users, groups, or "the administrators") and resolved when
  // someone decides, so that a change of membership counts at once.
  await db.schema
    .createTable('pim_approval_stages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('approval_id', 'text', (c) =>
      c.notNull().references('pim_requests.id').onDelete('cascade'),
    )
    .addColumn('stage_index', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('approvers', 'text', (c) => c.notNull())
    .addColumn('is_approver_justification_required', 'integer', (c) => c.notNull())
    .addColumn('timeout_days', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('review_result', 'text', (c) => c.notNull())
    .addColumn('reviewed_by', 'text')
    .addColumn('reviewed_at', 'text')
    .addColumn('justification', 'text')
    .addUniqueConstraint('pim_approval_stages_order', ['approval_id', 'stage_index'])
    .execute();
  await db.schema
    .createIndex('pim_approval_stages_due')
    .on('pim_approval_stages')
    .columns(['status', 'expires_at'])
    .execute();
}
