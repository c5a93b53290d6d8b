import { Type } from '@sinclair/typebox';
import type { AuditEventTable } from '../db/schema.js';

const queryOption = (description: string) => Type.Optional(Type.String({ description }));

/**
 * The query options of `GET /auditLogs/directoryAudits`, for the OpenAPI document; the OData
 * module reads and checks them, and answers 400 for anything the list does not support.
 */
export const DirectoryAuditsQueryString = Type.Object(
  {
    $filter: queryOption(
      'Conditions joined with and, as in activityDateTime ge 2026-01-01T00:00:00Z and ' +
        "category eq 'RoleManagement', initiatedBy/user/id eq '...' or " +
        "targetResources/any(t: t/id eq '...').",
    ),
    $select: queryOption('Properties to answer, comma-separated; id is always included.'),
    $orderby: queryOption('activityDateTime asc or desc; newest first without it.'),
    $top: queryOption('Page size, 1 to 999; further pages through @odata.nextLink.'),
    $skiptoken: queryOption('Written by @odata.nextLink; do not build it yourself.'),
    $count: queryOption('true to include @odata.count, the number of all matches.'),
  },
  { additionalProperties: true },
);

export const AuditIdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) });

export interface UserIdentity {
  id: string;
  displayName: string | null;
  userPrincipalName: string | null;
  ipAddress: string | null;
}

export interface AppIdentity {
  appId: string | null;
  displayName: string | null;
  servicePrincipalId: string | null;
  servicePrincipalName: string | null;
}

export interface ModifiedProperty {
  displayName: string;
  oldValue: string | null;
  newValue: string | null;
}

export interface TargetResource {
  id: string;
  displayName: string | null;
  type: string;
  userPrincipalName: string | null;
  modifiedProperties: ModifiedProperty[];
}

/** Graph's `directoryAudit` resource. */
export interface DirectoryAudit {
  id: string;
  category: string;
  correlationId: string;
  result: string;
  resultReason: string;
  activityDisplayName: string;
  activityDateTime: string;
  loggedByService: string;
  operationType: string;
  initiatedBy: { user: UserIdentity | null; app: AppIdentity | null };
  targetResources: TargetResource[];
  additionalDetails: { key: string; value: string }[];
}

export const DIRECTORY_AUDIT_PROPERTIES = [
  'id',
  'category',
  'correlationId',
  'result',
  'resultReason',
  'activityDisplayName',
  'activityDateTime',
  'loggedByService',
  'operationType',
  'initiatedBy',
  'targetResources',
  'additionalDetails',
] as const satisfies readonly (keyof DirectoryAudit)[];

/** An audit event as Graph shows it. Its JSON columns were written by `AuditLog.record`. */
export function toDirectoryAudit(row: AuditEventTable): DirectoryAudit {
  return {
    id: row.id,
    category: row.category,
    correlationId: row.correlation_id,
    result: row.result,
    resultReason: row.result_reason,
    activityDisplayName: row.activity_display_name,
    activityDateTime: row.activity_date_time,
    loggedByService: row.logged_by_service,
    operationType: row.operation_type,
    initiatedBy: readInitiatedBy(row.initiated_by),
    targetResources: readArray(row.target_resources).map(readTarget),
    additionalDetails: readArray(row.additional_details).map((detail) => ({
      key: text(field(detail, 'key')) ?? '',
      value: text(field(detail, 'value')) ?? '',
    })),
  };
}

// The JSON columns are read defensively and field by field, so that an event written by an older
// version, with fewer or more fields, still answers in today's shape.

function readInitiatedBy(json: string): DirectoryAudit['initiatedBy'] {
  const stored = parse(json);
  const user = field(stored, 'user');
  const app = field(stored, 'app');

  return {
    user:
      isObject(user) && typeof user.id === 'string'
        ? {
            id: user.id,
            displayName: text(user.displayName),
            userPrincipalName: text(user.userPrincipalName),
            ipAddress: text(user.ipAddress),
          }
        : null,
    app: isObject(app)
      ? {
          appId: text(app.appId),
          displayName: text(app.displayName),
          servicePrincipalId: text(app.servicePrincipalId),
          servicePrincipalName: text(app.servicePrincipalName),
        }
      : null,
  };
}

function readTarget(stored: unknown): TargetResource {
  return {
    id: text(field(stored, 'id')) ?? '',
    displayName: text(field(stored, 'displayName')),
    type: text(field(stored, 'type')) ?? 'Other',
    userPrincipalName: text(field(stored, 'userPrincipalName')),
    modifiedProperties: readList(field(stored, 'modifiedProperties')).map((property) => ({
      displayName: text(field(property, 'displayName')) ?? '',
      oldValue: text(field(property, 'oldValue')),
      newValue: text(field(property, 'newValue')),
    })),
  };
}

function parse(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return null;
  }
}

function readArray(json: string): unknown[] {
  return readList(parse(json));
}

function readList(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(value: unknown, key: string): unknown {
  return isObject(value) ? value[key] : undefined;
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
