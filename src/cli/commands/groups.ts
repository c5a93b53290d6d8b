import type { Command } from 'commander';
import { odataPath, quote, type ApiClient } from '../client.js';
import { clientCommand, examples, run } from '../command.js';
import { CliError, ExitCode } from '../errors.js';
import { fields, printJson, table, when, type Output } from '../output.js';
import { schedulesPath, type GraphSchedule } from '../pim.js';
import { toCliError } from '../refusals.js';
import { resolveGroup, resolveRole, roleDefinitions, type GroupRef } from '../resolve.js';
import { connect, type ClientOptions } from '../session.js';

interface GraphGroup {
  id: string;
  displayName: string;
  mailNickname: string;
  description: string | null;
  isAssignableToRole: boolean;
  securityEnabled: boolean;
  createdDateTime: string;
}

interface RoleAssignment {
  id: string;
  roleDefinitionId: string;
  principalId: string;
}

interface AddOptions extends ClientOptions {
  description?: string;
  mailNickname?: string;
  roleAssignable?: boolean;
}

export function registerGroupCommands(program: Command): void {
  const groups = program
    .command('groups')
    .description('Manage groups and the roles they hold (administrators)')
    .addHelpCommand(false);
  examples(groups, [
    'elevate groups list',
    'elevate groups add "Tier 3 Admins" --role-assignable',
    'elevate groups add-role "Tier 3 Admins" "Exchange Administrator"',
  ]);

  const list = clientCommand(groups, 'list', 'List the groups').action(run(listAction));
  examples(list, ['elevate groups list', 'elevate groups list --json']);

  const add = clientCommand(groups, 'add <name>', 'Create a security group')
    .option('--description <text>', 'what the group is for')
    .option('--mail-nickname <alias>', 'the mail alias (default: the name without spaces)')
    .option('--role-assignable', 'let the group hold directory roles (cannot be changed later)')
    .action(run(addAction));
  examples(add, [
    'elevate groups add "Tier 3 Admins" --role-assignable --description "Exchange and Teams"',
  ]);

  const show = clientCommand(
    groups,
    'show <group>',
    'Show a group: its roles, members and owners now, and its PIM assignments',
  ).action(run(showAction));
  examples(show, ['elevate groups show "Tier 3 Admins"']);

  const roles = clientCommand(
    groups,
    'roles <group>',
    'List the directory roles a group holds',
  ).action(run(rolesAction));
  examples(roles, ['elevate groups roles "Tier 3 Admins"']);

  const addRole = clientCommand(
    groups,
    'add-role <group> <role>',
    'Give a group a directory role',
  ).action(run(addRoleAction));
  examples(addRole, ['elevate groups add-role "Tier 3 Admins" "Exchange Administrator"']);

  const removeRole = clientCommand(
    groups,
    'remove-role <group> <role>',
    'Take a directory role away from a group',
  ).action(run(removeRoleAction));
  examples(removeRole, ['elevate groups remove-role "Tier 3 Admins" "Exchange Administrator"']);
}

async function listAction(output: Output, options: ClientOptions) {
  const { client } = connect(options);
  const groups = await client.list<GraphGroup>('/v1.0/groups');

  if (output.json) {
    printJson(output, groups);
    return;
  }
  output.out(
    table(
      ['NAME', 'ROLE-ASSIGNABLE', 'DESCRIPTION', 'ID'],
      groups.map((g) => [g.displayName, g.isAssignableToRole ? 'yes' : 'no', g.description, g.id]),
    ),
  );
}

async function addAction(output: Output, name: string, options: AddOptions) {
  const { client } = connect(options);

  const group = await client.post<GraphGroup>('/v1.0/groups', {
    displayName: name,
    mailNickname: options.mailNickname ?? (name.replace(/[^A-Za-z0-9]/g, '') || 'group'),
    description: options.description ?? null,
    securityEnabled: true,
    mailEnabled: false,
    isAssignableToRole: options.roleAssignable === true,
  });

  if (output.json) printJson(output, group);
  else output.out(`Created group ${group.displayName} (${group.id}).`);
}

async function showAction(output: Output, name: string, options: ClientOptions) {
  const { client } = connect(options);
  const group = await resolveGroup(client, name);

  const byGroup = { $filter: `groupId eq ${quote(group.id)}`, $expand: 'principal' };
  const [details, members, owners, eligible, active] = await client.batch([
    { id: 'group', method: 'GET', url: `/groups/${group.id}` },
    { id: 'members', method: 'GET', url: `/groups/${group.id}/members` },
    { id: 'owners', method: 'GET', url: `/groups/${group.id}/owners` },
    { id: 'eligible', method: 'GET', url: odataPath(schedulesPath('eligibility'), byGroup) },
    { id: 'active', method: 'GET', url: odataPath(schedulesPath('assignment'), byGroup) },
  ]);
  if (!details || details.status !== 200) {
    throw toCliError(details?.status ?? 500, details?.body ?? null, client.server);
  }
  const found = details.body as GraphGroup;
  const held = await groupRoles(client, group);
  type Person = { userPrincipalName: string };
  const memberList = await client.values<Person>(members);
  const ownerList = await client.values<Person>(owners);
  // PIM lists are for the group's managers; others see the group without them.
  const schedules =
    eligible?.status === 403
      ? null
      : [
          ...(await client.values<GraphSchedule>(eligible)).map((s) => ({
            ...s,
            kind: 'eligible',
          })),
          ...(await client.values<GraphSchedule>(active)).map((s) => ({
            ...s,
            kind: s.assignmentType === 'activated' ? 'active' : 'assigned',
          })),
        ];

  if (output.json) {
    printJson(output, {
      ...found,
      roles: held,
      members: memberList,
      owners: ownerList,
      assignments: schedules,
    });
    return;
  }
  output.out(
    fields([
      ['Group', found.displayName],
      ['Id', found.id],
      ['Description', found.description],
      ['Role-assignable', found.isAssignableToRole ? 'yes' : 'no'],
      ['Created', when(found.createdDateTime)],
      ['Roles', held.map((r) => r.displayName).join(', ') || '-'],
      ['Members now', memberList.map((u) => u.userPrincipalName).join(', ') || '-'],
      ['Owners now', ownerList.map((u) => u.userPrincipalName).join(', ') || '-'],
    ]),
  );
  if (schedules && schedules.length > 0) {
    output.out('');
    output.out(
      table(
        ['PRINCIPAL', 'ACCESS', 'STATUS', 'FROM', 'UNTIL'],
        schedules.map((s) => [
          s.principal?.userPrincipalName ?? s.principalId,
          s.accessId,
          s.kind,
          when(s.scheduleInfo.startDateTime),
          s.scheduleInfo.expiration.endDateTime
            ? when(s.scheduleInfo.expiration.endDateTime)
            : 'no end',
        ]),
      ),
    );
  }
}

async function rolesAction(output: Output, name: string, options: ClientOptions) {
  const { client } = connect(options);
  const group = await resolveGroup(client, name);
  const held = await groupRoles(client, group);

  if (output.json) {
    printJson(output, held);
    return;
  }
  if (held.length === 0) {
    output.out(`${group.displayName} holds no directory roles.`);
    return;
  }
  output.out(
    table(
      ['ROLE', 'ROLE ID', 'ASSIGNMENT ID'],
      held.map((r) => [r.displayName, r.roleDefinitionId, r.id]),
    ),
  );
}

async function addRoleAction(
  output: Output,
  groupName: string,
  roleName: string,
  options: ClientOptions,
) {
  const { client } = connect(options);
  const group = await resolveGroup(client, groupName);
  const role = await resolveRole(client, roleName);

  const assignment = await client.post<RoleAssignment>(
    '/v1.0/roleManagement/directory/roleAssignments',
    { roleDefinitionId: role.id, principalId: group.id, directoryScopeId: '/' },
  );

  if (output.json) printJson(output, { ...assignment, displayName: role.displayName });
  else output.out(`${group.displayName} now holds ${role.displayName}.`);
}

async function removeRoleAction(
  output: Output,
  groupName: string,
  roleName: string,
  options: ClientOptions,
) {
  const { client } = connect(options);
  const group = await resolveGroup(client, groupName);
  const role = await resolveRole(client, roleName);

  const held = await groupRoles(client, group);
  const assignment = held.find((r) => r.roleDefinitionId === role.id);
  if (!assignment) {
    throw new CliError(
      ExitCode.refused,
      `${group.displayName} does not hold ${role.displayName}.`,
      {
        details: [`See its roles with: elevate groups roles "${group.displayName}"`],
        code: 'RoleAssignmentDoesNotExist',
      },
    );
  }
  await client.delete(`/v1.0/roleManagement/directory/roleAssignments/${assignment.id}`);

  if (output.json) printJson(output, { ...assignment, removed: true });
  else output.out(`${group.displayName} no longer holds ${role.displayName}.`);
}

async function groupRoles(client: ApiClient, group: GroupRef) {
  const [assignments, names] = await Promise.all([
    client.list<RoleAssignment>(
      odataPath('/v1.0/roleManagement/directory/roleAssignments', {
        $filter: `principalId eq ${quote(group.id)}`,
      }),
    ),
    roleDefinitions(client),
  ]);
  return assignments.map((a) => ({
    id: a.id,
    roleDefinitionId: a.roleDefinitionId,
    displayName: names.get(a.roleDefinitionId) ?? a.roleDefinitionId,
  }));
}
