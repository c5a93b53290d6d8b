import type { Command } from 'commander';
import { clientCommand, examples, run } from '../command.js';
import { usageError } from '../errors.js';
import { printJson, type Output } from '../output.js';
import { parseDate, parseDuration } from '../parse.js';
import {
  expirationOf,
  requestsPath,
  requestWindow,
  type AccessId,
  type GraphRequest,
  type Kind,
} from '../pim.js';
import { resolveGroup, resolveUser } from '../resolve.js';
import { connect, type ClientOptions } from '../session.js';

interface AssignOptions extends ClientOptions {
  eligible?: boolean;
  active?: boolean;
  member?: boolean;
  owner?: boolean;
  until?: string;
  for?: string;
  permanent?: boolean;
  start?: string;
  reason?: string;
  ticket?: string;
}

export function registerAssignmentCommands(program: Command): void {
  const assign = clientCommand(
    program,
    'assign <user> <group>',
    'Assign a user to a group, eligible or active (administrators, owners)',
  )
    .option('--eligible', 'an eligible assignment: the user activates it when needed')
    .option('--active', 'an active assignment: the user is a member (or owner) at once')
    .option('--member', 'membership (the default)')
    .option('--owner', 'ownership')
    .option('--until <date>', 'the end, an ISO 8601 date and time', parseDate)
    .option('--for <duration>', 'the length from the start, like 90d or 12h', parseDuration)
    .option('--permanent', 'no end, when the policy allows it')
    .option('--start <date>', 'start later, at this ISO 8601 date and time', parseDate)
    .option('--reason <text>', 'the justification')
    .option('--ticket <number>', 'the ticket number, when the policy asks for one')
    .action(run(assignAction));
  examples(assign, [
    'elevate assign ada@contoso.com "Tier 3 Admins" --eligible --for 180d --reason "On-call rota"',
    'elevate assign bob@contoso.com Partners --active --owner --until 2026-12-31 --reason "Lead"',
  ]);

  const unassign = clientCommand(
    program,
    'unassign <user> <group>',
    "Remove a user's eligible or active assignment",
  )
    .option('--eligible', 'remove the eligible assignment (and end its activations)')
    .option('--active', 'remove the active assignment')
    .option('--member', 'membership (the default)')
    .option('--owner', 'ownership')
    .option('--reason <text>', 'the justification')
    .action(run(unassignAction));
  examples(unassign, ['elevate unassign ada@contoso.com "Tier 3 Admins" --eligible']);
}

async function assignAction(
  output: Output,
  userName: string,
  groupName: string,
  options: AssignOptions,
) {
  const kind = kindOf(options);
  const accessId = accessOf(options);
  const expiration = expirationOf(options, true);
  const { client } = connect(options);
  const user = await resolveUser(client, userName);
  const group = await resolveGroup(client, groupName);

  const request = await client.post<GraphRequest>(`/v1.0${requestsPath(kind)}`, {
    action: 'adminAssign',
    accessId,
    principalId: user.id,
    groupId: group.id,
    justification: options.reason ?? null,
    scheduleInfo: { startDateTime: options.start ?? null, expiration },
    ...(options.ticket ? { ticketInfo: { ticketNumber: options.ticket } } : {}),
  });

  if (output.json) {
    printJson(output, { user, group, kind, ...request });
    return;
  }
  output.out(
    `${user.userPrincipalName} is ${kind === 'eligibility' ? 'eligible for' : 'assigned'} ` +
      `${accessId} of ${group.displayName}, ${requestWindow(request)}.`,
  );
}

async function unassignAction(
  output: Output,
  userName: string,
  groupName: string,
  options: AssignOptions,
) {
  const kind = kindOf(options);
  const accessId = accessOf(options);
  const { client } = connect(options);
  const user = await resolveUser(client, userName);
  const group = await resolveGroup(client, groupName);

  const request = await client.post<GraphRequest>(`/v1.0${requestsPath(kind)}`, {
    action: 'adminRemove',
    accessId,
    principalId: user.id,
    groupId: group.id,
    justification: options.reason ?? null,
  });

  if (output.json) {
    printJson(output, { user, group, kind, ...request });
    return;
  }
  output.out(
    `Removed the ${kind === 'eligibility' ? 'eligible' : 'active'} ${accessId} assignment of ` +
      `${user.userPrincipalName} to ${group.displayName}.`,
  );
}

function kindOf(options: AssignOptions): Kind {
  if (options.eligible === options.active) {
    throw usageError('Say which assignment: --eligible or --active.');
  }
  return options.eligible ? 'eligibility' : 'assignment';
}

function accessOf(options: AssignOptions): AccessId {
  if (options.member && options.owner) throw usageError('Give --member or --owner, not both.');
  return options.owner ? 'owner' : 'member';
}
