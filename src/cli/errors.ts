/** Exit codes of the client commands, listed in `elevate --help`. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  refused: 3,
  unreachable: 4,
  signedOut: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = `
Exit codes:
  0  done
  1  any other failure, such as an error inside the server
  2  usage error: unknown command or option, bad duration or date, unknown or ambiguous name
  3  refused by the server: a policy rule, a missing permission, or a request it cannot accept
  4  cannot reach the server
  5  not signed in, or the sign-in has expired: run elevate login`;

/** One rule of a group's policy that a request broke, with the server's reason. */
export interface RuleFailure {
  rule: string;
  reason: string;
}

export interface CliErrorOptions {
  /** Extra lines for people, such as each failed rule and what to do about it. */
  details?: string[];
  /** The server's error code, or the CLI's own, for --json. */
  code?: string | null;
  rules?: RuleFailure[];
}

/** A failure the command reports in plain words, saying what to do next, and ends with. */
export class CliError extends Error {
  readonly details: string[];
  readonly code: string | null;
  readonly rules: RuleFailure[];

  constructor(
    readonly exitCode: ExitCode,
    message: string,
    options: CliErrorOptions = {},
  ) {
    super(message);
    this.name = 'CliError';
    this.details = options.details ?? [];
    this.code = options.code ?? null;
    this.rules = options.rules ?? [];
  }
}

export const usageError = (message: string, details: string[] = []) =>
  new CliError(ExitCode.usage, message, { details, code: 'UsageError' });

export const signedOut = (message: string) =>
  new CliError(ExitCode.signedOut, message, { code: 'NotSignedIn' });
