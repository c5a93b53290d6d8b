import type { Command } from 'commander';
import { odataPath, quote } from '../client.js';
import { clientCommand, examples, run } from '../command.js';
import { usageError } from '../errors.js';
import { fields, printJson, table, when, type Output } from '../output.js';
import { schedulesPath, type GraphSchedule } from '../pim.js';
import { ask, askHidden, InputLines, isInteractive } from '../prompt.js';
import { toCliError } from '../refusals.js';
import { resolveUser, roleDefinitions } from '../resolve.js';
import { connect, type ClientOptions } from '../session.js';

interface GraphUser {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mail: string | null;
  userType: string;
  accountEnabled: boolean;
  createdDateTime: string;
}

interface AddOptions extends ClientOptions {
  name: string;
  mail?: string;
  guest?: boolean;
  disabled?: boolean;
  passwordStdin?: boolean;
}

interface DeleteOptions extends ClientOptions {
  yes?: boolean;
}

export function registerUserCommands(program: Command): void {
  const users = program
    .command('users')
    .description('Manage users (administrators)')
    .addHelpCommand(false);
  examples(users, [
    'elevate users list',
    'elevate users add ada@contoso.com --name "Ada Lovelace"',
    'elevate users show ada@contoso.com',
  ]);

  const list = clientCommand(users, 'list', 'List the users of the directory').action(
    run(listAction),
  );
  examples(list, [
    'elevate users list',
    'elevate users list --json | jq -r ".[].userPrincipalName"',
  ]);

  const add = clientCommand(users, 'add <userPrincipalName>', 'Create a user with a password')
    .requiredOption('--name <displayName>', 'the display name')
    .option('--mail <address>', 'the email address, if not the user principal name')
    .option('--guest', 'create a guest rather than a member')
    .option('--disabled', 'create the account disabled')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .action(run(addAction));
  examples(add, [
    'elevate users add ada@contoso.com --name "Ada Lovelace"',
    'printf "%s\\n" "$PASSWORD" | elevate users add bob@contoso.com --name Bob --password-stdin',
  ]);

  const show = clientCommand(
    users,
    'show <user>',
    'Show a user, its groups, its roles now and its PIM assignments',
  ).action(run(showAction));
  examples(show, ['elevate users show ada@contoso.com', 'elevate users show "Ada Lovelace"']);

  for (const enable of [false, true]) {
    const command = clientCommand(
      users,
      `${enable ? 'enable' : 'disable'} <user>`,
      enable ? 'Let a user sign in again' : 'Stop a user from signing in, at once',
    ).action(
      run((output, name: string, options: ClientOptions) =>
        enableAction(output, name, enable, options),
      ),
    );
    examples(command, [`elevate users ${enable ? 'enable' : 'disable'} ada@contoso.com`]);
  }

  const remove = clientCommand(users, 'delete <user>', 'Delete a user')
    .option('--yes', 'do not ask for confirmation')
    .action(run(deleteAction));
  examples(remove, ['elevate users delete ada@contoso.com --yes']);
}

async function listAction(output: Output, options: ClientOptions) {
  const { client } = connect(options);
  const users = await client.list<GraphUser>('/v1.0/users');

  if (output.json) {
    printJson(output, users);
    return;
  }
  output.out(
    table(
      ['USER', 'NAME', 'TYPE', 'ENABLED', 'ID'],
      users.map((u) => [
        u.userPrincipalName,
        u.displayName,
        u.userType,
        u.accountEnabled ? 'yes' : 'no',
        u.id,
      ]),
    ),
  );
}

async function addAction(output: Output, upn: string, options: AddOptions) {
  const password = await newPassword(upn, options.passwordStdin === true);
  const { client } = connect(options);

  const user = await client.post<GraphUser>('/v1.0/users', {
    displayName: options.name,
    userPrincipalName: upn,
    ...(options.mail ? { mail: options.mail } : {}),
    userType: options.guest ? 'Guest' : 'Member',
    accountEnabled: !options.disabled,
    passwordProfile: { password },
  });

  if (output.json) printJson(output, user);
  else output.out(`Created ${user.userPrincipalName} (${user.id}).`);
}

async function showAction(output: Output, name: string, options: ClientOptions) {
  const { client } = connect(options);
  const user = await resolveUser(client, name);

  const byPrincipal = { $filter: `principalId eq ${quote(user.id)}`, $expand: 'group' };
  const [details, groups, roles, eligible, active] = await client.batch([
    { id: 'user', method: 'GET', url: `/users/${user.id}` },
    { id: 'groups', method: 'GET', url: `/users/${user.id}/transitiveMemberOf` },
    {
      id: 'roles',
      method: 'GET',
      url: odataPath('/roleManagement/directory/transitiveRoleAssignments', {
        $filter: `principalId eq ${quote(user.id)}`,
      }),
    },
    { id: 'eligible', method: 'GET', url: odataPath(schedulesPath('eligibility'), byPrincipal) },
    { id: 'active', method: 'GET', url: odataPath(schedulesPath('assignment'), byPrincipal) },
  ]);
  if (!details || details.status !== 200) {
    throw toCliError(details?.status ?? 500, details?.body ?? null, client.server);
  }
  const names = await roleDefinitions(client);
  const found = details.body as GraphUser;
  const memberOf = await client.values<{ id: string; displayName: string }>(groups);
  const held = await client.values<{ roleDefinitionId: string }>(roles);
  const schedules = [
    ...(await client.values<GraphSchedule>(eligible)).map((s) => ({ ...s, kind: 'eligible' })),
    ...(await client.values<GraphSchedule>(active)).map((s) => ({
      ...s,
      kind: s.assignmentType === 'activated' ? 'active' : 'assigned',
    })),
  ];

  if (output.json) {
    printJson(output, {
      ...found,
      memberOf,
      roles: held.map((r) => ({
        id: r.roleDefinitionId,
        displayName: names.get(r.roleDefinitionId),
      })),
      assignments: schedules,
    });
    return;
  }
  output.out(
    fields([
      ['User', found.userPrincipalName],
      ['Name', found.displayName],
      ['Id', found.id],
      ['Mail', found.mail],
      ['Type', found.userType],
      ['Enabled', found.accountEnabled ? 'yes' : 'no'],
      ['Created', when(found.createdDateTime)],
      ['Groups now', memberOf.map((g) => g.displayName).join(', ') || '-'],
      [
        'Roles now',
        [...new Set(held.map((r) => names.get(r.roleDefinitionId) ?? r.roleDefinitionId))].join(
          ', ',
        ) || '-',
      ],
    ]),
  );
  if (schedules.length > 0) {
    output.out('');
    output.out(
      table(
        ['GROUP', 'ACCESS', 'STATUS', 'UNTIL'],
        schedules.map((s) => [
          s.group?.displayName ?? s.groupId,
          s.accessId,
          s.kind,
          s.scheduleInfo.expiration.endDateTime
            ? when(s.scheduleInfo.expiration.endDateTime)
            : 'no end',
        ]),
      ),
    );
  }
}

async function enableAction(output: Output, name: string, enable: boolean, options: ClientOptions) {
  const { client } = connect(options);
  const user = await resolveUser(client, name);

  await client.patch(`/v1.0/users/${user.id}`, { accountEnabled: enable });

  if (output.json) printJson(output, { ...user, accountEnabled: enable });
  else {
    output.out(
      enable
        ? `Enabled ${user.userPrincipalName}: it can sign in again.`
        : `Disabled ${user.userPrincipalName}: its tokens and sessions stop working at once.`,
    );
  }
}

async function deleteAction(output: Output, name: string, options: DeleteOptions) {
  const { client } = connect(options);
  const user = await resolveUser(client, name);
  await confirm(`Delete ${user.userPrincipalName} (${user.displayName})?`, options.yes === true);

  await client.delete(`/v1.0/users/${user.id}`);

  if (output.json) printJson(output, { ...user, deleted: true });
  else output.out(`Deleted ${user.userPrincipalName}.`);
}

/** A new password: from stdin, or typed twice on the terminal. */
async function newPassword(upn: string, fromStdin: boolean): Promise<string> {
  if (fromStdin) {
    const lines = new InputLines();
    try {
      const line = await lines.next();
      if (!line) throw usageError('No password on standard input: give it as its first line.');
      return line;
    } finally {
      lines.close();
    }
  }
  if (!isInteractive()) {
    throw usageError(
      'There is no terminal to ask for the password: pipe it in with --password-stdin.',
    );
  }
  const first = await askHidden(`New password for ${upn}: `);
  const second = await askHidden('Again, to be sure: ');
  if (first !== second) throw usageError('The two passwords differ; nothing was created.');
  return first;
}

/** Asks before a change that cannot be undone, unless --yes said so already. */
export async function confirm(question: string, yes: boolean): Promise<void> {
  if (yes) return;
  if (!isInteractive()) {
    throw usageError('This cannot be undone: add --yes to confirm it without a terminal.');
  }
  const answer = await ask(`${question} [y/N] `);
  if (!/^y(es)?$/i.test(answer.trim())) throw usageError('Nothing was changed.');
}
