import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RoleIds } from '../../src/directory/roles.js';
import { describeEachDatabase, type TestUser } from '../support/elevate.js';
import { assertGraphError, assertRefusedWithoutChange, reference, uniqueTag } from './helpers.js';

const ASSIGNMENTS = '/v1.0/roleManagement/directory/roleAssignments';

describeEachDatabase('who may change the directory', (elevate) => {
  const newUser = (name = uniqueTag('new')) => ({
    displayName: name,
    userPrincipalName: `${name}@elevate.local`,
  });
  const newGroup = (name = uniqueTag('newg'), isAssignableToRole = false) => ({
    displayName: name,
    mailNickname: name,
    securityEnabled: true,
    mailEnabled: false,
    isAssignableToRole,
  });
  const addMember = (groupId: string, userId: string, as?: TestUser) =>
    elevate().request('POST', `/v1.0/groups/${groupId}/members/$ref`, {
      body: reference(userId),
      ...(as ? { as } : {}),
    });
  const refused = (send: () => ReturnType<ReturnType<typeof elevate>['request']>) =>
    assertRefusedWithoutChange(elevate(), send, 403, 'Authorization_RequestDenied');

  it('refuses every write to a plain member, changing nothing', async () => {
    const member = await elevate().createUser({ name: uniqueTag('plain') });
    const user = await elevate().createUser({ name: uniqueTag('target') });
    const group = await elevate().createGroup({ name: uniqueTag('tg') });
    await addMember(group.id, user.id);
    const assignment = await elevate().assignRole(user.id, RoleIds.globalReader);
    const as = member;

    await refused(() => elevate().request('POST', '/v1.0/users', { as, body: newUser() }));
    await refused(() =>
      elevate().request('PATCH', `/v1.0/users/${user.id}`, { as, body: { displayName: 'X' } }),
    );
    await refused(() => elevate().request('DELETE', `/v1.0/users/${user.id}`, { as }));
    await refused(() => elevate().request('POST', '/v1.0/groups', { as, body: newGroup() }));
    await refused(() =>
      elevate().request('PATCH', `/v1.0/groups/${group.id}`, { as, body: { displayName: 'X' } }),
    );
    await refused(() => elevate().request('DELETE', `/v1.0/groups/${group.id}`, { as }));
    await refused(() => addMember(group.id, member.id, as));
    await refused(() =>
      elevate().request('POST', `/v1.0/groups/${group.id}/owners/$ref`, {
        as,
        body: reference(member.id),
      }),
    );
    await refused(() =>
      elevate().request('DELETE', `/v1.0/groups/${group.id}/members/${user.id}/$ref`, { as }),
    );
    await refused(() =>
      elevate().request('POST', ASSIGNMENTS, {
        as,
        body: { roleDefinitionId: RoleIds.globalAdministrator, principalId: member.id },
      }),
    );
    await refused(() => elevate().request('DELETE', `${ASSIGNMENTS}/${assignment}`, { as }));

    const read = await elevate().request('GET', `/v1.0/users/${user.id}`);
    assert.equal(read.body.displayName, user.upn.split('@')[0]);
  });

  it('lets a plain member read the directory, but not its role assignments', async () => {
    const member = await elevate().createUser({ name: uniqueTag('reader') });
    const group = await elevate().createGroup({ name: uniqueTag('rg') });

    for (const url of [
      '/v1.0/users',
      '/v1.0/groups',
      `/v1.0/users/${elevate().admin.id}`,
      `/v1.0/groups/${group.id}`,
      `/v1.0/groups/${group.id}/members`,
      '/v1.0/roleManagement/directory/roleDefinitions',
    ]) {
      const response = await elevate().request('GET', url, { as: member });
      assert.equal(response.status, 200, url);
    }
    assertGraphError(
      await elevate().request('GET', ASSIGNMENTS, { as: member }),
      403,
      'Authorization_RequestDenied',
    );
  });

  it('lets a User Administrator manage ordinary users, but not one who holds a role', async () => {
    const userAdmin = await elevate().createAdmin(RoleIds.userAdministrator);
    const as = userAdmin;

    const created = await elevate().request('POST', '/v1.0/users', { as, body: newUser() });
    assert.equal(created.status, 201);
    const patched = await elevate().request('PATCH', `/v1.0/users/${created.body.id}`, {
      as,
      body: { displayName: 'Managed', passwordProfile: { password: 'a new long password' } },
    });
    assert.equal(patched.status, 204);
    const deleted = await elevate().request('DELETE', `/v1.0/users/${created.body.id}`, { as });
    assert.equal(deleted.status, 204);

    const roleHolder = await elevate().createAdmin(RoleIds.globalReader);
    const viaGroup = await elevate().createUser({ name: uniqueTag('viag') });
    const roleGroup = await elevate().createGroup({ name: uniqueTag('rag'), roleAssignable: true });
    await elevate().assignRole(roleGroup.id, RoleIds.globalAdministrator);
    await addMember(roleGroup.id, viaGroup.id);

    for (const target of [roleHolder, viaGroup, elevate().admin]) {
      await refused(() =>
        elevate().request('PATCH', `/v1.0/users/${target.id}`, {
          as,
          body: { passwordProfile: { password: 'taken over password' } },
        }),
      );
      await refused(() => elevate().request('DELETE', `/v1.0/users/${target.id}`, { as }));
    }
    await refused(() => elevate().request('POST', '/v1.0/groups', { as, body: newGroup() }));
    await refused(() =>
      elevate().request('POST', ASSIGNMENTS, {
        as,
        body: { roleDefinitionId: RoleIds.userAdministrator, principalId: viaGroup.id },
      }),
    );
  });

  it('lets a Groups Administrator manage ordinary groups only', async () => {
    const groupsAdmin = await elevate().createAdmin(RoleIds.groupsAdministrator);
    const member = await elevate().createUser({ name: uniqueTag('gm') });
    const roleGroup = await elevate().createGroup({ name: uniqueTag('rag'), roleAssignable: true });
    const as = groupsAdmin;

    const created = await elevate().request('POST', '/v1.0/groups', { as, body: newGroup() });
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    assert.equal(
      (
        await elevate().request('PATCH', `/v1.0/groups/${id}`, {
          as,
          body: { description: 'Mine' },
        })
      ).status,
      204,
    );
    assert.equal((await addMember(id, member.id, as)).status, 204);
    const owner = await elevate().request('POST', `/v1.0/groups/${id}/owners/$ref`, {
      as,
      body: reference(member.id),
    });
    assert.equal(owner.status, 204);
    assert.equal((await elevate().request('DELETE', `/v1.0/groups/${id}`, { as })).status, 204);

    await refused(() =>
      elevate().request('POST', '/v1.0/groups', { as, body: newGroup(uniqueTag('ra'), true) }),
    );
    await refused(() =>
      elevate().request('PATCH', `/v1.0/groups/${roleGroup.id}`, {
        as,
        body: { displayName: 'Hijacked' },
      }),
    );
    await refused(() => addMember(roleGroup.id, groupsAdmin.id, as));
    await refused(() =>
      elevate().request('POST', `/v1.0/groups/${roleGroup.id}/owners/$ref`, {
        as,
        body: reference(groupsAdmin.id),
      }),
    );
    await refused(() => elevate().request('DELETE', `/v1.0/groups/${roleGroup.id}`, { as }));
    await refused(() => elevate().request('POST', '/v1.0/users', { as, body: newUser() }));
  });

  it('lets an owner of an ordinary group manage its members, and nothing more', async () => {
    const owner = await elevate().createUser({ name: uniqueTag('owner') });
    const member = await elevate().createUser({ name: uniqueTag('mem') });
    const group = await elevate().createGroup({ name: uniqueTag('owned') });
    const otherGroup = await elevate().createGroup({ name: uniqueTag('other') });
    const roleGroup = await elevate().createGroup({ name: uniqueTag('rag'), roleAssignable: true });
    for (const g of [group, roleGroup]) {
      await elevate().request('POST', `/v1.0/groups/${g.id}/owners/$ref`, {
        body: reference(owner.id),
      });
    }
    const as = owner;

    assert.equal((await addMember(group.id, member.id, as)).status, 204);
    const removed = await elevate().request(
      'DELETE',
      `/v1.0/groups/${group.id}/members/${member.id}/$ref`,
      { as },
    );
    assert.equal(removed.status, 204);

    await refused(() => addMember(otherGroup.id, member.id, as));
    await refused(() => addMember(roleGroup.id, member.id, as));
    await refused(() =>
      elevate().request('POST', `/v1.0/groups/${group.id}/owners/$ref`, {
        as,
        body: reference(member.id),
      }),
    );
    await refused(() =>
      elevate().request('PATCH', `/v1.0/groups/${group.id}`, { as, body: { displayName: 'X' } }),
    );
    await refused(() => elevate().request('DELETE', `/v1.0/groups/${group.id}`, { as }));
  });

  it('keeps guests from listing or reading others, but lets them read themselves', async () => {
    const guest = await elevate().createUser({ name: uniqueTag('guest'), userType: 'Guest' });
    const group = await elevate().createGroup({ name: uniqueTag('gg') });
    const as = guest;

    for (const url of [
      '/v1.0/users',
      "/v1.0/users?$filter=startswith(displayName,'a')",
      '/v1.0/groups',
      `/v1.0/users/${elevate().admin.id}`,
      '/v1.0/users/nobody@elevate.local',
      `/v1.0/groups/${group.id}`,
      `/v1.0/users/${elevate().admin.id}/transitiveMemberOf`,
    ]) {
      assertGraphError(
        await elevate().request('GET', url, { as }),
        403,
        'Authorization_RequestDenied',
      );
    }

    assert.equal((await elevate().request('GET', `/v1.0/users/${guest.id}`, { as })).status, 200);
    await addMember(group.id, guest.id);
    assert.equal((await elevate().request('GET', `/v1.0/groups/${group.id}`, { as })).status, 200);
    const memberOf = await elevate().request('GET', `/v1.0/users/${guest.id}/transitiveMemberOf`, {
      as,
    });
    assert.deepEqual(
      memberOf.body.value.map((g: { id: string }) => g.id),
      [group.id],
    );
  });

  it('lets a Privileged Role Administrator manage roles; a revoked role ends at once', async () => {
    const pra = await elevate().createAdmin(RoleIds.privilegedRoleAdministrator);
    const user = await elevate().createUser({ name: uniqueTag('tgt') });

    const granted = await elevate().request('POST', ASSIGNMENTS, {
      as: pra,
      body: { roleDefinitionId: RoleIds.userAdministrator, principalId: user.id },
    });
    assert.equal(granted.status, 201);
    const asUser = () => elevate().request('POST', '/v1.0/users', { as: user, body: newUser() });
    assert.equal((await asUser()).status, 201);

    const revoked = await elevate().request('DELETE', `${ASSIGNMENTS}/${granted.body.id}`, {
      as: pra,
    });
    assert.equal(revoked.status, 204);
    await refused(asUser);
  });

  it('answers 401 to every directory route without a token', async () => {
    for (const [method, url] of [
      ['GET', '/v1.0/users'],
      ['POST', '/v1.0/users'],
      ['GET', '/v1.0/groups'],
      ['GET', ASSIGNMENTS],
      ['POST', ASSIGNMENTS],
    ] as const) {
      assertGraphError(
        await elevate().request(method, url, { token: null }),
        401,
        'InvalidAuthenticationToken',
      );
    }
  });
});
