import { ApiError } from './api';

/** What each failed policy rule means for the person who asked. */
const RULES: Record<string, string> = {
  TicketingRule: 'This group needs a ticket number.',
  JustificationRule: 'This group needs a justification: say why you need the access.',
  MfaRule: 'This group needs multi-factor authentication: confirm with your authenticator code.',
  ExpirationRule: 'The duration is longer than this group allows, or it has no end.',
  EligibilityRule: 'You are not eligible for this group for the whole time you asked for.',
  ApprovalRule: 'This group needs approval but names no approvers. Ask an administrator.',
  ExtensionWindowRule: 'You can ask for an extension only in the last 14 days before the end.',
  RenewalWindowRule: 'You can ask for a renewal only within 30 days after the end.',
};

const CODES: Record<string, string> = {
  RoleAssignmentExists: 'You already have this access.',
  PendingRoleAssignmentRequest:
    'A request for this access is already waiting. Cancel it or wait for the decision.',
  RoleAssignmentDoesNotExist: 'That assignment no longer exists.',
  SubjectNotFound: 'That user no longer exists.',
  ApprovalAlreadyDecided: 'Someone has already decided this request.',
  ApprovalExpired: 'The time to decide this request has passed.',
  RequestNotPending: 'This request is no longer waiting, so it cannot be canceled.',
  InvalidCredentials: 'The user name, password or code is wrong.',
  TooManyRequests: 'Too many attempts. Wait a minute and try again.',
  NetworkError: 'Elevate cannot be reached. Check your connection and try again.',
};

/** The rule names a policy refusal lists, such as `TicketingRule`. */
export function failedRules(error: unknown): string[] {
  if (!(error instanceof ApiError)) return [];
  if (error.code !== 'RoleAssignmentRequestPolicyValidationFailed') return [];
  return Object.keys(RULES).filter((rule) => error.message.includes(rule));
}

/** An error in words a person understands, rather than the API's code. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) {
    return error instanceof Error ? error.message : 'Something went wrong.';
  }

  const rules = failedRules(error);
  if (rules.length > 0) return rules.map((rule) => RULES[rule]).join(' ');

  const known = CODES[error.code];
  if (known) return known;
  if (error.status === 401) return 'Your session has ended. Please sign in again.';
  if (error.status === 403) return "You don't have permission to do this.";
  if (error.status === 404) return 'This no longer exists. It may have been removed.';
  if (error.status >= 500) return 'Elevate ran into a problem. Try again in a moment.';
  return error.message || 'The request was not accepted.';
}
