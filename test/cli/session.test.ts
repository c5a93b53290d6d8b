import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { RoleIds } from '../../src/directory/roles.js';
import { totpCode } from '../../src/identity/totp.js';
import { SECOND } from '../support/clock.js';
import type { TestElevate, TestUser } from '../support/elevate.js';
import { describeCli } from './support.js';

const PASSWORD = 'a long and private passphrase';

/** Enrols and verifies an authenticator for the user through the API; answers its secret. */
async function enrolAuthenticator(elevate: TestElevate, user: TestUser): Promise<string> {
  const enrolled = await elevate.request('POST', '/v1.0/me/authentication/totpMethods', {
    as: user,
  });
  assert.equal(enrolled.status, 201);
  const secret = enrolled.body.secretKey as string;
  const verified = await elevate.request(
    'POST',
    `/v1.0/me/authentication/totpMethods/${enrolled.body.id}/verify`,
    { as: user, body: { code: totpCode(secret, elevate.clock.now()) } },
  );
  assert.equal(verified.status, 204);
  return secret;
}

/** The next code of the authenticator: a code is accepted once, so time moves on first. */
function nextCode(elevate: TestElevate, secret: string): string {
  elevate.clock.advance(30 * SECOND);
  return totpCode(secret, elevate.clock.now());
}

describeCli('elevate login, whoami and logout', (context) => {
  it('signs in with a password from stdin; only its owner may read the token', async () => {
    const { elevate } = context();
    const user = await elevate.createUser({ password: PASSWORD });
    const cli = context().cli();

    const login = await cli.run(['login', user.upn, '--password-stdin'], {
      input: `${PASSWORD}\n`,
    });

    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, new RegExp(`Signed in to .* as .*${user.upn}`));
    const stored = JSON.parse(fs.readFileSync(cli.credentialsFile, 'utf8'));
    assert.equal(stored.userId, user.id);
    assert.equal(stored.server, context().server);
    assert.deepEqual(stored.amr, ['pwd']);
    assert.equal(fs.statSync(cli.credentialsFile).mode & 0o777, 0o600);
    assert.equal(fs.statSync(cli.configDir).mode & 0o777, 0o700);
    for (const secret of [PASSWORD, stored.accessToken as string]) {
      assert.ok(!login.stdout.includes(secret) && !login.stderr.includes(secret));
    }

    const whoami = (await cli.json(['whoami'])) as Record<string, unknown>;
    assert.deepEqual(whoami.user, {
      id: user.id,
      displayName: user.upn.split('@')[0],
      userPrincipalName: user.upn,
    });
    assert.equal(whoami.mfa, false);
    assert.deepEqual(whoami.roles, []);
  });

  it('asks for the one-time code after the password when the account has one', async () => {
    const { elevate } = context();
    const user = await elevate.createUser({ password: PASSWORD });
    const secret = await enrolAuthenticator(elevate, user);
    const cli = context().cli();

    const login = cli.spawn(['login', user.upn, '--password-stdin']);
    login.write(`${PASSWORD}\n`);
    await login.waitForStderr(/One-time code/);
    login.end(`${nextCode(elevate, secret)}\n`);
    const result = await login.result;

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /with multi-factor authentication/);
    const whoami = (await cli.json(['whoami'])) as Record<string, unknown>;
    assert.equal(whoami.mfa, true);
    assert.deepEqual(whoami.amr, ['pwd', 'otp', 'mfa']);
  });

  it('signs in with --otp in one step, and warns when a needed code is missing', async () => {
    const { elevate } = context();
    const user = await elevate.createUser({ password: PASSWORD });
    const secret = await enrolAuthenticator(elevate, user);
    const withCode = context().cli();
    const without = context().cli();

    const [mfa, passwordOnly] = await Promise.all([
      withCode.run(['login', user.upn, '--password-stdin', '--otp', nextCode(elevate, secret)], {
        input: `${PASSWORD}\n`,
      }),
      without.run(['login', user.upn, '--password-stdin'], { input: `${PASSWORD}\n` }),
    ]);

    assert.equal(mfa.code, 0, mfa.stderr);
    assert.match(mfa.stdout, /with multi-factor authentication/);
    assert.equal(passwordOnly.code, 0, passwordOnly.stderr);
    assert.match(passwordOnly.stderr, /without your one-time code.*elevate login --otp/s);
    const stored = JSON.parse(fs.readFileSync(without.credentialsFile, 'utf8'));
    assert.deepEqual(stored.amr, ['pwd']);
  });

  it('refuses a wrong password with exit 3 and keeps no sign-in', async () => {
    const { elevate } = context();
    const user = await elevate.createUser({ password: PASSWORD });
    const cli = context().cli();

    const login = await cli.run(['login', user.upn, '--password-stdin'], { input: 'wrong\n' });

    assert.equal(login.code, 3);
    assert.match(login.stderr, /user name, password or one-time code is wrong/);
    assert.equal(fs.existsSync(cli.credentialsFile), false);
  });

  it('whoami shows the roles held now and the group they come through', async () => {
    const { elevate } = context();
    const user = await elevate.createUser();
    const group = await elevate.createGroup({ name: 'Mail Admins', roleAssignable: true });
    await elevate.assignRole(group.id, RoleIds.exchangeAdministrator);
    const added = await elevate.request('POST', `/v1.0/groups/${group.id}/members/$ref`, {
      body: { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${user.id}` },
    });
    assert.equal(added.status, 204);
    const cli = await context().cli().signInAs(elevate, user);

    const whoami = await cli.run(['whoami']);

    assert.equal(whoami.code, 0, whoami.stderr);
    assert.match(whoami.stdout, new RegExp(`User: +${user.upn.split('@')[0]} \\(${user.upn}\\)`));
    assert.match(whoami.stdout, /MFA: +no/);
    assert.match(whoami.stdout, /Exchange Administrator +group Mail Admins/);
  });

  it('logout forgets the sign-in; then commands exit 5 and say how to sign in', async () => {
    const { elevate } = context();
    const cli = await context()
      .cli()
      .signInAs(elevate, await elevate.createUser());

    const logout = await cli.run(['logout']);
    const whoami = await cli.run(['whoami']);

    assert.equal(logout.code, 0);
    assert.match(logout.stdout, /Signed out/);
    assert.equal(fs.existsSync(cli.credentialsFile), false);
    assert.equal(whoami.code, 5);
    assert.match(whoami.stderr, /not signed in.*elevate login USER/);
  });

  it('never sends the token to another server than the one that issued it', async () => {
    const { elevate } = context();
    const cli = await context()
      .cli()
      .signInAs(elevate, await elevate.createUser());

    const result = await cli.run(['whoami', '--server', 'http://127.0.0.1:9']);

    assert.equal(result.code, 5);
    assert.match(
      result.stderr,
      /signed in to http:\/\/127\.0\.0\.1:\d+, not http:\/\/127\.0\.0\.1:9/,
    );
  });

  it('exits 4 with what to check when the server cannot be reached', async () => {
    const cli = context().cli();

    const result = await cli.run(
      ['login', 'ada@elevate.local', '--password-stdin', '--server', 'http://127.0.0.1:1'],
      { input: `${PASSWORD}\n` },
    );

    assert.equal(result.code, 4);
    assert.match(result.stderr, /Cannot reach the Elevate server at http:\/\/127\.0\.0\.1:1/);
    assert.match(result.stderr, /--server, ELEVATE_SERVER/);
  });

  it('exits 2 for an unknown command or option, and documents exit codes in --help', async () => {
    const cli = context().cli();

    const [command, option, help, activateHelp] = await Promise.all([
      cli.run(['activte']),
      cli.run(['roles', '--colour']),
      cli.run(['--help']),
      cli.run(['activate', '--help']),
    ]);

    assert.equal(command.code, 2);
    assert.match(command.stderr, /unknown command 'activte'[\s\S]*Did you mean activate/);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /unknown option '--colour'/);
    assert.equal(help.code, 0);
    assert.match(
      help.stdout,
      /Exit codes:[\s\S]*3 +refused[\s\S]*4 +cannot reach[\s\S]*5 +not signed in/,
    );
    assert.equal(activateHelp.code, 0);
    assert.match(activateHelp.stdout, /Examples:\n +\$ elevate activate/);
  });

  it('prints a bash completion script that completes commands and subcommands', async () => {
    const cli = context().cli();
    const result = await cli.run(['completion', 'bash']);
    assert.equal(result.code, 0, result.stderr);
    const script = path.join(cli.configDir, 'elevate.bash');
    fs.writeFileSync(script, result.stdout);

    const complete = (words: string[]) =>
      execFileSync('bash', [
        '-c',
        `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _elevate; ` +
          'echo "${COMPREPLY[*]}"',
        'bash',
        script,
        ...words,
      ])
        .toString()
        .trim();

    assert.equal(complete(['elevate', 'pol']), 'policy');
    assert.deepEqual(complete(['elevate', 'policy', 's']).split(' ').sort(), ['set', 'show']);
    assert.match(complete(['elevate', 'activate', 'Tier', '--t']), /--ticket/);
  });
});
