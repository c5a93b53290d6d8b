import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RoleIds } from '../../src/directory/roles.js';
import { approvalRule, patchRule } from '../pim/support.js';
import { describeCli } from './support.js';

const SCHEDULES = '/v1.0/identityGovernance/privilegedAccess/group/eligibilitySchedules';

describeCli('elevate administration: users, groups, assignments, audit', (context) => {
  it('creates, lists, shows and disables users', async () => {
    const { elevate } = context();
    const admin = await context().cli().signInAs(elevate, elevate.admin);

    const added = await admin.run(
      ['users', 'add', 'grace@elevate.local', '--name', 'Grace Hopper', '--password-stdin'],
      { input: "a compiler of one's own\n" },
    );
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Created grace@elevate\.local/);

    const [listed, shown, disabled] = await Promise.all([
      admin.json(['users', 'list']),
      admin.run(['users', 'show', 'Grace Hopper']),
      admin.run(['users', 'disable', 'grace@elevate.local']),
    ]);

    assert.ok(
      (listed as { userPrincipalName: string }[]).some(
        (u) => u.userPrincipalName === 'grace@elevate.local',
      ),
    );
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /User: +grace@elevate\.local/);
    assert.equal(disabled.code, 0, disabled.stderr);
    const user = await elevate.request('GET', '/v1.0/users/grace@elevate.local');
    assert.equal(user.body.accountEnabled, false);
    const signIn = await elevate.request('POST', '/oauth2/v2.0/token', {
      token: null,
      form: {
        grant_type: 'password',
        username: 'grace@elevate.local',
        password: "a compiler of one's own",
      },
    });
    assert.equal(signIn.status, 400);
  });

  it('creates a role-assignable group and gives it roles, and takes them away', async () => {
    const { elevate } = context();
    const admin = await context().cli().signInAs(elevate, elevate.admin);

    const created = await admin.run(['groups', 'add', 'Search Admins', '--role-assignable']);
    const added = await admin.run(['groups', 'add-role', 'Search Admins', 'search administrator']);
    const held = (await admin.json(['groups', 'roles', 'Search Admins'])) as {
      roleDefinitionId: string;
    }[];
    const removed = await admin.run([
      'groups',
      'remove-role',
      'Search Admins',
      RoleIds.searchAdministrator,
    ]);
    const unknownRole = await admin.run(['groups', 'add-role', 'Search Admins', 'Wizard']);

    assert.equal(created.code, 0, created.stderr);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Search Admins now holds Search Administrator/);
    assert.deepEqual(
      held.map((r) => r.roleDefinitionId),
      [RoleIds.searchAdministrator],
    );
    assert.equal(removed.code, 0, removed.stderr);
    const group = (
      await elevate.request('GET', "/v1.0/groups?$filter=displayName eq 'Search Admins'")
    ).body.value[0];
    assert.equal(group.isAssignableToRole, true);
    const assignments = await elevate.request(
      'GET',
      `/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '${group.id}'`,
    );
    assert.deepEqual(assignments.body.value, []);
    assert.equal(unknownRole.code, 2);
    assert.match(unknownRole.stderr, /No role is named 'Wizard'/);
  });

  it('assigns and unassigns eligibility, and refuses what a non-admin may not do', async () => {
    const { elevate } = context();
    const user = await elevate.createUser();
    const group = await elevate.createGroup({ name: 'Helpdesk Tier' });
    const admin = await context().cli().signInAs(elevate, elevate.admin);
    const self = await context().cli().signInAs(elevate, user);

    const [missingKind, notAllowed] = await Promise.all([
      admin.run(['assign', user.upn, 'Helpdesk Tier', '--for', '30d']),
      self.run(['assign', user.upn, 'Helpdesk Tier', '--eligible', '--for', '30d']),
    ]);
    const assigned = await admin.run([
      'assign',
      user.upn,
      'Helpdesk Tier',
      '--eligible',
      '--for',
      '30d',
      '--reason',
      'Joins the rota',
    ]);
    const before = await elevate.request('GET', `${SCHEDULES}?$filter=groupId eq '${group.id}'`);
    const unassigned = await admin.run(['unassign', user.upn, group.id, '--eligible']);
    const after = await elevate.request('GET', `${SCHEDULES}?$filter=groupId eq '${group.id}'`);

    assert.equal(missingKind.code, 2);
    assert.match(missingKind.stderr, /--eligible or --active/);
    assert.equal(notAllowed.code, 3);
    assert.equal(assigned.code, 0, assigned.stderr);
    assert.match(assigned.stdout, /is eligible for member of Helpdesk Tier/);
    assert.deepEqual(
      before.body.value.map((s: { principalId: string }) => s.principalId),
      [user.id],
    );
    assert.equal(
      before.body.value[0].scheduleInfo.expiration.endDateTime,
      '2026-07-01T09:00:00.000Z',
    );
    assert.equal(unassigned.code, 0, unassigned.stderr);
    assert.deepEqual(after.body.value, []);
  });

  it('reads the audit log of a group since a date', async () => {
    const { elevate } = context();
    await elevate.createGroup({ name: 'Audited Ops' });
    const admin = await context().cli().signInAs(elevate, elevate.admin);

    const [events, human] = await Promise.all([
      admin.json(['audit', '--since', '2026-05-31T00:00:00Z', '--group', 'Audited Ops']),
      admin.run(['audit', '--since', '2026-05-31T00:00:00Z', '--group', 'Audited Ops']),
    ]);

    const list = events as {
      activityDisplayName: string;
      targetResources: { displayName: string }[];
    }[];
    assert.deepEqual(
      list.map((e) => e.activityDisplayName),
      ['Add group'],
    );
    assert.equal(human.code, 0, human.stderr);
    assert.match(
      human.stdout,
      /2026-06-01 09:00Z +GroupManagement +Add group +admin@elevate\.local +Audited Ops +success/,
    );
  });
  it('turns approval off and shortens eligible assignments in one policy change', async () => {
    const { elevate } = context();
    const approver = await elevate.createUser();
    const group = await elevate.createGroup({ name: 'Gated Ops' });
    await patchRule(elevate, group.id, 'member', approvalRule([{ users: [approver.id] }]));
    const admin = await context().cli().signInAs(elevate, elevate.admin);

    const set = await admin.run([
      'policy',
      'set',
      'Gated Ops',
      '--no-approval',
      '--max-eligible',
      '90d',
    ]);
    const shown = (await admin.json(['policy', 'show', 'Gated Ops'])) as {
      activation: { approvalRequired: boolean; maximumDuration: string };
      eligibleAssignment: { maximumDuration: string };
    };

    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /Approval: +not required/);
    assert.equal(shown.activation.approvalRequired, false);
    assert.equal(shown.activation.maximumDuration, 'PT8H');
    assert.equal(shown.eligibleAssignment.maximumDuration, 'P90D');
  });

  it('deletes a user only when told so without a terminal', async () => {
    const { elevate } = context();
    const doomed = await elevate.createUser();
    const kept = await elevate.createUser();
    const admin = await context().cli().signInAs(elevate, elevate.admin);

    const [deleted, unconfirmed] = await Promise.all([
      admin.run(['users', 'delete', doomed.upn, '--yes']),
      admin.run(['users', 'delete', kept.upn]),
    ]);

    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((await elevate.request('GET', `/v1.0/users/${doomed.id}`)).status, 404);
    assert.equal(unconfirmed.code, 2);
    assert.match(unconfirmed.stderr, /add --yes/);
    assert.equal((await elevate.request('GET', `/v1.0/users/${kept.id}`)).status, 200);
  });
});
