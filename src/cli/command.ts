import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { CliError, ExitCode } from './errors.js';
import { consoleOutput, type Output } from './output.js';
import type { ClientOptions } from './session.js';

/** A client subcommand of `parent`, with the options every client command takes. */
export function clientCommand(parent: Command, nameAndArgs: string, description: string): Command {
  return parent
    .command(nameAndArgs)
    .description(description)
    .option('--server <url>', 'the Elevate server (default: ELEVATE_SERVER, else the sign-in one)')
    .option('--json', 'print machine-readable JSON instead of a table');
}

/** Adds an "Examples" section to the command's help. */
export function examples(command: Command, lines: string[]): Command {
  return command.addHelpText(
    'after',
    `\nExamples:\n` +
      lines.map((line) => (line.startsWith('#') ? `  ${line}` : `  $ ${line}`)).join('\n'),
  );
}

/**
 * Wraps an action: failures are reported in plain words (or as JSON with --json) on stderr, and
 * set the exit code that `elevate --help` documents. Nothing is thrown to commander.
 */
export function run<Args extends unknown[]>(
  handler: (output: Output, ...args: Args) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    // Commander passes the arguments, then the options, then the command itself.
    const command = args[args.length - 1];
    const options = command instanceof Command ? command.opts<ClientOptions>() : {};
    const output = consoleOutput(options.json === true);
    try {
      await handler(output, ...(args as Args));
    } catch (error) {
      process.exitCode = report(output, error);
    }
  };
}

/** Writes the failure for people or scripts and answers its exit code. */
export function report(output: Output, error: unknown): ExitCode {
  const failure = asCliError(error);
  if (output.json) {
    output.err(
      JSON.stringify({
        error: {
          code: failure.code,
          message: failure.message,
          exitCode: failure.exitCode,
          ...(failure.rules.length > 0 ? { rules: failure.rules } : {}),
          ...(failure.details.length > 0 ? { details: failure.details } : {}),
        },
      }),
    );
  } else {
    output.err(`elevate: ${failure.message}`);
    for (const line of failure.details) output.err(`  ${line}`);
  }
  return failure.exitCode;
}

function asCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof InvalidArgumentError || error instanceof CommanderError) {
    return new CliError(ExitCode.usage, error.message, { code: 'UsageError' });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CliError(ExitCode.failure, `Unexpected failure: ${message}`, { code: 'Failure' });
}
