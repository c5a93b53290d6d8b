import type { AccessId } from '../../db/schema.js';

/** The 17 rules of every group policy, in the order Graph lists them. */
export const RULE_IDS = [
  'Expiration_Admin_Eligibility',
  'Enablement_Admin_Eligibility',
  'Notification_Admin_Admin_Eligibility',
  'Notification_Requestor_Admin_Eligibility',
  'Notification_Approver_Admin_Eligibility',
  'Expiration_Admin_Assignment',
  'Enablement_Admin_Assignment',
  'Notification_Admin_Admin_Assignment',
  'Notification_Requestor_Admin_Assignment',
  'Notification_Approver_Admin_Assignment',
  'Expiration_EndUser_Assignment',
  'Enablement_EndUser_Assignment',
  'Approval_EndUser_Assignment',
  'AuthenticationContext_EndUser_Assignment',
  'Notification_Admin_EndUser_Assignment',
  'Notification_Requestor_EndUser_Assignment',
  'Notification_Approver_EndUser_Assignment',
] as const;

export type RuleId = (typeof RULE_IDS)[number];
export type NotificationRuleId = Extract<RuleId, `Notification_${string}`>;

export const NOTIFICATION_RULE_IDS = RULE_IDS.filter((id): id is NotificationRuleId =>
  id.startsWith('Notification_'),
);

export type Approver = { kind: 'user'; userId: string } | { kind: 'group'; groupId: string };

export interface ApprovalStageSetting {
  timeoutDays: number;
  isApproverJustificationRequired: boolean;
  approvers: Approver[];
}

export interface Requirements {
  mfa: boolean;
  justification: boolean;
  ticket: boolean;
}

export interface ExpirationSetting {
  isExpirationRequired: boolean;
  /**
   * The longest time-bound assignment or activation, or null when the rule gives none: a rule
   * that allows permanent assignments sets no maximum on time-bound ones either, as in Entra.
   */
  maximumDurationMs: number | null;
}

export interface NotificationSetting {
  level: 'None' | 'Critical' | 'All';
  isDefaultRecipientsEnabled: boolean;
  recipients: string[];
}

/** A typed view of one policy's 17 rules, for the request engine and the notifications. */
export interface PolicyView {
  policyId: string;
  groupId: string;
  accessId: AccessId;
  activation: ExpirationSetting &
    Requirements & {
      approval: {
        required: boolean;
        isRequestorJustificationRequired: boolean;
        stages: ApprovalStageSetting[];
      };
    };
  /** Expiration_Admin_Eligibility and Enablement_Admin_Eligibility. */
  eligibleAssignment: ExpirationSetting & Requirements;
  /** Expiration_Admin_Assignment and Enablement_Admin_Assignment. */
  activeAssignment: ExpirationSetting & Requirements;
  notifications: Record<NotificationRuleId, NotificationSetting>;
}

// Rules as Graph writes them. They are stored in this shape too, so that a rule reads back
// exactly as it was accepted.

export type RuleKind =
  'Expiration' | 'Enablement' | 'Approval' | 'AuthenticationContext' | 'Notification';
export type RuleCaller = 'Admin' | 'EndUser';
export type RuleLevel = 'Eligibility' | 'Assignment';
export type EnablementValue = 'MultiFactorAuthentication' | 'Justification' | 'Ticketing';
export type RecipientType = 'Admin' | 'Requestor' | 'Approver';
export type NotificationLevel = NotificationSetting['level'];
/** Graph also has `Parallel`, which Elevate refuses. */
export type ApprovalMode = 'SingleStage' | 'Serial' | 'NoApproval';

export const RULE_TYPES = {
  Expiration: '#microsoft.graph.unifiedRoleManagementPolicyExpirationRule',
  Enablement: '#microsoft.graph.unifiedRoleManagementPolicyEnablementRule',
  Approval: '#microsoft.graph.unifiedRoleManagementPolicyApprovalRule',
  AuthenticationContext: '#microsoft.graph.unifiedRoleManagementPolicyAuthenticationContextRule',
  Notification: '#microsoft.graph.unifiedRoleManagementPolicyNotificationRule',
} as const satisfies Record<RuleKind, string>;

export const SINGLE_USER = '#microsoft.graph.singleUser';
export const GROUP_MEMBERS = '#microsoft.graph.groupMembers';

export interface RuleTarget {
  caller: RuleCaller;
  operations: string[];
  level: RuleLevel;
  inheritableSettings: string[];
  enforcedSettings: string[];
}

interface RuleBase<Kind extends RuleKind> {
  '@odata.type': (typeof RULE_TYPES)[Kind];
  id: RuleId;
}

export interface ExpirationRule extends RuleBase<'Expiration'> {
  isExpirationRequired: boolean;
  maximumDuration: string | null;
  target: RuleTarget;
}

export interface EnablementRule extends RuleBase<'Enablement'> {
  enabledRules: EnablementValue[];
  target: RuleTarget;
}

export type SubjectSet =
  | { '@odata.type': typeof SINGLE_USER; userId: string; description: string | null }
  | { '@odata.type': typeof GROUP_MEMBERS; groupId: string; description: string | null };

export interface ApprovalStage {
  approvalStageTimeOutInDays: number;
  isApproverJustificationRequired: boolean;
  escalationTimeInMinutes: number;
  isEscalationEnabled: boolean;
  primaryApprovers: SubjectSet[];
  escalationApprovers: SubjectSet[];
}

export interface ApprovalSettings {
  /**
   * Kept as given for clients that read it back. Elevate does not consult it: every extension or
   * renewal a principal asks for is decided by an administrator.
   */
  isApprovalRequiredForExtension: boolean;
  isApprovalRequired: boolean;
  isRequestorJustificationRequired: boolean;
  approvalMode: ApprovalMode;
  approvalStages: ApprovalStage[];
}

export interface ApprovalRule extends RuleBase<'Approval'> {
  target: RuleTarget;
  setting: ApprovalSettings;
}

export interface AuthenticationContextRule extends RuleBase<'AuthenticationContext'> {
  isEnabled: boolean;
  claimValue: string | null;
  target: RuleTarget;
}

export interface NotificationRule extends RuleBase<'Notification'> {
  notificationType: 'Email';
  recipientType: RecipientType;
  notificationLevel: NotificationLevel;
  isDefaultRecipientsEnabled: boolean;
  notificationRecipients: string[];
  target: RuleTarget;
}

export type PolicyRule =
  ExpirationRule | EnablementRule | ApprovalRule | AuthenticationContextRule | NotificationRule;

/** What a rule id says about its rule: `Notification_{recipient}_{caller}_{level}` and the rest. */
export interface RuleShape {
  kind: RuleKind;
  caller: RuleCaller;
  level: RuleLevel;
  /** Notification rules only. */
  recipientType: RecipientType | null;
}

export function ruleShape(id: RuleId): RuleShape {
  const parts = id.split('_');
  const kind = parts[0] as RuleKind;
  const [recipient, caller, level] =
    kind === 'Notification' ? parts.slice(1) : [null, ...parts.slice(1)];
  return {
    kind,
    caller: caller as RuleCaller,
    level: level as RuleLevel,
    recipientType: (recipient ?? null) as RecipientType | null,
  };
}

/** The rule id spelled as Elevate spells it, whatever the case it was given in. */
export function findRuleId(text: string): RuleId | undefined {
  const lower = text.toLowerCase();
  return RULE_IDS.find((id) => id.toLowerCase() === lower);
}

export function isNotificationRule(rule: PolicyRule): rule is NotificationRule {
  return rule['@odata.type'] === RULE_TYPES.Notification;
}
