import { Type, type Static } from '@sinclair/typebox';
import type { PimRequestTable, PimScheduleTable, ScheduleKind } from '../db/schema.js';

/** Caps on free text in requests: long enough for people, too short for abuse. */
export const Limits = { justification: 500, ticket: 100, customData: 1000, recipients: 20 };

const NullableString = (maxLength: number) =>
  Type.Optional(Type.Union([Type.String({ maxLength }), Type.Null()]));

export const ActivationSettings = Type.Object(
  {
    isMfaRequired: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    notificationLevel: Type.Optional(Type.Union([Type.String({ maxLength: 20 }), Type.Null()])),
    additionalRecipients: Type.Optional(
      Type.Union([
        Type.Array(Type.String({ maxLength: 254 }), { maxItems: Limits.recipients }),
        Type.Null(),
      ]),
    ),
  },
  { additionalProperties: false },
);
export type ActivationSettings = Static<typeof ActivationSettings>;

/**
 * The body of a schedule request. Only what a client may set is here: `status`, `createdBy`,
 * `approvalId` and the like are refused, never silently taken.
 */
export const RequestBody = Type.Object(
  {
    '@odata.type': Type.Optional(Type.String({ maxLength: 200 })),
    accessId: Type.String({ maxLength: 20 }),
    action: Type.String({ maxLength: 40 }),
    principalId: Type.String({ maxLength: 64 }),
    groupId: Type.String({ maxLength: 64 }),
    justification: NullableString(Limits.justification),
    customData: NullableString(Limits.customData),
    isValidationOnly: Type.Optional(Type.Boolean()),
    targetScheduleId: NullableString(200),
    scheduleInfo: Type.Optional(
      Type.Object(
        {
          startDateTime: NullableString(40),
          recurrence: Type.Optional(Type.Null()),
          expiration: Type.Optional(
            Type.Object(
              {
                type: Type.Optional(Type.String({ maxLength: 40 })),
                endDateTime: NullableString(40),
                duration: NullableString(40),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    ticketInfo: Type.Optional(
      Type.Union([
        Type.Object(
          {
            ticketNumber: NullableString(Limits.ticket),
            ticketSystem: NullableString(Limits.ticket),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    ),
    activationSettings: Type.Optional(Type.Union([ActivationSettings, Type.Null()])),
  },
  { additionalProperties: false },
);
export type RequestBody = Static<typeof RequestBody>;

export type RequestRow = PimRequestTable;
export type ScheduleRow = PimScheduleTable;

/** The effective settings of one eligibility, with `null` meaning "as the policy says". */
export interface StoredActivationSettings {
  isMfaRequired: boolean | null;
  notificationLevel: 'None' | 'Critical' | 'All' | null;
  additionalRecipients: string[];
}

export function readActivationSettings(json: string | null): StoredActivationSettings {
  if (!json) return { isMfaRequired: null, notificationLevel: null, additionalRecipients: [] };
  return JSON.parse(json) as StoredActivationSettings;
}

export function toGraphRequest(row: RequestRow, createdByName: string | null = null) {
  return {
    id: row.id,
    status: row.status,
    action: row.action,
    accessId: row.access_id,
    principalId: row.principal_id,
    groupId: row.group_id,
    targetScheduleId: row.target_schedule_id,
    approvalId: row.approval_id,
    justification: row.justification,
    customData: row.custom_data,
    isValidationOnly: false,
    createdDateTime: row.created_at,
    completedDateTime: row.completed_at,
    createdBy: { user: { id: row.created_by, displayName: createdByName } },
    scheduleInfo: {
      startDateTime: row.start_at,
      recurrence: null,
      expiration: {
        type: row.expiration_type,
        endDateTime: row.expiration_end,
        duration: row.expiration_duration,
      },
    },
    ticketInfo: { ticketNumber: row.ticket_number, ticketSystem: row.ticket_system },
    ...(row.kind === 'eligibility'
      ? { activationSettings: readActivationSettings(row.activation_settings) }
      : {}),
  };
}

export function toGraphSchedule(row: ScheduleRow) {
  return {
    id: row.id,
    principalId: row.principal_id,
    groupId: row.group_id,
    accessId: row.access_id,
    memberType: row.member_type,
    ...(row.kind === 'assignment' ? { assignmentType: row.assignment_type } : {}),
    status: row.status,
    createdUsing: row.created_using,
    createdDateTime: row.created_at,
    modifiedDateTime: row.modified_at,
    scheduleInfo: {
      startDateTime: row.start_at,
      recurrence: null,
      expiration: {
        type: row.end_at === null ? 'noExpiration' : 'afterDateTime',
        endDateTime: row.end_at,
        duration: null,
      },
    },
    ...(row.kind === 'eligibility'
      ? { activationSettings: readActivationSettings(row.activation_settings) }
      : {}),
  };
}

export function toGraphInstance(row: ScheduleRow) {
  const common = {
    id: row.id,
    principalId: row.principal_id,
    groupId: row.group_id,
    accessId: row.access_id,
    memberType: row.member_type,
    startDateTime: row.start_at,
    endDateTime: row.end_at,
  };
  return row.kind === 'assignment'
    ? { ...common, assignmentType: row.assignment_type, assignmentScheduleId: row.id }
    : { ...common, eligibilityScheduleId: row.id };
}

/** Graph's entity set name of each kind of collection, for `@odata.context`. */
export function collectionName(kind: ScheduleKind, what: 'requests' | 'schedules' | 'instances') {
  const prefix = kind === 'assignment' ? 'assignment' : 'eligibility';
  const suffix = {
    requests: 'ScheduleRequests',
    schedules: 'Schedules',
    instances: 'ScheduleInstances',
  };
  return `identityGovernance/privilegedAccess/group/${prefix}${suffix[what]}`;
}
