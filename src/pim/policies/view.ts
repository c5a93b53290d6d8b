import { durationMs } from '../durations.js';
import type { AccessId } from '../../db/schema.js';
import { defaultRule } from './defaults.js';
import {
  GROUP_MEMBERS,
  NOTIFICATION_RULE_IDS,
  RULE_TYPES,
  type Approver,
  type ApprovalRule,
  type EnablementRule,
  type ExpirationRule,
  type ExpirationSetting,
  type NotificationRule,
  type NotificationRuleId,
  type NotificationSetting,
  type PolicyRule,
  type PolicyView,
  type Requirements,
  type RuleId,
  type SubjectSet,
} from './model.js';

/**
 * Reads a policy's rules into the settings the request engine and the notifications act on. A
 * rule missing from `rules` counts with its default.
 *
 * @example
 * const view = toPolicyView({ policyId, groupId, accessId: 'member' }, rules);
 * if (view.activation.approval.required) ...
 */
export function toPolicyView(
  policy: { policyId: string; groupId: string; accessId: AccessId },
  rules: readonly PolicyRule[],
): PolicyView {
  const byId = new Map<RuleId, PolicyRule>(rules.map((rule) => [rule.id, rule]));
  const rule = <T extends PolicyRule>(id: RuleId, type: T['@odata.type']): T => {
    const found = byId.get(id) ?? defaultRule(id);
    if (found['@odata.type'] !== type) throw new Error(`Rule ${id} is stored with the wrong type.`);
    return found as T;
  };
  const expiration = (id: RuleId) => rule<ExpirationRule>(id, RULE_TYPES.Expiration);
  const enablement = (id: RuleId) => rule<EnablementRule>(id, RULE_TYPES.Enablement);

  const approval = rule<ApprovalRule>('Approval_EndUser_Assignment', RULE_TYPES.Approval).setting;
  const notifications = Object.fromEntries(
    NOTIFICATION_RULE_IDS.map((id) => [
      id,
      toNotificationSetting(rule<NotificationRule>(id, RULE_TYPES.Notification)),
    ]),
  ) as Record<NotificationRuleId, NotificationSetting>;

  return {
    ...policy,
    activation: {
      ...toExpirationSetting(expiration('Expiration_EndUser_Assignment')),
      ...toRequirements(enablement('Enablement_EndUser_Assignment')),
      approval: {
        required: approval.isApprovalRequired && approval.approvalMode !== 'NoApproval',
        isRequestorJustificationRequired: approval.isRequestorJustificationRequired,
        stages: approval.approvalStages.map((stage) => ({
          timeoutDays: stage.approvalStageTimeOutInDays,
          isApproverJustificationRequired: stage.isApproverJustificationRequired,
          approvers: stage.primaryApprovers.map(toApprover),
        })),
      },
    },
    eligibleAssignment: {
      ...toExpirationSetting(expiration('Expiration_Admin_Eligibility')),
      ...toRequirements(enablement('Enablement_Admin_Eligibility')),
    },
    activeAssignment: {
      ...toExpirationSetting(expiration('Expiration_Admin_Assignment')),
      ...toRequirements(enablement('Enablement_Admin_Assignment')),
    },
    notifications,
  };
}

function toExpirationSetting(rule: ExpirationRule): ExpirationSetting {
  const maximum = rule.maximumDuration === null ? null : durationMs(rule.maximumDuration);
  return {
    isExpirationRequired: rule.isExpirationRequired,
    maximumDurationMs: rule.isExpirationRequired ? maximum : null,
  };
}

function toRequirements(rule: EnablementRule): Requirements {
  return {
    mfa: rule.enabledRules.includes('MultiFactorAuthentication'),
    justification: rule.enabledRules.includes('Justification'),
    ticket: rule.enabledRules.includes('Ticketing'),
  };
}

function toApprover(subject: SubjectSet): Approver {
  return subject['@odata.type'] === GROUP_MEMBERS
    ? { kind: 'group', groupId: subject.groupId }
    : { kind: 'user', userId: subject.userId };
}

function toNotificationSetting(rule: NotificationRule): NotificationSetting {
  return {
    level: rule.notificationLevel,
    isDefaultRecipientsEnabled: rule.isDefaultRecipientsEnabled,
    recipients: [...rule.notificationRecipients],
  };
}
