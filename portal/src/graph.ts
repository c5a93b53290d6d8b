/** The API's shapes, as far as the portal reads them. */

export type AccessId = 'member' | 'owner';

export interface User {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mail: string | null;
  userType: 'Member' | 'Guest';
}

export interface Group {
  id: string;
  displayName: string;
  description: string | null;
  isAssignableToRole: boolean;
}

export interface ScheduleInfo {
  startDateTime: string | null;
  expiration: { type: string; endDateTime: string | null; duration: string | null };
}

export interface Schedule {
  id: string;
  principalId: string;
  groupId: string;
  accessId: AccessId;
  assignmentType?: 'assigned' | 'activated';
  status: string;
  scheduleInfo: ScheduleInfo;
  group?: Group | null;
  principal?: User | null;
}

export interface ScheduleRequest {
  id: string;
  status: string;
  action: string;
  accessId: AccessId;
  principalId: string;
  groupId: string;
  targetScheduleId: string | null;
  approvalId: string | null;
  justification: string | null;
  createdDateTime: string;
  createdBy: { user: { id: string; displayName: string | null } };
  scheduleInfo: ScheduleInfo;
  ticketInfo: { ticketNumber: string | null; ticketSystem: string | null };
  group?: Group | null;
  principal?: User | null;
  targetSchedule?: Schedule | null;
}

export interface ApprovalStage {
  id: string;
  displayName: string | null;
  status: string;
  assignedToMe: boolean;
  reviewResult: string;
  justification: string | null;
}

export interface Approval {
  id: string;
  stages: ApprovalStage[];
}

export interface RoleDefinition {
  id: string;
  displayName: string;
  description: string;
}

export interface RoleAssignment {
  id: string;
  roleDefinitionId: string;
  principalId: string;
}

export type EnablementValue = 'MultiFactorAuthentication' | 'Justification' | 'Ticketing';
export type NotificationLevel = 'None' | 'Critical' | 'All';

export interface SubjectSet {
  '@odata.type': '#microsoft.graph.singleUser' | '#microsoft.graph.groupMembers';
  userId?: string;
  groupId?: string;
  description?: string | null;
}

export interface ApprovalStageSetting {
  approvalStageTimeOutInDays: number;
  isApproverJustificationRequired: boolean;
  escalationTimeInMinutes: number;
  isEscalationEnabled: boolean;
  primaryApprovers: SubjectSet[];
  escalationApprovers: SubjectSet[];
}

interface RuleBase {
  id: string;
  target: Record<string, unknown>;
}

export interface ExpirationRule extends RuleBase {
  '@odata.type': '#microsoft.graph.unifiedRoleManagementPolicyExpirationRule';
  isExpirationRequired: boolean;
  maximumDuration: string | null;
}

export interface EnablementRule extends RuleBase {
  '@odata.type': '#microsoft.graph.unifiedRoleManagementPolicyEnablementRule';
  enabledRules: EnablementValue[];
}

export interface ApprovalRule extends RuleBase {
  '@odata.type': '#microsoft.graph.unifiedRoleManagementPolicyApprovalRule';
  setting: {
    isApprovalRequired: boolean;
    isApprovalRequiredForExtension: boolean;
    isRequestorJustificationRequired: boolean;
    approvalMode: 'SingleStage' | 'Serial' | 'NoApproval';
    approvalStages: ApprovalStageSetting[];
  };
}

export interface NotificationRule extends RuleBase {
  '@odata.type': '#microsoft.graph.unifiedRoleManagementPolicyNotificationRule';
  notificationType: 'Email';
  recipientType: 'Admin' | 'Requestor' | 'Approver';
  notificationLevel: NotificationLevel;
  isDefaultRecipientsEnabled: boolean;
  notificationRecipients: string[];
}

export interface OtherRule extends RuleBase {
  '@odata.type': '#microsoft.graph.unifiedRoleManagementPolicyAuthenticationContextRule';
}

export type PolicyRule =
  ExpirationRule | EnablementRule | ApprovalRule | NotificationRule | OtherRule;

export interface Policy {
  id: string;
  rules: PolicyRule[];
}

export interface PolicyAssignment {
  id: string;
  policyId: string;
  roleDefinitionId: AccessId;
  policy: Policy;
}

export interface AuditEvent {
  id: string;
  category: string;
  activityDisplayName: string;
  activityDateTime: string;
  loggedByService: string;
  result: string;
  resultReason: string;
  initiatedBy: {
    user: {
      id: string | null;
      displayName: string | null;
      userPrincipalName: string | null;
    } | null;
    app: { displayName: string | null } | null;
  };
  targetResources: { id: string; displayName: string | null; type: string }[];
  additionalDetails: { key: string; value: string }[];
}

export const RoleIds = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  privilegedRoleAdministrator: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  groupsAdministrator: 'fdd7a751-b60b-444a-984c-02652fe8fa1c',
  globalReader: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
} as const;

/** The end of a schedule, or null when it has none. */
export function endOf(info: ScheduleInfo): string | null {
  return info.expiration.endDateTime ?? null;
}
