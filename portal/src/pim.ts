import {
  ApiError,
  batch,
  get,
  getAll,
  odataString,
  PIM,
  post,
  query,
  type BatchResult,
} from './api';
import {
  endOf,
  type AccessId,
  type ApprovalRule,
  type EnablementRule,
  type ExpirationRule,
  type PolicyAssignment,
  type PolicyRule,
  type RoleAssignment,
  type RoleDefinition,
  type Schedule,
  type ScheduleRequest,
} from './graph';
import { DAY_MS, isoDurationMs, serverNow, syncServerClock } from './time';

export type Kind = 'eligibility' | 'assignment';

export const requestsUrl = (kind: Kind) => `${PIM}/${kind}ScheduleRequests`;

/** What a group's policy asks of an activation. */
export interface ActivationNeeds {
  maxMs: number | null;
  mfa: boolean;
  justification: boolean;
  ticket: boolean;
  approval: boolean;
  /** False when the policy could not be read (guests may not): ask for everything then. */
  known: boolean;
}

export const UNKNOWN_NEEDS: ActivationNeeds = {
  maxMs: null,
  mfa: false,
  justification: true,
  ticket: false,
  approval: false,
  known: false,
};

export function ruleOf<T extends PolicyRule>(rules: PolicyRule[], id: string): T | undefined {
  return rules.find((rule) => rule.id === id) as T | undefined;
}

export function activationNeeds(rules: PolicyRule[]): ActivationNeeds {
  const expiration = ruleOf<ExpirationRule>(rules, 'Expiration_EndUser_Assignment');
  const enablement = ruleOf<EnablementRule>(rules, 'Enablement_EndUser_Assignment');
  const approval = ruleOf<ApprovalRule>(rules, 'Approval_EndUser_Assignment');
  const enabled = enablement?.enabledRules ?? [];
  return {
    maxMs: isoDurationMs(expiration?.maximumDuration),
    mfa: enabled.includes('MultiFactorAuthentication'),
    justification: enabled.includes('Justification'),
    ticket: enabled.includes('Ticketing'),
    approval: Boolean(approval?.setting.isApprovalRequired),
    known: true,
  };
}

export function policyUrl(groupId: string, accessId: AccessId): string {
  return `/v1.0/policies/roleManagementPolicyAssignments${query({
    $filter:
      `scopeId eq ${odataString(groupId)} and scopeType eq 'Group' and ` +
      `roleDefinitionId eq '${accessId}'`,
    $expand: 'policy($expand=rules)',
  })}`;
}

/** The group's member or owner policy with its rules, or null when the caller may not read it. */
export async function loadPolicy(
  groupId: string,
  accessId: AccessId,
): Promise<PolicyAssignment | null> {
  try {
    const body = await get<{ value: PolicyAssignment[] }>(policyUrl(groupId, accessId));
    return body.value[0] ?? null;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) return null;
    throw error;
  }
}

let definitions: Promise<Map<string, RoleDefinition>> | null = null;

export function roleDefinitions(): Promise<Map<string, RoleDefinition>> {
  definitions ??= getAll<RoleDefinition>('/v1.0/roleManagement/directory/roleDefinitions').then(
    (list) => new Map(list.map((role) => [role.id, role])),
  );
  return definitions;
}

/**
 * The names of the roles a group holds, or null when the caller may not read its role
 * assignments (the directory shows them to readers, and to each principal for itself).
 */
export async function rolesOfGroup(groupId: string): Promise<string[] | null> {
  try {
    const [assignments, names] = await Promise.all([
      getAll<RoleAssignment>(
        `/v1.0/roleManagement/directory/roleAssignments${query({
          $filter: `principalId eq ${odataString(groupId)}`,
        })}`,
      ),
      roleDefinitions(),
    ]);
    return assignments
      .map((a) => names.get(a.roleDefinitionId)?.displayName ?? a.roleDefinitionId)
      .sort();
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return null;
    throw error;
  }
}

/**
 * The roles that reach the user now through each group it is in, by group: what a user who may
 * not read a group's role assignments still learns about the groups it has activated.
 */
export async function rolesThroughMyGroups(userId: string): Promise<Map<string, string[]>> {
  const [assignments, names] = await Promise.all([
    getAll<RoleAssignment>(
      `/v1.0/roleManagement/directory/transitiveRoleAssignments${query({
        $filter: `principalId eq ${odataString(userId)}`,
      })}`,
    ),
    roleDefinitions(),
  ]);
  const byGroup = new Map<string, string[]>();
  for (const assignment of assignments) {
    if (assignment.principalId === userId) continue;
    const name = names.get(assignment.roleDefinitionId)?.displayName ?? assignment.roleDefinitionId;
    byGroup.set(
      assignment.principalId,
      [...(byGroup.get(assignment.principalId) ?? []), name].sort(),
    );
  }
  return byGroup;
}

export interface MyAccess {
  eligible: Schedule[];
  active: Schedule[];
  pending: (ScheduleRequest & { kind: Kind })[];
  /** Time-bound assignments that ended within the renewal window and have no successor. */
  ended: (Schedule & { kind: Kind })[];
}

const PENDING = "status eq 'PendingApproval' or status eq 'PendingAdminDecision'";
export const RENEWAL_WINDOW_MS = 30 * DAY_MS;
export const EXTENSION_WINDOW_MS = 14 * DAY_MS;

export async function loadMyAccess(): Promise<MyAccess> {
  const mine = "filterByCurrentUser(on='principal')";
  const [eligible, active, pendingAssignments, pendingEligibilities, pastE, pastA] =
    await Promise.all([
      syncServerClock().then(() =>
        getAll<Schedule>(`${PIM}/eligibilitySchedules/${mine}?$expand=group`),
      ),
      getAll<Schedule>(`${PIM}/assignmentSchedules/${mine}?$expand=group`),
      getAll<ScheduleRequest>(`${requestsUrl('assignment')}/${mine}${pendingQuery()}`),
      getAll<ScheduleRequest>(`${requestsUrl('eligibility')}/${mine}${pendingQuery()}`),
      getAll<ScheduleRequest>(`${requestsUrl('eligibility')}/${mine}${pastQuery()}`, 2),
      getAll<ScheduleRequest>(`${requestsUrl('assignment')}/${mine}${pastQuery()}`, 2),
    ]);

  const live = new Set(
    [...eligible.map((s) => `eligibility/${s.groupId}/${s.accessId}`)].concat(
      active
        .filter((s) => s.assignmentType === 'assigned')
        .map((s) => `assignment/${s.groupId}/${s.accessId}`),
    ),
  );
  const now = serverNow().getTime();
  const ended = new Map<string, Schedule & { kind: Kind }>();
  for (const [kind, requests] of [
    ['eligibility', pastE],
    ['assignment', pastA],
  ] as const) {
    for (const request of requests) {
      const target = request.targetSchedule;
      const end = target ? endOf(target.scheduleInfo) : null;
      if (!target || !end || target.assignmentType === 'activated') continue;
      const endedAgo = now - Date.parse(end);
      if (endedAgo <= 0 || endedAgo > RENEWAL_WINDOW_MS) continue;
      if (live.has(`${kind}/${target.groupId}/${target.accessId}`)) continue;
      ended.set(target.id, { ...target, group: request.group ?? null, kind });
    }
  }

  return {
    eligible,
    active,
    pending: [
      ...pendingAssignments.map((r) => ({ ...r, kind: 'assignment' as const })),
      ...pendingEligibilities.map((r) => ({ ...r, kind: 'eligibility' as const })),
    ],
    ended: [...ended.values()],
  };
}

function pendingQuery(): string {
  return query({ $filter: PENDING, $expand: 'group' });
}

function pastQuery(): string {
  return query({ $expand: 'group,targetSchedule', $top: '100' });
}

export interface ActivationInput {
  groupId: string;
  accessId: AccessId;
  principalId: string;
  minutes: number;
  justification: string;
  ticketNumber: string;
  ticketSystem: string;
}

export function activationBody(input: ActivationInput) {
  return {
    action: 'selfActivate',
    principalId: input.principalId,
    groupId: input.groupId,
    accessId: input.accessId,
    justification: input.justification.trim() || null,
    scheduleInfo: {
      startDateTime: null,
      expiration: { type: 'afterDuration', duration: `PT${input.minutes}M` },
    },
    ...(input.ticketNumber.trim()
      ? {
          ticketInfo: {
            ticketNumber: input.ticketNumber.trim(),
            ticketSystem: input.ticketSystem.trim() || null,
          },
        }
      : {}),
  };
}

/** Activates one group, or several in one `$batch` round trip. */
export async function activate(inputs: ActivationInput[]): Promise<BatchResult<ScheduleRequest>[]> {
  if (inputs.length === 1 && inputs[0]) {
    const input = inputs[0];
    try {
      const body = await post<ScheduleRequest>(requestsUrl('assignment'), activationBody(input));
      return [{ id: input.groupId, ok: true, body, error: null }];
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return [{ id: input.groupId, ok: false, body: null, error }];
    }
  }
  return batch<ScheduleRequest>(
    inputs.map((input, index) => ({
      id: String(index + 1),
      method: 'POST',
      url: `/identityGovernance/privilegedAccess/group/assignmentScheduleRequests`,
      body: activationBody(input),
    })),
  ).then((results) =>
    results.map((result, index) => ({ ...result, id: inputs[index]?.groupId ?? result.id })),
  );
}

export function deactivate(schedule: Schedule) {
  return post(requestsUrl('assignment'), {
    action: 'selfDeactivate',
    principalId: schedule.principalId,
    groupId: schedule.groupId,
    accessId: schedule.accessId,
  });
}

/** Asks an administrator to move the end of an assignment (extend) or to bring it back (renew). */
export function askForMore(
  kind: Kind,
  action: 'selfExtend' | 'selfRenew',
  schedule: Schedule,
  end: Date,
  justification: string,
) {
  return post<ScheduleRequest>(requestsUrl(kind), {
    action,
    principalId: schedule.principalId,
    groupId: schedule.groupId,
    accessId: schedule.accessId,
    targetScheduleId: action === 'selfExtend' ? schedule.id : null,
    justification: justification.trim() || null,
    scheduleInfo: {
      startDateTime: null,
      expiration: { type: 'afterDateTime', endDateTime: end.toISOString() },
    },
  });
}

export function cancelRequest(kind: Kind, id: string) {
  return post(`${requestsUrl(kind)}/${encodeURIComponent(id)}/cancel`);
}
