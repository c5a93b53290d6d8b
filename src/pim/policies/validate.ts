import { badRequest } from '../../http/errors.js';
import { readApproval } from './approval-rule.js';
import {
  RULE_TYPES,
  ruleShape,
  type AuthenticationContextRule,
  type EnablementRule,
  type EnablementValue,
  type ExpirationRule,
  type NotificationLevel,
  type NotificationRule,
  type PolicyRule,
  type RecipientType,
  type RuleId,
} from './model.js';
import {
  checkType,
  readArray,
  readBoolean,
  readEnum,
  readObject,
  readString,
  type Fields,
} from './readers.js';
import { durationMs } from '../durations.js';

/** Bounds on what a rule may say; Entra's portal offers less, Elevate allows a little more. */
export const RuleLimits = {
  longestActivationMs: 24 * 60 * 60 * 1000,
  longestAssignmentMs: 3650 * 24 * 60 * 60 * 1000,
  recipients: 100,
  mail: 254,
  claimValue: 100,
} as const;

const ENABLEMENT_ALLOWED: Record<string, readonly EnablementValue[]> = {
  Enablement_EndUser_Assignment: ['MultiFactorAuthentication', 'Justification', 'Ticketing'],
  Enablement_Admin_Eligibility: ['MultiFactorAuthentication', 'Justification', 'Ticketing'],
  Enablement_Admin_Assignment: ['MultiFactorAuthentication', 'Justification'],
};

const MAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

/**
 * Reads the body of a rule update over the rule as it is now, and answers the rule as it will be.
 * A property the body leaves out keeps its value; a collection it gives replaces the old one, as
 * in OData's PATCH. Anything that is not a property of the rule, or that Elevate cannot enforce,
 * answers 400 naming the property. Approvers are checked for form here and for existence by the
 * caller, which has the database.
 */
export function readRuleUpdate(current: PolicyRule, body: unknown): PolicyRule {
  const fields = readObject(body, 'The rule', [
    ...RULE_COMMON,
    ...RULE_FIELDS[ruleShape(current.id).kind],
  ]);
  checkType(fields['@odata.type'], current['@odata.type'], '@odata.type', true);
  if (
    fields.id !== undefined &&
    readString(fields.id, 'id', 100).toLowerCase() !== current.id.toLowerCase()
  ) {
    throw badRequest(`id must be '${current.id}', the rule named in the URL.`);
  }
  if (fields.target !== undefined) checkTarget(fields.target, current.id);

  switch (current['@odata.type']) {
    case RULE_TYPES.Expiration:
      return readExpiration(current, fields);
    case RULE_TYPES.Enablement:
      return readEnablement(current, fields);
    case RULE_TYPES.Approval:
      return readApproval(current, fields);
    case RULE_TYPES.AuthenticationContext:
      return readAuthenticationContext(current, fields);
    case RULE_TYPES.Notification:
      return readNotification(current, fields);
  }
}

const RULE_COMMON = ['@odata.type', 'id', 'target'];
const RULE_FIELDS = {
  Expiration: ['isExpirationRequired', 'maximumDuration'],
  Enablement: ['enabledRules'],
  Approval: ['setting'],
  AuthenticationContext: ['isEnabled', 'claimValue'],
  Notification: [
    'notificationType',
    'recipientType',
    'notificationLevel',
    'isDefaultRecipientsEnabled',
    'notificationRecipients',
  ],
};

function readExpiration(current: ExpirationRule, fields: Fields): ExpirationRule {
  const isExpirationRequired = readBoolean(
    fields,
    'isExpirationRequired',
    current.isExpirationRequired,
  );
  const maximumDuration =
    fields.maximumDuration === undefined
      ? current.maximumDuration
      : readMaximumDuration(fields.maximumDuration, current.id);

  if (current.id === 'Expiration_EndUser_Assignment' && !isExpirationRequired) {
    throw badRequest(
      'An activation always ends: isExpirationRequired must be true for ' +
        'Expiration_EndUser_Assignment.',
    );
  }
  if (isExpirationRequired && maximumDuration === null) {
    throw badRequest('maximumDuration is required when isExpirationRequired is true.');
  }
  return { ...current, isExpirationRequired, maximumDuration };
}

function readMaximumDuration(value: unknown, id: RuleId): string | null {
  if (value === null) return null;

  const text = readString(value, 'maximumDuration', 40);
  const ms = durationMs(text);
  if (ms === null) {
    throw badRequest(
      `maximumDuration '${text}' is not an ISO 8601 duration in weeks, days, hours, minutes ` +
        'or seconds, such as PT8H or P365D.',
    );
  }

  const activation = id === 'Expiration_EndUser_Assignment';
  const longest = activation ? RuleLimits.longestActivationMs : RuleLimits.longestAssignmentMs;
  if (ms <= 0 || ms > longest) {
    throw badRequest(
      `maximumDuration must be longer than zero and at most ${activation ? 'P1D' : 'P3650D'} ` +
        `for ${id}.`,
    );
  }
  return text;
}

function readEnablement(current: EnablementRule, fields: Fields): EnablementRule {
  if (fields.enabledRules === undefined) return current;

  const allowed = ENABLEMENT_ALLOWED[current.id] ?? [];
  const values = readArray(fields.enabledRules, 'enabledRules', 10).map((value, index) =>
    readEnum(value, allowed, `enabledRules[${index}]`),
  );
  return { ...current, enabledRules: [...new Set(values)] };
}

function readAuthenticationContext(
  current: AuthenticationContextRule,
  fields: Fields,
): AuthenticationContextRule {
  if (readBoolean(fields, 'isEnabled', current.isEnabled)) {
    throw badRequest(
      'Authentication contexts are not supported: isEnabled must be false. To demand ' +
        'multi-factor authentication, add MultiFactorAuthentication to ' +
        'Enablement_EndUser_Assignment.',
    );
  }

  const claimValue =
    fields.claimValue === undefined
      ? current.claimValue
      : fields.claimValue === null
        ? null
        : readString(fields.claimValue, 'claimValue', RuleLimits.claimValue);
  return { ...current, isEnabled: false, claimValue };
}

function readNotification(current: NotificationRule, fields: Fields): NotificationRule {
  if (fields.notificationType !== undefined) {
    readEnum(fields.notificationType, ['Email'], 'notificationType');
  }
  if (fields.recipientType !== undefined) {
    const recipientType = readEnum<RecipientType>(
      fields.recipientType,
      ['Admin', 'Requestor', 'Approver'],
      'recipientType',
    );
    if (recipientType !== current.recipientType) {
      throw badRequest(`recipientType of ${current.id} is ${current.recipientType}.`);
    }
  }

  const notificationLevel =
    fields.notificationLevel === undefined
      ? current.notificationLevel
      : readEnum<NotificationLevel>(
          fields.notificationLevel,
          ['None', 'Critical', 'All'],
          'notificationLevel',
        );
  const notificationRecipients =
    fields.notificationRecipients === undefined
      ? current.notificationRecipients
      : readRecipients(fields.notificationRecipients);

  return {
    ...current,
    notificationLevel,
    isDefaultRecipientsEnabled: readBoolean(
      fields,
      'isDefaultRecipientsEnabled',
      current.isDefaultRecipientsEnabled,
    ),
    notificationRecipients,
  };
}

function readRecipients(value: unknown): string[] {
  const recipients = new Map<string, string>();
  readArray(value, 'notificationRecipients', RuleLimits.recipients).forEach((item, index) => {
    const path = `notificationRecipients[${index}]`;
    const mail = readString(item, path, RuleLimits.mail).trim();
    if (!MAIL.test(mail)) throw badRequest(`${path} '${mail}' is not an email address.`);
    if (!recipients.has(mail.toLowerCase())) recipients.set(mail.toLowerCase(), mail);
  });
  return [...recipients.values()];
}

/** `target` may be sent back as it was read; it cannot move a rule to another caller or level. */
function checkTarget(value: unknown, id: RuleId): void {
  const shape = ruleShape(id);
  const target = readObject(value, 'target', [
    '@odata.type',
    'caller',
    'operations',
    'level',
    'inheritableSettings',
    'enforcedSettings',
    'targetObjects',
  ]);
  checkType(
    target['@odata.type'],
    'microsoft.graph.unifiedRoleManagementPolicyRuleTarget',
    'target.@odata.type',
  );

  if (target.caller !== undefined) {
    const caller = readEnum(target.caller, ['None', 'Admin', 'EndUser'], 'target.caller');
    if (caller !== shape.caller) throw badRequest(`target.caller of ${id} is ${shape.caller}.`);
  }
  if (target.level !== undefined) {
    const level = readEnum(target.level, ['Eligibility', 'Assignment'], 'target.level');
    if (level !== shape.level) throw badRequest(`target.level of ${id} is ${shape.level}.`);
  }
  if (target.operations !== undefined) {
    const operations = readArray(target.operations, 'target.operations', 10);
    const all =
      operations.length === 1 &&
      typeof operations[0] === 'string' &&
      operations[0].toLowerCase() === 'all';
    if (!all) {
      throw badRequest('target.operations must be ["All"]: each rule applies to every operation.');
    }
  }
  for (const key of ['inheritableSettings', 'enforcedSettings', 'targetObjects']) {
    const setting = target[key];
    if (setting === undefined || (key === 'targetObjects' && setting === null)) continue;
    if (readArray(setting, `target.${key}`, Number.MAX_SAFE_INTEGER).length > 0) {
      throw badRequest(`target.${key} is not supported; leave it empty.`);
    }
  }
}
