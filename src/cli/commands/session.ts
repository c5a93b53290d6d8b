import type { Command } from 'commander';
import { ApiClient, odataPath, quote } from '../client.js';
import { clientCommand, examples, run } from '../command.js';
import {
  credentialsPath,
  loadCredentials,
  removeCredentials,
  saveCredentials,
  type Credentials,
} from '../credentials.js';
import { CliError, ExitCode, usageError } from '../errors.js';
import { fields, printJson, table, when, type Output } from '../output.js';
import { ask, askHidden, InputLines, isInteractive } from '../prompt.js';
import { describeBody, toCliError } from '../refusals.js';
import { roleDefinitions } from '../resolve.js';
import { chooseServer, connect, type ClientOptions } from '../session.js';

interface LoginOptions extends ClientOptions {
  passwordStdin?: boolean;
  otp?: string;
}

interface TokenAnswer {
  access_token: string;
  expires_in: number;
}

interface Me {
  id: string;
  displayName: string;
  userPrincipalName: string;
}

export function registerSessionCommands(program: Command): void {
  const login = clientCommand(
    program,
    'login [user]',
    'Sign in and keep the token for later commands',
  )
    .option('--password-stdin', 'read the password (and then the one-time code) from stdin')
    .option('--otp <code>', 'the current code of your authenticator app')
    .action(run(loginAction));
  examples(login, [
    'elevate login ada@contoso.com',
    'elevate login ada@contoso.com --otp 123456',
    'elevate login --otp 123456                 # again, as the user signed in last',
    'pass show elevate | elevate login ada@contoso.com --password-stdin',
  ]);
  login.addHelpText(
    'after',
    '\nWithout --otp, elevate asks for the one-time code when your account has an ' +
      'authenticator.\nThe token is kept, readable by you only, in ' +
      '$XDG_CONFIG_HOME/elevate (or ~/.config/elevate).',
  );

  const logout = clientCommand(program, 'logout', 'Forget the token kept by elevate login').action(
    run(logoutAction),
  );
  examples(logout, ['elevate logout']);
  logout.addHelpText(
    'after',
    '\nThe token itself stays valid until it expires (at most an hour); logout removes it from ' +
      'this computer.',
  );

  const whoami = clientCommand(
    program,
    'whoami',
    'Show who you are signed in as, your roles now, MFA and expiry',
  ).action(run(whoamiAction));
  examples(whoami, ['elevate whoami', 'elevate whoami --json | jq .roles']);
}

async function loginAction(output: Output, user: string | undefined, options: LoginOptions) {
  const stored = loadCredentials();
  const server = chooseServer(options, stored);
  const username = user ?? (stored?.server === server ? stored.userPrincipalName : undefined);
  if (!username) throw usageError('Say who signs in: elevate login USER');

  const lines = options.passwordStdin ? new InputLines() : null;
  try {
    const password = await readPassword(username, lines);
    const client = new ApiClient(server, null);
    let answer = await signIn(client, username, password, options.otp);

    let skippedCode = false;
    if (options.otp === undefined && (await hasAuthenticator(server, answer.access_token))) {
      const code = await readCode(lines);
      if (code) answer = await signIn(client, username, password, code);
      else skippedCode = true;
    }

    const credentials = await remember(server, answer);
    const mfa = credentials.amr.includes('mfa');
    if (output.json) {
      printJson(output, describeCredentials(credentials));
    } else {
      output.out(
        `Signed in to ${server} as ${credentials.displayName} (${credentials.userPrincipalName})` +
          `${mfa ? ' with multi-factor authentication' : ''}, until ` +
          `${when(credentials.expiresDateTime)}.`,
      );
    }
    if (skippedCode) {
      output.err(
        'Signed in without your one-time code, so activations that require MFA will be ' +
          'refused. To include it: elevate login --otp CODE',
      );
    }
  } finally {
    lines?.close();
  }
}

async function logoutAction(output: Output) {
  const stored = loadCredentials();
  const removed = removeCredentials();

  if (output.json) {
    printJson(output, { signedOut: removed, server: stored?.server ?? null });
  } else {
    output.out(
      removed ? `Signed out of ${stored?.server ?? 'the server'}.` : 'You were not signed in.',
    );
  }
}

async function whoamiAction(output: Output, options: ClientOptions) {
  const { client, credentials } = connect(options);

  const me = await client.get<Me>('/v1.0/me');
  const assignments = await client.list<{ roleDefinitionId: string; principalId: string }>(
    odataPath('/v1.0/roleManagement/directory/transitiveRoleAssignments', {
      $filter: `principalId eq ${quote(me.id)}`,
    }),
  );
  const roles = await roleDefinitions(client);
  const groupIds = [...new Set(assignments.map((a) => a.principalId).filter((id) => id !== me.id))];
  const groups = await groupNames(client, groupIds);
  const held = assignments.map((a) => ({
    id: a.roleDefinitionId,
    displayName: roles.get(a.roleDefinitionId) ?? a.roleDefinitionId,
    through:
      a.principalId === me.id
        ? null
        : { id: a.principalId, displayName: groups.get(a.principalId) ?? null },
  }));

  if (output.json) {
    printJson(output, {
      ...describeCredentials({
        ...credentials,
        displayName: me.displayName,
        userPrincipalName: me.userPrincipalName,
      }),
      roles: held,
    });
    return;
  }
  output.out(
    fields([
      ['Server', credentials.server],
      ['User', `${me.displayName} (${me.userPrincipalName})`],
      ['Id', me.id],
      ['MFA', credentials.amr.includes('mfa') ? 'yes' : 'no (password only)'],
      ['Sign-in until', when(credentials.expiresDateTime)],
    ]),
  );
  output.out('');
  if (held.length === 0) {
    output.out('You hold no directory roles now.');
    return;
  }
  output.out(
    table(
      ['ROLE', 'THROUGH'],
      held.map((role) => [
        role.displayName,
        role.through ? `group ${role.through.displayName ?? role.through.id}` : 'direct assignment',
      ]),
    ),
  );
}

// Signing in

async function readPassword(username: string, lines: InputLines | null): Promise<string> {
  if (lines) {
    const line = await lines.next();
    if (!line) throw usageError('No password on standard input: give it as its first line.');
    return line;
  }
  if (!isInteractive()) {
    throw usageError(
      'There is no terminal to ask for the password: pipe it in with --password-stdin.',
    );
  }
  const password = await askHidden(`Password for ${username}: `);
  if (!password) throw usageError('No password given.');
  return password;
}

/** The one-time code: from the next line of stdin, or asked on the terminal; null when none. */
async function readCode(lines: InputLines | null): Promise<string | null> {
  if (lines) {
    process.stderr.write('One-time code from your authenticator app: ');
    const line = await lines.next();
    process.stderr.write('\n');
    return line?.trim() || null;
  }
  if (!isInteractive()) return null;
  return (await ask('One-time code from your authenticator app: ')).trim() || null;
}

async function signIn(
  client: ApiClient,
  username: string,
  password: string,
  otp: string | undefined,
): Promise<TokenAnswer> {
  const response = await client.send('POST', '/oauth2/v2.0/token', {
    form: {
      grant_type: 'password',
      username,
      password,
      ...(otp === undefined ? {} : { otp }),
    },
  });
  if (response.status === 200) return response.body as TokenAnswer;

  const { code } = describeBody(response.body);
  if (response.status === 400 && code === 'invalid_grant') {
    throw new CliError(ExitCode.refused, 'The user name, password or one-time code is wrong.', {
      details: [
        'Check them and try again; a one-time code works once only, so wait for the next one.',
        'After several failures, sign-in is paused for a few minutes.',
      ],
      code,
    });
  }
  throw toCliError(response.status, response.body, client.server);
}

/** Whether the account has an active authenticator, so that a one-time code makes sense. */
async function hasAuthenticator(server: string, token: string): Promise<boolean> {
  const response = await new ApiClient(server, token).send(
    'GET',
    '/v1.0/me/authentication/totpMethods',
  );
  // A server without this list cannot say; signing in with the password only is then safest.
  if (response.status === 404) return false;
  if (response.status !== 200) throw toCliError(response.status, response.body, server);

  const methods = (response.body as { value?: { status?: string }[] }).value ?? [];
  return methods.some((method) => method.status === 'active');
}

async function remember(server: string, answer: TokenAnswer): Promise<Credentials> {
  const me = await new ApiClient(server, answer.access_token).get<Me>('/v1.0/me');
  const credentials: Credentials = {
    server,
    userId: me.id,
    userPrincipalName: me.userPrincipalName,
    displayName: me.displayName,
    amr: tokenAmr(answer.access_token),
    accessToken: answer.access_token,
    expiresDateTime: new Date(Date.now() + answer.expires_in * 1000).toISOString(),
  };
  saveCredentials(credentials);
  return credentials;
}

/**
 * The authentication methods the token was issued for. The token is only read here, not
 * verified: the server verifies it on every call, and this is shown to the user only.
 */
function tokenAmr(token: string): string[] {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as { amr?: unknown };
    return Array.isArray(payload.amr)
      ? payload.amr.filter((m): m is string => typeof m === 'string')
      : [];
  } catch {
    return [];
  }
}

function describeCredentials(credentials: Credentials) {
  return {
    server: credentials.server,
    user: {
      id: credentials.userId,
      displayName: credentials.displayName,
      userPrincipalName: credentials.userPrincipalName,
    },
    amr: credentials.amr,
    mfa: credentials.amr.includes('mfa'),
    expiresDateTime: credentials.expiresDateTime,
    credentialsFile: credentialsPath(),
  };
}

async function groupNames(client: ApiClient, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const responses = await client.batch(
    ids.map((id, index) => ({ id: String(index), method: 'GET' as const, url: `/groups/${id}` })),
  );
  const names = new Map<string, string>();
  responses.forEach((response, index) => {
    const id = ids[index];
    const body = response.body as { displayName?: string } | null;
    if (id && response.status === 200 && body?.displayName) names.set(id, body.displayName);
  });
  return names;
}
