import { GraphError, badRequest, conflict, forbidden, notFound } from '../http/errors.js';

/** The rule names that a policy refusal can list, as Graph and DESIGN name them. */
export type PolicyRuleName =
  | 'ExpirationRule'
  | 'JustificationRule'
  | 'TicketingRule'
  | 'MfaRule'
  | 'EligibilityRule'
  | 'ApprovalRule'
  | 'ExtensionWindowRule'
  | 'RenewalWindowRule';

export interface RuleFailure {
  rule: PolicyRuleName;
  reason: string;
}

export const PimErrors = {
  /** Every failed rule at once, in Graph's older array form, each with what to fix. */
  policyValidationFailed: (failures: RuleFailure[]) =>
    new GraphError(
      400,
      'RoleAssignmentRequestPolicyValidationFailed',
      `The following policy rules failed: ${JSON.stringify(failures.map((f) => f.rule))}. ` +
        failures.map((f) => `${f.rule}: ${f.reason}`).join(' '),
    ),
  assignmentExists: () =>
    new GraphError(400, 'RoleAssignmentExists', 'The role assignment already exists.'),
  assignmentDoesNotExist: (what: string) =>
    new GraphError(
      400,
      'RoleAssignmentDoesNotExist',
      `The role assignment does not exist: ${what}`,
    ),
  pendingRequest: () =>
    new GraphError(
      400,
      'PendingRoleAssignmentRequest',
      'A request for this assignment is already pending; cancel it or wait for its decision.',
    ),
  subjectNotFound: (id: string) =>
    new GraphError(400, 'SubjectNotFound', `Principal '${id.slice(0, 64)}' does not exist.`),
  groupNotFound: (id: string) => notFound(`Group '${id.slice(0, 64)}' does not exist.`),
  requestNotFound: (id: string) => notFound(`Request '${id.slice(0, 64)}' does not exist.`),
  scheduleNotFound: (id: string) => notFound(`Schedule '${id.slice(0, 80)}' does not exist.`),
  notPending: (status: string) =>
    conflict('RequestNotPending', `The request is ${status} and can no longer be canceled.`),
  actingForSomeoneElse: () =>
    forbidden(
      'A self-service action can only be requested for yourself: principalId must be yours.',
    ),
  badAction: (action: string, kind: string) =>
    badRequest(`action '${action.slice(0, 40)}' is not valid for ${kind} requests.`),
};
