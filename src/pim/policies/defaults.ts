import {
  RULE_IDS,
  RULE_TYPES,
  ruleShape,
  type ApprovalStage,
  type PolicyRule,
  type RuleId,
  type RuleTarget,
} from './model.js';

/** The target of every rule: it applies to all operations of its caller at its level. */
export function targetOf(id: RuleId): RuleTarget {
  const { caller, level } = ruleShape(id);
  return { caller, operations: ['All'], level, inheritableSettings: [], enforcedSettings: [] };
}

/** A stage as Entra creates it: one day to decide, with the approver's justification. */
export function defaultStage(): ApprovalStage {
  return {
    approvalStageTimeOutInDays: 1,
    isApproverJustificationRequired: true,
    escalationTimeInMinutes: 0,
    isEscalationEnabled: false,
    primaryApprovers: [],
    escalationApprovers: [],
  };
}

/**
 * A rule as it is before anyone changes it: activation for at most eight hours with a
 * justification, no approval, eligible assignments for at most a year and active ones for at most
 * six months, both with an end, and every notification to its default recipients.
 */
export function defaultRule(id: RuleId): PolicyRule {
  const shape = ruleShape(id);
  const target = targetOf(id);

  switch (shape.kind) {
    case 'Expiration': {
      const maximumDuration =
        id === 'Expiration_EndUser_Assignment'
          ? 'PT8H'
          : id === 'Expiration_Admin_Eligibility'
            ? 'P365D'
            : 'P180D';
      return {
        '@odata.type': RULE_TYPES.Expiration,
        id,
        isExpirationRequired: true,
        maximumDuration,
        target,
      };
    }

    case 'Enablement':
      return {
        '@odata.type': RULE_TYPES.Enablement,
        id,
        enabledRules: id === 'Enablement_Admin_Eligibility' ? [] : ['Justification'],
        target,
      };

    case 'Approval':
      return {
        '@odata.type': RULE_TYPES.Approval,
        id,
        target,
        setting: {
          isApprovalRequired: false,
          isApprovalRequiredForExtension: false,
          isRequestorJustificationRequired: true,
          approvalMode: 'SingleStage',
          approvalStages: [defaultStage()],
        },
      };

    case 'AuthenticationContext':
      return {
        '@odata.type': RULE_TYPES.AuthenticationContext,
        id,
        isEnabled: false,
        claimValue: null,
        target,
      };

    case 'Notification':
      return {
        '@odata.type': RULE_TYPES.Notification,
        id,
        notificationType: 'Email',
        recipientType: shape.recipientType ?? 'Admin',
        notificationLevel: 'All',
        isDefaultRecipientsEnabled: true,
        notificationRecipients: [],
        target,
      };
  }
}

/** The 17 rules of a policy nobody has changed yet, fresh objects on every call. */
export function defaultRules(): PolicyRule[] {
  return RULE_IDS.map(defaultRule);
}
