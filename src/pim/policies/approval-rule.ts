import { badRequest } from '../../http/errors.js';
import { isGuid } from '../../shared/ids.js';
import { defaultStage } from './defaults.js';
import { PolicyErrors } from './errors.js';
import {
  GROUP_MEMBERS,
  SINGLE_USER,
  type ApprovalMode,
  type ApprovalRule,
  type ApprovalStage,
  type SubjectSet,
} from './model.js';
import {
  checkType,
  normalizeType,
  readArray,
  readBoolean,
  readEnum,
  readInteger,
  readObject,
  readString,
  type Fields,
} from './readers.js';

/** Bounds on approval: Entra offers one stage; Elevate offers two, in series. */
export const ApprovalLimits = {
  stages: 2,
  stageTimeoutDays: { min: 1, max: 7 },
  approversPerStage: 25,
  description: 256,
} as const;

/**
 * Reads `setting` of Approval_EndUser_Assignment over the current one. Approvers are checked for
 * form here and for existence by the service, which has the database.
 */
export function readApproval(current: ApprovalRule, fields: Fields): ApprovalRule {
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
      "setting.approvalMode 'Parallel' is not supported; " +
        'use SingleStage, or Serial for two stages.',
    );
  }
  return mode;
}

function readStages(value: unknown): ApprovalStage[] {
  const path = 'setting.approvalStages';
  const items = readArray(value, path, Number.MAX_SAFE_INTEGER);
  if (items.length > ApprovalLimits.stages) {
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

  const { min, max } = ApprovalLimits.stageTimeoutDays;
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
          ApprovalLimits.approversPerStage,
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
      : readString(fields.description, `${path}.description`, ApprovalLimits.description);
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
