import type { Command, CommanderError } from 'commander';
import { registerAccessCommands } from './commands/access.js';
import { registerApprovalCommands } from './commands/approvals.js';
import { registerAssignmentCommands } from './commands/assignments.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerGroupCommands } from './commands/groups.js';
import { registerPolicyCommands } from './commands/policy.js';
import { registerSessionCommands } from './commands/session.js';
import { registerUserCommands } from './commands/users.js';
import { EXIT_CODES_HELP, ExitCode } from './errors.js';

const CLIENT_HELP = `
Client commands talk to an Elevate server over its API: sign in with elevate login, then
run the others. The server is --server URL, else ELEVATE_SERVER, else the one you signed in
to, else http://127.0.0.1:8080. Add --json to any client command for machine-readable output.
Groups, users and roles are given by name or id.`;

/**
 * Adds the client commands of the `elevate` binary: signing in, self-service PIM, approvals and
 * administration, each a thin layer over the HTTP API.
 */
export function registerClientCommands(program: Command): void {
  registerSessionCommands(program);
  registerAccessCommands(program);
  registerApprovalCommands(program);
  registerAssignmentCommands(program);
  registerUserCommands(program);
  registerGroupCommands(program);
  registerPolicyCommands(program);
  registerAuditCommands(program);
  registerCompletionCommand(program);

  program.addHelpText('after', `${CLIENT_HELP}\n${EXIT_CODES_HELP}`);

  // Usage errors end with their own exit code, in commands registered before these and after.
  useUsageExitCode(program);
  program.hook('preSubcommand', (_parent, subcommand) => useUsageExitCode(subcommand));
}

function useUsageExitCode(command: Command): void {
  command.showHelpAfterError(`(run ${commandPath(command)} --help for usage)`);
  command.exitOverride(exitOnUsageError);
  for (const sub of command.commands) useUsageExitCode(sub);
}

/** Help and version end with 0, as commander decides; every other complaint of its is usage. */
function exitOnUsageError(error: CommanderError): void {
  if (error.exitCode !== 0) process.exit(ExitCode.usage);
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current; current = current.parent) {
    names.unshift(current.name());
  }
  return names.join(' ');
}
