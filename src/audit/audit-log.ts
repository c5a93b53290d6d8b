import type { Kysely } from 'kysely';
import { preparedInsert } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import { slices } from '../db/slices.js';
import type { Caller } from '../http/caller.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';

export type AuditCategory = 'UserManagement' | 'GroupManagement' | 'RoleManagement' | 'Policy';
export type AuditService = 'Core Directory' | 'PIM' | 'Authentication' | 'Authentication Methods';

export interface AuditTarget {
  id: string;
  type: 'User' | 'Group' | 'Role' | 'Request' | 'Policy' | 'Other';
  displayName?: string | null;
  userPrincipalName?: string | null;
  /** What changed on this target, each value as JSON text, as Graph writes it. */
  modifiedProperties?: AuditModifiedProperty[];
}

export interface AuditModifiedProperty {
  displayName: string;
  oldValue: string | null;
  newValue: string | null;
}

/** What happened, as the module that did it describes it. */
export interface AuditEvent {
  category: AuditCategory;
  service: AuditService;
  activity: string;
  operationType: 'Add' | 'Update' | 'Delete' | 'Assign' | 'Unassign' | 'Other';
  result: 'success' | 'failure';
  resultReason?: string;
  targets: AuditTarget[];
  /** Key-value details such as the justification and the ticket number. */
  details?: Record<string, string | null | undefined>;
}

/** The origin of a change: who made it, and the id that ties its records together. */
export interface Actor {
  caller: Caller | null;
  correlationId: string;
}

/** Values longer than this are cut in audit records; the requests themselves are capped anyway. */
const MAX_DETAIL = 2000;

/**
 * Writes audit events. Callers pass the transaction of the change they record, so that the
 * change and its audit event commit or fail together.
 */
export class AuditLog {
  constructor(private readonly clock: Clock) {}

  async record(db: Kysely<Database>, actor: Actor, event: AuditEvent): Promise<void> {
    // One event is the common case, on every write request: its insert is built once.
    const row = eventRow(actor, event, this.clock.now().toISOString());
    await insertEvent(db, row);

    // A row per target, each with a statement built once, rather than a multi-row insert that
    // Kysely would build anew for every event.
    for (const target_id of new Set(event.targets.map((t) => t.id))) {
      await insertTarget(db, { audit_event_id: row.id, target_id });
    }
  }

  /**
   * Writes many events with a few multi-row inserts, as a jobs batch that expires hundreds of
   * schedules does; each event is stored exactly as `record` would store it.
   */
  async recordMany(
    db: Kysely<Database>,
    entries: readonly { actor: Actor; event: AuditEvent }[],
  ): Promise<void> {
    const at = this.clock.now().toISOString();
    const events = entries.map(({ actor, event }) => eventRow(actor, event, at));
    const targets = events.flatMap((row, index) => {
      const ids = new Set((entries[index]?.event.targets ?? []).map((t) => t.id));
      return [...ids].map((target_id) => ({ audit_event_id: row.id, target_id }));
    });

    for (const slice of slices(events, ROWS_PER_INSERT)) {
      await db.insertInto('audit_events').values(slice).execute();
    }
    for (const slice of slices(targets, ROWS_PER_INSERT)) {
      await db.insertInto('audit_targets').values(slice).execute();
    }
  }
}

const insertEvent = preparedInsert('audit_events');
const insertTarget = preparedInsert('audit_targets');

/** Rows per insert statement: well under both dialects' limits on bound parameters. */
const ROWS_PER_INSERT = 200;

function eventRow(actor: Actor, event: AuditEvent, at: string) {
  const caller = actor.caller;
  const initiatedBy = caller
    ? {
        user: {
          id: caller.userId,
          displayName: caller.displayName,
          userPrincipalName: caller.userPrincipalName,
          ipAddress: caller.ip,
        },
        app: null,
      }
    : { user: null, app: { displayName: 'Elevate', servicePrincipalId: null } };

  const details = Object.entries(event.details ?? {})
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([key, value]) => ({ key, value: value.slice(0, MAX_DETAIL) }));

  return {
    id: newId(),
    activity_date_time: at,
    category: event.category,
    logged_by_service: event.service,
    activity_display_name: event.activity,
    operation_type: event.operationType,
    result: event.result,
    result_reason: event.resultReason ?? '',
    initiator_id: caller?.userId ?? null,
    initiated_by: JSON.stringify(initiatedBy),
    target_resources: JSON.stringify(
      event.targets.map((t) => ({
        id: t.id,
        displayName: t.displayName ?? null,
        type: t.type,
        userPrincipalName: t.userPrincipalName ?? null,
        modifiedProperties: (t.modifiedProperties ?? []).map((p) => ({
          displayName: p.displayName,
          oldValue: cut(p.oldValue),
          newValue: cut(p.newValue),
        })),
      })),
    ),
    additional_details: JSON.stringify(details),
    correlation_id: actor.correlationId,
  };
}

function cut(value: string | null): string | null {
  return value === null ? null : value.slice(0, MAX_DETAIL);
}
