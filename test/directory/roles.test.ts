import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RoleIds } from '../../src/directory/roles.js';
import { describeEachDatabase } from '../support/elevate.js';
import {
  assertGraphError,
  assertRefusedWithoutChange,
  auditEventsFor,
  countRows,
  reference,
  uniqueTag,
} from './helpers.js';

const ASSIGNMENTS = '/v1.0/roleManagement/directory/roleAssignments';
const TRANSITIVE = '/v1.0/roleManagement/directory/transitiveRoleAssignments';

describeEachDatabase('directory role assignments', (elevate) => {
  const assign = (principalId: string, roleDefinitionId: string) =>
    elevate().request('POST', ASSIGNMENTS, {
      body: {
        '@odata.type': '#microsoft.graph.unifiedRoleAssignment',
        roleDefinitionId,
        principalId,
        directoryScopeId: '/',
      },
    });
  const transitiveFor = (userId: string, as = elevate().admin) =>
    elevate().request('GET', `${TRANSITIVE}?$filter=principalId eq '${userId}'`, { as });

  it('lists the seeded built-in role definitions with their template ids', async () => {
    const list = await elevate().request('GET', '/v1.0/roleManagement/directory/roleDefinitions');

    assert.equal(list.status, 200);
    const byId = new Map(list.body.value.map((r: { id: string }) => [r.id, r]));
    assert.equal(
      (byId.get(RoleIds.globalAdministrator) as { displayName: string }).displayName,
      'Global Administrator',
    );
    for (const id of Object.values(RoleIds)) assert.ok(byId.has(id), id);

    const one = await elevate().request(
      'GET',
      `/v1.0/roleManagement/directory/roleDefinitions/${RoleIds.groupsAdministrator}`,
    );
    assert.equal(one.body.displayName, 'Groups Administrator');
    assert.equal(one.body.templateId, RoleIds.groupsAdministrator);
  });

  it('assigns a role to a user and answers it in Graph shape', async () => {
    const user = await elevate().createUser({ name: uniqueTag('ra') });

    const created = await assign(user.id, RoleIds.exchangeAdministrator);

    assert.equal(created.status, 201);
    assert.deepEqual(created.body, {
      '@odata.context':
        'http://elevate.test:8080/v1.0/$metadata#roleManagement/directory/' +
        'roleAssignments/$entity',
      id: created.body.id,
      roleDefinitionId: RoleIds.exchangeAdministrator,
      principalId: user.id,
      directoryScopeId: '/',
    });
    const read = await elevate().request('GET', `${ASSIGNMENTS}/${created.body.id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.principalId, user.id);
    assert.match(read.body['@odata.context'], /roleAssignments\/\$entity$/);

    const events = await auditEventsFor(elevate(), user.id);
    const event = events.find((e) => e.activity === 'Add member to role');
    assert.equal(event?.category, 'RoleManagement');
    assert.ok(event?.targets.includes(RoleIds.exchangeAdministrator));
  });

  it('assigns a role to a role-assignable group, and refuses an ordinary group', async () => {
    const roleGroup = await elevate().createGroup({ name: uniqueTag('rag'), roleAssignable: true });
    const plainGroup = await elevate().createGroup({ name: uniqueTag('plain') });

    const granted = await assign(roleGroup.id, RoleIds.teamsAdministrator);
    assert.equal(granted.status, 201);
    assert.equal(granted.body.principalId, roleGroup.id);

    const refused = await assertRefusedWithoutChange(
      elevate(),
      () => assign(plainGroup.id, RoleIds.teamsAdministrator),
      400,
      'BadRequest',
    );
    assert.match(refused.body.error.message, /isAssignableToRole/);
  });

  it('answers SubjectNotFound for an unknown principal and 404 for an unknown role', async () => {
    const user = await elevate().createUser({ name: uniqueTag('unk') });

    for (const principalId of ['0e0e0e0e-0000-4000-8000-000000000000', 'no-such-principal']) {
      await assertRefusedWithoutChange(
        elevate(),
        () => assign(principalId, RoleIds.searchAdministrator),
        400,
        'SubjectNotFound',
      );
    }
    await assertRefusedWithoutChange(
      elevate(),
      () => assign(user.id, '0e0e0e0e-0000-4000-8000-000000000001'),
      404,
      'ResourceNotFound',
    );
  });

  it('answers RoleAssignmentExists for the same assignment twice', async () => {
    const user = await elevate().createUser({ name: uniqueTag('twice') });
    assert.equal((await assign(user.id, RoleIds.securityAdministrator)).status, 201);

    await assertRefusedWithoutChange(
      elevate(),
      () => assign(user.id, RoleIds.securityAdministrator.toUpperCase()),
      409,
      'RoleAssignmentExists',
    );
  });

  it('refuses bad bodies, adding no assignment', async () => {
    const user = await elevate().createUser({ name: uniqueTag('badra') });
    const valid = { roleDefinitionId: RoleIds.globalReader, principalId: user.id };

    for (const body of [
      { ...valid, directoryScopeId: '/administrativeUnits/x' },
      { ...valid, id: '0e0e0e0e-0000-4000-8000-000000000002' },
      { ...valid, principalId: 7 },
      { ...valid, principalId: 'p'.repeat(10_000) },
      { roleDefinitionId: RoleIds.globalReader },
      { principalId: user.id },
    ]) {
      await assertRefusedWithoutChange(
        elevate(),
        () => elevate().request('POST', ASSIGNMENTS, { body }),
        400,
        'BadRequest',
      );
    }
  });

  it('removes an assignment, which is then not found', async () => {
    const user = await elevate().createUser({ name: uniqueTag('rm') });
    elevate().clock.advance(1000);
    const id = await elevate().assignRole(user.id, RoleIds.sharePointAdministrator);
    elevate().clock.advance(1000);

    const deleted = await elevate().request('DELETE', `${ASSIGNMENTS}/${id}`);

    assert.equal(deleted.status, 204);
    assertGraphError(
      await elevate().request('GET', `${ASSIGNMENTS}/${id}`),
      404,
      'ResourceNotFound',
    );
    await assertRefusedWithoutChange(
      elevate(),
      () => elevate().request('DELETE', `${ASSIGNMENTS}/${id}`),
      404,
      'ResourceNotFound',
    );
    const events = await auditEventsFor(elevate(), user.id);
    assert.deepEqual(
      events.map((e) => e.activity),
      ['Add user', 'Add member to role', 'Remove member from role'],
    );
  });

  it('lists assignments filtered by principalId and by roleDefinitionId', async () => {
    const user = await elevate().createUser({ name: uniqueTag('list') });
    const group = await elevate().createGroup({ name: uniqueTag('listg'), roleAssignable: true });
    const first = await elevate().assignRole(user.id, RoleIds.officeAppsAdministrator);
    const second = await elevate().assignRole(user.id, RoleIds.helpdeskAdministrator);
    const third = await elevate().assignRole(group.id, RoleIds.officeAppsAdministrator);

    const byPrincipal = await elevate().request(
      'GET',
      `${ASSIGNMENTS}?$filter=principalId eq '${user.id}'`,
    );
    assert.equal(byPrincipal.status, 200);
    assert.match(
      byPrincipal.body['@odata.context'],
      /#roleManagement\/directory\/roleAssignments$/,
    );
    assert.deepEqual(
      byPrincipal.body.value.map((a: { id: string }) => a.id).sort(),
      [first, second].sort(),
    );

    const byRole = await elevate().request(
      'GET',
      `${ASSIGNMENTS}?$filter=roleDefinitionId eq '${RoleIds.officeAppsAdministrator}'`,
    );
    assert.deepEqual(
      byRole.body.value.map((a: { id: string }) => a.id).sort(),
      [first, third].sort(),
    );

    const both = await elevate().request(
      'GET',
      `${ASSIGNMENTS}?$filter=principalId eq '${group.id}' and ` +
        `roleDefinitionId eq '${RoleIds.officeAppsAdministrator}'&$count=true`,
    );
    assert.equal(both.body['@odata.count'], 1);
    assert.equal(both.body.value[0].id, third);

    assertGraphError(
      await elevate().request('GET', `${ASSIGNMENTS}?$filter=principalId eq 'not-a-guid'`),
      400,
      'BadRequest',
    );
    assertGraphError(
      await elevate().request('GET', `${ASSIGNMENTS}?$filter=secret eq 'x'`),
      400,
      'BadRequest',
    );
  });

  it('lets a user list its own assignments but nobody else’s', async () => {
    const user = await elevate().createUser({ name: uniqueTag('self') });
    const other = await elevate().createUser({ name: uniqueTag('other') });
    const own = await elevate().assignRole(user.id, RoleIds.searchAdministrator);
    const others = await elevate().assignRole(other.id, RoleIds.searchAdministrator);

    const mine = await elevate().request(
      'GET',
      `${ASSIGNMENTS}?$filter=principalId eq '${user.id}'`,
      { as: user },
    );
    assert.equal(mine.status, 200);
    assert.deepEqual(
      mine.body.value.map((a: { id: string }) => a.id),
      [own],
    );
    assert.equal(
      (await elevate().request('GET', `${ASSIGNMENTS}/${own}`, { as: user })).status,
      200,
    );

    for (const url of [
      ASSIGNMENTS,
      `${ASSIGNMENTS}?$filter=principalId eq '${other.id}'`,
      `${ASSIGNMENTS}?$filter=principalId eq '${user.id}' or principalId eq '${other.id}'`,
      `${ASSIGNMENTS}/${others}`,
      `${ASSIGNMENTS}/0e0e0e0e-0000-4000-8000-000000000003`,
    ]) {
      assertGraphError(
        await elevate().request('GET', url, { as: user }),
        403,
        'Authorization_RequestDenied',
      );
    }
  });

  it('lets every member user see what a group grants, but not guests', async () => {
    const user = await elevate().createUser({ name: uniqueTag('seer') });
    const guest = await elevate().createUser({ name: uniqueTag('guest'), userType: 'Guest' });
    const group = await elevate().createGroup({ name: uniqueTag('grants'), roleAssignable: true });
    const granted = await elevate().assignRole(group.id, RoleIds.teamsAdministrator);
    const url = `${ASSIGNMENTS}?$filter=principalId eq '${group.id}'`;

    const seen = await elevate().request('GET', url, { as: user });
    assert.equal(seen.status, 200);
    assert.deepEqual(
      seen.body.value.map((a: { id: string }) => a.id),
      [granted],
    );
    assertGraphError(
      await elevate().request('GET', url, { as: guest }),
      403,
      'Authorization_RequestDenied',
    );
  });

  it('lists effective roles: direct ones and those of groups the user is in now', async () => {
    const user = await elevate().createUser({ name: uniqueTag('eff') });
    const group = await elevate().createGroup({ name: uniqueTag('effg'), roleAssignable: true });
    const unrelated = await elevate().createGroup({
      name: uniqueTag('unrel'),
      roleAssignable: true,
    });
    const direct = await elevate().assignRole(user.id, RoleIds.globalReader);
    const viaGroup = await elevate().assignRole(group.id, RoleIds.exchangeAdministrator);
    await elevate().assignRole(unrelated.id, RoleIds.teamsAdministrator);

    const before = await transitiveFor(user.id);
    assert.equal(before.status, 200);
    assert.deepEqual(
      before.body.value.map((a: { id: string }) => a.id),
      [direct],
    );

    await elevate().request('POST', `/v1.0/groups/${group.id}/members/$ref`, {
      body: reference(user.id),
    });
    const during = await transitiveFor(user.id);
    assert.match(
      during.body['@odata.context'],
      /#roleManagement\/directory\/transitiveRoleAssignments$/,
    );
    assert.deepEqual(
      during.body.value
        .map((a: { id: string; principalId: string }) => [a.id, a.principalId])
        .sort(),
      [
        [direct, user.id],
        [viaGroup, group.id],
      ].sort(),
    );
    const own = await transitiveFor(user.id, user);
    assert.equal(own.status, 200);
    assert.equal(own.body.value.length, 2);

    await elevate().request('DELETE', `/v1.0/groups/${group.id}/members/${user.id}/$ref`);
    const after = await transitiveFor(user.id);
    assert.deepEqual(
      after.body.value.map((a: { id: string }) => a.id),
      [direct],
    );
  });

  it('grants the powers of a role held through a group only while membership lasts', async () => {
    const user = await elevate().createUser({ name: uniqueTag('pow') });
    const admins = await elevate().createGroup({ name: uniqueTag('powg'), roleAssignable: true });
    await elevate().assignRole(admins.id, RoleIds.userAdministrator);
    const create = (name: string) =>
      elevate().request('POST', '/v1.0/users', {
        as: user,
        body: { displayName: name, userPrincipalName: `${name}@elevate.local` },
      });

    assertGraphError(await create(uniqueTag('no')), 403, 'Authorization_RequestDenied');
    await elevate().request('POST', `/v1.0/groups/${admins.id}/members/$ref`, {
      body: reference(user.id),
    });
    assert.equal((await create(uniqueTag('yes'))).status, 201);
    await elevate().request('DELETE', `/v1.0/groups/${admins.id}/members/${user.id}/$ref`);
    assertGraphError(await create(uniqueTag('no')), 403, 'Authorization_RequestDenied');
  });

  it('narrows effective roles by roleDefinitionId and pages them', async () => {
    const user = await elevate().createUser({ name: uniqueTag('narrow') });
    const group = await elevate().createGroup({ name: uniqueTag('ng'), roleAssignable: true });
    await elevate().request('POST', `/v1.0/groups/${group.id}/members/$ref`, {
      body: reference(user.id),
    });
    await elevate().assignRole(user.id, RoleIds.globalReader);
    const viaGroup = await elevate().assignRole(group.id, RoleIds.securityReader);

    const narrowed = await elevate().request(
      'GET',
      `${TRANSITIVE}?$filter=principalId eq '${user.id}' and ` +
        `roleDefinitionId eq '${RoleIds.securityReader}'`,
    );
    assert.deepEqual(
      narrowed.body.value.map((a: { id: string }) => a.id),
      [viaGroup],
    );

    const firstPage = await elevate().request(
      'GET',
      `${TRANSITIVE}?$filter=principalId eq '${user.id}'&$top=1&$count=true`,
    );
    assert.equal(firstPage.body['@odata.count'], 2);
    assert.equal(firstPage.body.value.length, 1);
    const next = new URL(firstPage.body['@odata.nextLink']);
    const secondPage = await elevate().request('GET', next.pathname + next.search);
    assert.equal(secondPage.body.value.length, 1);
    assert.equal(secondPage.body['@odata.nextLink'], undefined);
    assert.notEqual(secondPage.body.value[0].id, firstPage.body.value[0].id);
  });

  it('requires one principalId in the filter of transitiveRoleAssignments', async () => {
    const user = await elevate().createUser({ name: uniqueTag('req') });
    const other = await elevate().createUser({ name: uniqueTag('req2') });

    for (const query of [
      '',
      `?$filter=roleDefinitionId eq '${RoleIds.globalReader}'`,
      `?$filter=principalId eq '${user.id}' or principalId eq '${other.id}'`,
      `?$filter=principalId eq '${user.id}' and principalId eq '${other.id}'`,
      `?$filter=principalId ne '${user.id}'`,
    ]) {
      assertGraphError(await elevate().request('GET', `${TRANSITIVE}${query}`), 400, 'BadRequest');
    }
  });

  it('shows effective roles of others to readers only', async () => {
    const user = await elevate().createUser({ name: uniqueTag('peek') });
    const reader = await elevate().createAdmin(RoleIds.globalReader);

    assertGraphError(
      await transitiveFor(elevate().admin.id, user),
      403,
      'Authorization_RequestDenied',
    );
    const seen = await transitiveFor(elevate().admin.id, reader);
    assert.equal(seen.status, 200);
    assert.ok(
      seen.body.value.some(
        (a: { roleDefinitionId: string }) => a.roleDefinitionId === RoleIds.globalAdministrator,
      ),
    );
  });

  it('removes the role assignments of a deleted user and of a deleted group', async () => {
    const user = await elevate().createUser({ name: uniqueTag('gone') });
    const group = await elevate().createGroup({ name: uniqueTag('goneg'), roleAssignable: true });
    await elevate().assignRole(user.id, RoleIds.globalReader);
    await elevate().assignRole(group.id, RoleIds.globalReader);
    const assignments = await countRows(elevate(), 'role_assignments');

    await elevate().request('DELETE', `/v1.0/users/${user.id}`);
    await elevate().request('DELETE', `/v1.0/groups/${group.id}`);

    assert.equal(await countRows(elevate(), 'role_assignments'), assignments - 2);
  });
});
