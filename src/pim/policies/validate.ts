import { badRequest } from '../../http/errors.js';
import { isGuid } from '../../shared/ids.js';
import { defaultStage } from './defaults.js';
import { PolicyErrors } from './errors.js';
import {
  GROUP_MEMBERS,
  RULE_TYPES,
  SINGLE_USER,
  ruleShape,
  type ApprovalMode,
  type ApprovalRule,
  type ApprovalStage,
  type AuthenticationContextRule,
  type EnablementRule,
  type EnablementValue,
  type ExpirationRule,
  type NotificationLevel,
  type NotificationRule,
  type PolicyRule,
  type RecipientType,
  type RuleId,
  type SubjectSet,
} from './model.js';
import { durationMs } from './view.js';

/** Bounds on what a rule may say; Entra's portal offers less, Elevate allows a little more. */
export const RuleLimits = {
  longestActivationMs: 24 * 60 * 60 * 1000,
  longestAssignmentMs: 3650 * 24 * 60 * 60 * 1000,
  stages: 2,
  stageTimeoutDays: { min: 1, max: 7 },
  approversPerStage: 25,
  recipients: 100,
  mail: 254,
  description: 256,
  claimValue: 100,
} as const;

const ENABLEMENT_ALLOWED: Record<string, readonly EnablementValue[]> = {
  Enablement_EndUser_Assignment: ['MultiFactorAuthentication', 'Justification', 'Ticketing'],
  Enablement_Admin_Eligibility: ['MultiFactorAuthentication', 'Justification', 'Ticketing'],
  Enablement_Admin_Assignment: ['MultiFactorAuthentication', 'Justification'],
};

const MAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

type Fields = Record<string, unknown>;

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
      'An activation always ends: isExpirationRequired must be true for Expiration_EndUser_Assignment.',
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

function readApproval(current: ApprovalRule, fields: Fields): ApprovalRule {
  if (fields.setting === undefined) return current;

  const setting = readObject(fields.setting, 'setting', [
    '@odata.type',
    'isApprovalRequired',
    'isApprovalRequiredForExtension',
    'isRequestorJustificationRequired',
    'approvalMode',
    'approvalStages',
  ]);
  checkType(setting['@odata.type'], 'microsoft.graph.approvalSettings', 'setting.@odata.type');

  const old = current.setting;
  const isApprovalRequired = readBoolean(
    setting,
    'isApprovalRequired',
    old.isApprovalRequired,
    'setting.',
  );
  const approvalMode =
    setting.approvalMode === undefined ? old.approvalMode : readApprovalMode(setting.approvalMode);
  const approvalStages =
    setting.approvalStages === undefined ? old.approvalStages : readStages(setting.approvalStages);

  checkStages(isApprovalRequired, approvalMode, approvalStages);
  return {
    ...current,
    setting: {
      isApprovalRequired,
      isApprovalRequiredForExtension: readBoolean(
        setting,
        'isApprovalRequiredForExtension',
        old.isApprovalRequiredForExtension,
        'setting.',
      ),
      isRequestorJustificationRequired: readBoolean(
        setting,
        'isRequestorJustificationRequired',
        old.isRequestorJustificationRequired,
        'setting.',
      ),
      approvalMode,
      approvalStages,
    },
  };
}

function readApprovalMode(value: unknown): ApprovalMode {
  const mode = readEnum(
    value,
    ['SingleStage', 'Serial', 'Parallel', 'NoApproval'],
    'setting.approvalMode',
  );
  if (mode === 'Parallel') {
    throw badRequest(
      "setting.approvalMode 'Parallel' is not supported; use SingleStage, or Serial for two stages.",
    );
  }
  return mode;
}

function readStages(value: unknown): ApprovalStage[] {
  const path = 'setting.approvalStages';
  const items = readArray(value, path, Number.MAX_SAFE_INTEGER);
  if (items.length > RuleLimits.stages) {
    throw badRequest(`${path} has ${items.length} stages; Elevate supports one or two.`);
  }
  return items.map((item, index) => readStage(item, `${path}[${index}]`));
}

function readStage(value: unknown, path: string): ApprovalStage {
  const fields = readObject(value, path, [
    '@odata.type',
    'approvalStageTimeOutInDays',
    'isApproverJustificationRequired',
    'escalationTimeInMinutes',
    'isEscalationEnabled',
    'primaryApprovers',
    'escalationApprovers',
  ]);
  checkType(fields['@odata.type'], 'microsoft.graph.unifiedApprovalStage', `${path}.@odata.type`);
  const stage = defaultStage();
  const prefix = `${path}.`;

  const { min, max } = RuleLimits.stageTimeoutDays;
  const timeout = readInteger(fields, 'approvalStageTimeOutInDays', prefix, min, max);
  const escalationTime = readInteger(fields, 'escalationTimeInMinutes', prefix, 0, 10080);
  if (readBoolean(fields, 'isEscalationEnabled', false, prefix)) {
    throw badRequest(`${prefix}isEscalationEnabled: escalation is not supported; set it to false.`);
  }
  const escalationApprovers =
    fields.escalationApprovers === undefined
      ? []
      : readArray(fields.escalationApprovers, `${prefix}escalationApprovers`, 0);
  if (escalationApprovers.length > 0) {
    throw badRequest(`${prefix}escalationApprovers: escalation is not supported; leave it empty.`);
  }

  const approvers =
    fields.primaryApprovers === undefined
      ? []
      : readArray(
          fields.primaryApprovers,
          `${prefix}primaryApprovers`,
          RuleLimits.approversPerStage,
        ).map((item, index) => readSubject(item, `${prefix}primaryApprovers[${index}]`));

  return {
    approvalStageTimeOutInDays: timeout ?? stage.approvalStageTimeOutInDays,
    isApproverJustificationRequired: readBoolean(
      fields,
      'isApproverJustificationRequired',
      stage.isApproverJustificationRequired,
      prefix,
    ),
    escalationTimeInMinutes: escalationTime ?? stage.escalationTimeInMinutes,
    isEscalationEnabled: false,
    primaryApprovers: uniqueSubjects(approvers),
    escalationApprovers: [],
  };
}

function readSubject(value: unknown, path: string): SubjectSet {
  const fields = readObject(value, path, [
    '@odata.type',
    'userId',
    'groupId',
    'description',
    'isBackup',
  ]);
  const type = fields['@odata.type'];
  if (type === undefined) {
    throw badRequest(`${path}.@odata.type is required: ${SINGLE_USER} or ${GROUP_MEMBERS}.`);
  }
  const kind = readEnum(
    normalizeType(readString(type, `${path}.@odata.type`, 200)),
    [SINGLE_USER, GROUP_MEMBERS],
    `${path}.@odata.type`,
  );
  if (readBoolean(fields, 'isBackup', false, `${path}.`)) {
    throw badRequest(`${path}.isBackup: backup approvers are not supported; set it to false.`);
  }

  const description =
    fields.description === undefined || fields.description === null
      ? null
      : readString(fields.description, `${path}.description`, RuleLimits.description);
  const idField = kind === SINGLE_USER ? 'userId' : 'groupId';
  const otherField = kind === SINGLE_USER ? 'groupId' : 'userId';
  if (fields[otherField] !== undefined) {
    throw badRequest(`${path}.${otherField} is not a property of ${kind}; give ${idField}.`);
  }
  if (fields[idField] === undefined) throw badRequest(`${path}.${idField} is required.`);

  const id = readString(fields[idField], `${path}.${idField}`, 64);
  if (!isGuid(id)) throw PolicyErrors.approverNotFound(id);

  return kind === SINGLE_USER
    ? { '@odata.type': SINGLE_USER, userId: id.toLowerCase(), description }
    : { '@odata.type': GROUP_MEMBERS, groupId: id.toLowerCase(), description };
}

function uniqueSubjects(subjects: SubjectSet[]): SubjectSet[] {
  const seen = new Set<string>();
  return subjects.filter((subject) => {
    const key =
      subject['@odata.type'] === SINGLE_USER ? `u:${subject.userId}` : `g:${subject.groupId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function checkStages(required: boolean, mode: ApprovalMode, stages: ApprovalStage[]): void {
  if (stages.length === 2 && mode !== 'Serial') {
    throw badRequest(
      'Two approval stages need setting.approvalMode Serial: the second stage follows the first.',
    );
  }
  if (!required) return;

  if (mode === 'NoApproval') {
    throw badRequest("setting.approvalMode 'NoApproval' contradicts isApprovalRequired true.");
  }
  if (stages.length === 0) {
    throw badRequest(
      'Approval is required, so setting.approvalStages needs a stage with approvers.',
    );
  }
  stages.forEach((stage, index) => {
    if (stage.primaryApprovers.length === 0) {
      throw badRequest(
        `setting.approvalStages[${index}].primaryApprovers is empty; a group has no default ` +
          'approvers, so name at least one user or group.',
      );
    }
  });
}

function readAuthenticationContext(
  current: AuthenticationContextRule,
  fields: Fields,
): AuthenticationContextRule {
  if (readBoolean(fields, 'isEnabled', current.isEnabled)) {
    throw badRequest(
      'Authentication contexts are not supported: isEnabled must be false. To demand ' +
        'multi-factor authentication, add MultiFactorAuthentication to Enablement_EndUser_Assignment.',
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

// Readers: each checks one value and names it in its message.

function readObject(value: unknown, path: string, allowed: readonly string[]): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`${path} must be a JSON object.`);
  }

  const fields = value as Fields;
  for (const key of Object.keys(fields)) {
    // Instance annotations such as @odata.context describe a payload; they set nothing.
    const annotation = key.startsWith('@odata.') && key !== '@odata.type';
    if (!allowed.includes(key) && !annotation) {
      throw badRequest(
        `${path} has a property that is not allowed: ${key.slice(0, 100)}. ` +
          `Allowed are: ${allowed.join(', ')}.`,
      );
    }
  }
  return fields;
}

function readBoolean(fields: Fields, key: string, fallback: boolean, prefix = ''): boolean {
  const value = fields[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw badRequest(`${prefix}${key} must be true or false.`);
  return value;
}

/** A whole number from `min` to `max`, or undefined when the property is left out. */
function readInteger(
  fields: Fields,
  key: string,
  prefix: string,
  min: number,
  max: number,
): number | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badRequest(`${prefix}${key} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

function readString(value: unknown, path: string, maxLength: number): string {
  if (typeof value !== 'string') throw badRequest(`${path} must be a string.`);
  if (value.length > maxLength) throw badRequest(`${path} is longer than ${maxLength} characters.`);
  return value;
}

function readArray(value: unknown, path: string, maxItems: number): unknown[] {
  if (!Array.isArray(value)) throw badRequest(`${path} must be an array.`);
  if (value.length > maxItems) throw badRequest(`${path} has more than ${maxItems} items.`);
  return value as unknown[];
}

/** Enum values are accepted in any case and answered in Graph's spelling. */
function readEnum<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  const text = typeof value === 'string' ? value.toLowerCase() : null;
  const found = allowed.find((candidate) => candidate.toLowerCase() === text);
  if (found === undefined) {
    const given = typeof value === 'string' ? `'${value.slice(0, 60)}'` : 'this value';
    throw badRequest(`${path} cannot be ${given}; it takes ${allowed.join(', ')}.`);
  }
  return found;
}

function normalizeType(type: string): string {
  return type.startsWith('#') ? type : `#${type}`;
}

/** Graph writes `@odata.type` with or without the leading `#`; both are accepted, in any case. */
function checkType(value: unknown, expected: string, path: string, required = false): void {
  if (value === undefined) {
    if (required) throw badRequest(`${path} is required: '${normalizeType(expected)}'.`);
    return;
  }
  const given = readString(value, path, 200);
  if (normalizeType(given).toLowerCase() !== normalizeType(expected).toLowerCase()) {
    throw badRequest(
      `${path} must be '${normalizeType(expected)}' for this rule, not '${given.slice(0, 100)}'.`,
    );
  }
}
