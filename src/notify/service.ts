import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/database.js';
import type { AccessService } from '../directory/access.js';
import type { CallerActor } from '../directory/service.js';
import { conflict, forbidden, notFound } from '../http/errors.js';
import {
  listPage,
  parseODataQuery,
  type CollectionSpec,
  type ODataQuery,
  type Page,
} from '../http/odata.js';
import type { Clock } from '../shared/clock.js';
import { isGuid } from '../shared/ids.js';
import * as store from './store.js';

/** What `GET /admin/notifications/outbox` lets a client filter, select and sort. */
export const outboxCollection: CollectionSpec = {
  fields: {
    id: { column: 'id', type: 'guid' },
    status: { column: 'status', type: 'enum', enumValues: ['pending', 'sent', 'dead'] },
    eventType: { column: 'event_type', type: 'string' },
    template: { column: 'template', type: 'string' },
    correlationId: { column: 'correlation_id', type: 'string' },
    attempts: {
      column: 'attempts',
      type: 'integer',
      operators: ['eq', 'ne', 'gt', 'ge', 'lt', 'le'],
    },
    createdDateTime: {
      column: 'created_at',
      type: 'datetime',
      operators: ['eq', 'ne', 'gt', 'ge', 'lt', 'le'],
      sortable: true,
    },
  },
  selectable: [
    'id',
    'messageId',
    'status',
    'eventType',
    'template',
    'correlationId',
    'toRecipients',
    'subject',
    'attempts',
    'lastError',
    'createdDateTime',
    'nextAttemptDateTime',
    'sentDateTime',
  ],
  defaultOrderBy: [
    { column: 'created_at', direction: 'desc' },
    { column: 'id', direction: 'desc' },
  ],
};

/**
 * The outbox as Global and Privileged Role Administrators see it: which emails wait, were sent
 * or were given up, and a way to send a given-up one again. Bodies are not shown: they are about
 * other people's access, and the subject and recipients tell enough to act.
 */
export class OutboxAdmin {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly access: AccessService,
    private readonly onRequeued: () => void,
  ) {}

  async list(
    actor: CallerActor,
    queryOptions: unknown,
  ): Promise<{ query: ODataQuery; page: Page<store.OutboxRow> }> {
    await this.requireAdmin(actor);

    const query = parseODataQuery(queryOptions, outboxCollection);
    const page = await listPage(this.db.kysely.selectFrom('outbox_messages').selectAll(), query);
    return { query, page };
  }

  /** Puts a dead message back in the queue with a fresh set of attempts. */
  async retry(actor: CallerActor, id: string): Promise<store.OutboxRow> {
    await this.requireAdmin(actor);

    const message = await this.db.kysely.transaction().execute(async (trx) => {
      const found = isGuid(id) ? await store.findMessage(trx, id.toLowerCase()) : undefined;
      if (!found) throw notFound(`Outbox message '${id.slice(0, 64)}' does not exist.`);
      if (!(await store.requeue(trx, found.id, this.clock.now().toISOString()))) {
        throw conflict(
          'OutboxMessageNotDead',
          `The message is ${found.status}; only a dead message can be retried.`,
        );
      }

      await this.audit.record(trx, actor, {
        category: 'GroupManagement',
        service: 'PIM',
        activity: 'Retry notification email',
        operationType: 'Update',
        result: 'success',
        targets: [{ id: found.id, type: 'Other', displayName: found.subject }],
        details: { eventType: found.event_type, correlationId: found.correlation_id },
      });
      return store.findMessage(trx, found.id);
    });

    this.onRequeued();
    if (!message) throw notFound(`Outbox message '${id.slice(0, 64)}' does not exist.`);
    return message;
  }

  private async requireAdmin(actor: CallerActor): Promise<void> {
    if (!(await this.access.isPrivilegedRoleAdmin(actor.caller.userId))) {
      throw forbidden(
        'Only Global Administrators and Privileged Role Administrators may see the outbox.',
      );
    }
  }
}

/** An outbox message as the API shows it, without its body. */
export function toOutboxMessage(row: store.OutboxRow) {
  return {
    id: row.id,
    messageId: row.message_id,
    status: row.status,
    eventType: row.event_type,
    template: row.template,
    correlationId: row.correlation_id,
    toRecipients: JSON.parse(row.to_addresses) as string[],
    subject: row.subject,
    attempts: row.attempts,
    lastError: row.last_error,
    createdDateTime: row.created_at,
    nextAttemptDateTime: row.status === 'pending' ? row.next_attempt_at : null,
    sentDateTime: row.sent_at,
  };
}
