import type { Response, TestElevate, TestUser } from '../support/elevate.js';

export const BASE = '/v1.0/identityGovernance/privilegedAccess/group';
export const ELIGIBILITY_REQUESTS = `${BASE}/eligibilityScheduleRequests`;
export const ASSIGNMENT_REQUESTS = `${BASE}/assignmentScheduleRequests`;

type Access = 'member' | 'owner';

export interface RequestOptions {
  access?: Access;
  justification?: string | null;
  ticket?: string;
  start?: string;
  duration?: string;
  end?: string;
  permanent?: boolean;
  mfa?: boolean;
  as?: TestUser;
  extra?: Record<string, unknown>;
}

function scheduleInfo(options: RequestOptions) {
  if (options.permanent) {
    return { startDateTime: options.start ?? null, expiration: { type: 'noExpiration' } };
  }
  const expiration = options.end
    ? { type: 'afterDateTime', endDateTime: options.end }
    : options.duration
      ? { type: 'afterDuration', duration: options.duration }
      : undefined;
  return { startDateTime: options.start ?? null, ...(expiration ? { expiration } : {}) };
}

/** Posts a schedule request and answers the raw response. */
export function submit(
  elevate: TestElevate,
  kind: 'eligibility' | 'assignment',
  action: string,
  principal: TestUser,
  groupId: string,
  options: RequestOptions = {},
): Promise<Response> {
  return elevate.request(
    'POST',
    kind === 'eligibility' ? ELIGIBILITY_REQUESTS : ASSIGNMENT_REQUESTS,
    {
      ...(options.as ? { as: options.as } : {}),
      mfa: options.mfa ?? false,
      body: {
        accessId: options.access ?? 'member',
        principalId: principal.id,
        groupId,
        action,
        justification:
          options.justification === undefined ? 'needed for work' : options.justification,
        scheduleInfo: scheduleInfo(options),
        ...(options.ticket
          ? { ticketInfo: { ticketNumber: options.ticket, ticketSystem: 'Jira' } }
          : {}),
        ...options.extra,
      },
    },
  );
}

/** Makes the principal eligible as an admin would; fails the test if it cannot. */
export async function makeEligible(
  elevate: TestElevate,
  principal: TestUser,
  groupId: string,
  options: RequestOptions = {},
) {
  const response = await submit(elevate, 'eligibility', 'adminAssign', principal, groupId, {
    duration: 'P90D',
    ...options,
  });
  if (response.status !== 201) throw new Error(`makeEligible: ${JSON.stringify(response.body)}`);
  return response.body;
}

export function activate(
  elevate: TestElevate,
  principal: TestUser,
  groupId: string,
  options: RequestOptions = {},
) {
  return submit(elevate, 'assignment', 'selfActivate', principal, groupId, {
    duration: 'PT2H',
    as: principal,
    ...options,
  });
}

export function deactivate(
  elevate: TestElevate,
  principal: TestUser,
  groupId: string,
  access: Access = 'member',
) {
  return submit(elevate, 'assignment', 'selfDeactivate', principal, groupId, {
    as: principal,
    access,
    justification: null,
  });
}

/** The role definition ids that reach the user now, through the directory API. */
export async function effectiveRoles(elevate: TestElevate, user: TestUser): Promise<string[]> {
  const response = await elevate.request(
    'GET',
    `/v1.0/roleManagement/directory/transitiveRoleAssignments?$filter=principalId eq '${user.id}'`,
  );
  if (response.status !== 200) throw new Error(`effectiveRoles: ${JSON.stringify(response.body)}`);
  return (response.body.value as { roleDefinitionId: string }[])
    .map((a) => a.roleDefinitionId)
    .sort();
}

/** Ids of the users who are members (or owners) of the group now, through the directory API. */
export async function membersOf(elevate: TestElevate, groupId: string, relationship = 'members') {
  const response = await elevate.request('GET', `/v1.0/groups/${groupId}/${relationship}`);
  if (response.status !== 200) throw new Error(`membersOf: ${JSON.stringify(response.body)}`);
  return (response.body.value as { id: string }[]).map((u) => u.id);
}

/** Changes one rule of the group's member or owner policy through the policy API. */
export async function patchRule(
  elevate: TestElevate,
  groupId: string,
  access: Access,
  rule: Record<string, unknown> & { id: string },
) {
  const assignmentPath =
    '/v1.0/policies/roleManagementPolicyAssignments?$filter=' +
    `scopeId eq '${groupId}' and scopeType eq 'Group' and roleDefinitionId eq '${access}'`;
  const policies = await elevate.request('GET', assignmentPath);
  let policyId = policies.body?.value?.[0]?.policyId as string | undefined;
  if (!policyId) {
    // A group is onboarded by its first request or policy change; a harmless request onboards it.
    const someone = await elevate.createUser();
    await makeEligible(elevate, someone, groupId, { access });
    const again = await elevate.request('GET', assignmentPath);
    policyId = again.body.value[0].policyId as string;
  }
  const response = await elevate.request(
    'PATCH',
    `/v1.0/policies/roleManagementPolicies/${policyId}/rules/${rule.id}`,
    { body: rule },
  );
  if (response.status !== 204) throw new Error(`patchRule: ${JSON.stringify(response.body)}`);
}

export function enablementRule(id: string, enabledRules: string[]) {
  const [, caller, level] = id.split('_');
  return {
    '@odata.type': '#microsoft.graph.unifiedRoleManagementPolicyEnablementRule',
    id,
    enabledRules,
    target: { caller, operations: ['All'], level, inheritableSettings: [], enforcedSettings: [] },
  };
}

export function expirationRule(id: string, maximumDuration: string, isExpirationRequired = true) {
  const [, caller, level] = id.split('_');
  return {
    '@odata.type': '#microsoft.graph.unifiedRoleManagementPolicyExpirationRule',
    id,
    isExpirationRequired,
    maximumDuration,
    target: { caller, operations: ['All'], level, inheritableSettings: [], enforcedSettings: [] },
  };
}

export function approvalRule(
  stages: { users?: string[]; groups?: string[]; timeoutDays?: number; justification?: boolean }[],
) {
  return {
    '@odata.type': '#microsoft.graph.unifiedRoleManagementPolicyApprovalRule',
    id: 'Approval_EndUser_Assignment',
    target: {
      caller: 'EndUser',
      operations: ['All'],
      level: 'Assignment',
      inheritableSettings: [],
      enforcedSettings: [],
    },
    setting: {
      isApprovalRequired: stages.length > 0,
      isApprovalRequiredForExtension: false,
      isRequestorJustificationRequired: true,
      approvalMode:
        stages.length > 1 ? 'Serial' : stages.length === 1 ? 'SingleStage' : 'NoApproval',
      approvalStages: stages.map((stage) => ({
        approvalStageTimeOutInDays: stage.timeoutDays ?? 1,
        isApproverJustificationRequired: stage.justification ?? false,
        escalationTimeInMinutes: 0,
        isEscalationEnabled: false,
        primaryApprovers: [
          ...(stage.users ?? []).map((userId) => ({
            '@odata.type': '#microsoft.graph.singleUser',
            userId,
          })),
          ...(stage.groups ?? []).map((groupId) => ({
            '@odata.type': '#microsoft.graph.groupMembers',
            groupId,
          })),
        ],
        escalationApprovers: [],
      })),
    },
  };
}
