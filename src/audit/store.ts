import { sql, type Kysely, type SqlBool } from 'kysely';
import type { AuditEventTable, Database } from '../db/schema.js';
import {
  listPage,
  type CollectionSpec,
  type FieldSpec,
  type ODataQuery,
  type Page,
} from '../http/odata.js';
import { DIRECTORY_AUDIT_PROPERTIES } from './schema.js';

// Names such as categories and activities are compared without regard to case, as Graph does.
const name = (column: string, operators: FieldSpec['operators'] = ['eq', 'ne']): FieldSpec => ({
  column,
  type: 'string',
  operators,
  caseInsensitive: true,
});

const targetsOfEvent = sql`select 1 from audit_targets
  where audit_targets.audit_event_id = audit_events.id`;

/**
 * What `GET /auditLogs/directoryAudits` lets a client filter and sort, and where it is stored.
 * Ids are compared exactly: every id Elevate issues is stored in lower case.
 */
export const directoryAuditsCollection: CollectionSpec = {
  fields: {
    id: { column: 'audit_events.id', type: 'string' },
    activityDateTime: {
      column: 'audit_events.activity_date_time',
      type: 'datetime',
      operators: ['eq', 'ne', 'gt', 'ge', 'lt', 'le'],
      sortable: true,
    },
    category: name('audit_events.category'),
    loggedByService: name('audit_events.logged_by_service'),
    activityDisplayName: name('audit_events.activity_display_name', ['eq', 'ne', 'startswith']),
    operationType: name('audit_events.operation_type'),
    result: name('audit_events.result'),
    correlationId: name('audit_events.correlation_id'),
    'initiatedBy/user/id': { column: 'audit_events.initiator_id', type: 'string' },
  },
  lambdas: {
    targetResources: {
      fields: { id: { column: 'audit_targets.target_id', type: 'string' } },
      any: (condition) => sql<SqlBool>`exists (${targetsOfEvent} and ${condition})`,
    },
  },
  selectable: DIRECTORY_AUDIT_PROPERTIES,
  // Newest first, as Graph lists audit events.
  defaultOrderBy: [
    { column: 'audit_events.activity_date_time', direction: 'desc' },
    { column: 'audit_events.id', direction: 'desc' },
  ],
};

/**
 * One page of audit events. Paging is by offset: events written while a client pages through
 * push older ones down, so a later page may repeat an event already seen, but never skips one.
 */
export function listAuditEvents(
  db: Kysely<Database>,
  query: ODataQuery,
): Promise<Page<AuditEventTable>> {
  return listPage(db.selectFrom('audit_events').selectAll('audit_events'), query);
}

export function findAuditEvent(
  db: Kysely<Database>,
  id: string,
): Promise<AuditEventTable | undefined> {
  return db.selectFrom('audit_events').selectAll().where('id', '=', id).executeTakeFirst();
}
