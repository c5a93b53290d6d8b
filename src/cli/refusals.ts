import { CliError, ExitCode, signedOut, type RuleFailure } from './errors.js';

/** Graph's error body, and OAuth's for the token endpoint. */
export interface ErrorBody {
  error?: { code?: string; message?: string } | string;
  error_description?: string;
}

/** What to do about each rule a policy can refuse a request by. */
const ADVICE: Record<string, string> = {
  ExpirationRule: 'Ask for a shorter time with --for or --until.',
  JustificationRule: 'Say why with --reason TEXT.',
  TicketingRule: 'Give the ticket with --ticket NUMBER.',
  MfaRule: 'Sign in again with your one-time code: elevate login --otp CODE.',
  EligibilityRule:
    'Ask an administrator to make you eligible, or ask for a time inside your eligibility.',
  ApprovalRule: 'The policy requires approval but names no approvers; tell an administrator.',
  ExtensionWindowRule: 'Extensions are possible only shortly before the end; try again later.',
  RenewalWindowRule: 'It ended too long ago to renew; ask an administrator to assign it again.',
};

const POLICY_FAILED = 'RoleAssignmentRequestPolicyValidationFailed';

/** The rules named in a policy refusal, each with the reason the server gave. */
export function failedRules(message: string): RuleFailure[] {
  const list = /rules failed: (\[[^\]]*\])/.exec(message)?.[1];
  let names: string[] = [];
  try {
    const parsed: unknown = list ? JSON.parse(list) : [];
    names = Array.isArray(parsed) ? parsed.filter((n): n is string => typeof n === 'string') : [];
  } catch {
    names = [];
  }

  return names.map((rule) => {
    const start = message.indexOf(`${rule}: `);
    if (start === -1) return { rule, reason: '' };
    const from = start + rule.length + 2;
    const ends = names
      .map((other) => message.indexOf(`${other}: `, from))
      .filter((index) => index !== -1);
    return { rule, reason: message.slice(from, Math.min(message.length, ...ends)).trim() };
  });
}

/** The lines that explain a policy refusal: each rule, its reason, and what to do. */
export function explainRules(rules: RuleFailure[]): string[] {
  return rules.map(({ rule, reason }) =>
    [`${rule}:`, reason, ADVICE[rule] ?? ''].filter(Boolean).join(' '),
  );
}

/** The error code and message of an error body, whichever shape it has. */
export function describeBody(body: unknown): { code: string | null; message: string | null } {
  const shaped = (typeof body === 'object' && body !== null ? body : {}) as ErrorBody;
  if (typeof shaped.error === 'string') {
    return { code: shaped.error, message: shaped.error_description ?? null };
  }
  return { code: shaped.error?.code ?? null, message: shaped.error?.message ?? null };
}

/** Turns a failed API call into the error the command ends with, saying what to do next. */
export function toCliError(status: number, body: unknown, server: string): CliError {
  const { code, message } = describeBody(body);
  const text = message ?? `The server answered ${status}.`;

  if (status === 401) {
    return signedOut(
      `Your sign-in to ${server} is not valid any more (expired, or the account changed). ` +
        'Sign in again: elevate login USER',
    );
  }
  if (code === POLICY_FAILED) {
    const rules = failedRules(text);
    return new CliError(ExitCode.refused, "Refused by the group's policy:", {
      details: explainRules(rules),
      code,
      rules,
    });
  }
  if (status === 429) {
    return new CliError(ExitCode.refused, `${text} Wait a few minutes and try again.`, { code });
  }
  if (status === 403) {
    return new CliError(
      ExitCode.refused,
      `${text} Ask an administrator if you need this permission.`,
      { code },
    );
  }
  if (status >= 400 && status < 500) {
    return new CliError(ExitCode.refused, text, { code });
  }
  return new CliError(
    ExitCode.failure,
    `The server failed (${status}${code ? ` ${code}` : ''}): ${text} Try again; if it persists, ` +
      "check the server's log.",
    { code },
  );
}
