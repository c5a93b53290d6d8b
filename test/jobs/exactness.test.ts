import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RoleIds } from '../../src/directory/roles.js';
import { HOUR } from '../support/clock.js';
import { describeEachDatabase, type TestElevate, type TestUser } from '../support/elevate.js';
import { activate, BASE, effectiveRoles, makeEligible, membersOf } from '../pim/support.js';
import { scheduleStatus } from './support.js';

const ROLES = [RoleIds.exchangeAdministrator, RoleIds.teamsAdministrator].sort();

async function privilegedGroup(elevate: TestElevate) {
  const group = await elevate.createGroup({ roleAssignable: true });
  for (const role of ROLES) await elevate.assignRole(group.id, role);
  return group;
}

async function memberOf(elevate: TestElevate, user: TestUser): Promise<string[]> {
  const response = await elevate.request('GET', `/v1.0/users/${user.id}/transitiveMemberOf`);
  assert.equal(response.status, 200);
  return (response.body.value as { id: string }[]).map((g) => g.id);
}

async function instances(elevate: TestElevate, groupId: string): Promise<string[]> {
  const response = await elevate.request(
    'GET',
    `${BASE}/assignmentScheduleInstances?$filter=groupId eq '${groupId}'`,
  );
  assert.equal(response.status, 200);
  return (response.body.value as { principalId: string }[]).map((i) => i.principalId);
}

/** Everything a reader can see about the member's and the owner's access, in one snapshot. */
async function accessSeen(
  elevate: TestElevate,
  groupId: string,
  member: TestUser,
  owner: TestUser,
) {
  return {
    roles: await effectiveRoles(elevate, member),
    member: (await membersOf(elevate, groupId)).includes(member.id),
    owner: (await membersOf(elevate, groupId, 'owners')).includes(owner.id),
    memberOf: (await memberOf(elevate, member)).includes(groupId),
    instances: (await instances(elevate, groupId)).sort(),
  };
}

describeEachDatabase('access at the edges of a schedule, with no job running', (elevate) => {
  it('ends an activation on every read path at exactly its end', async () => {
    const group = await privilegedGroup(elevate());
    const member = await elevate().createUser();
    const owner = await elevate().createUser();
    await makeEligible(elevate(), member, group.id);
    await makeEligible(elevate(), owner, group.id, { access: 'owner' });
    const end = elevate().clock.now().getTime() + 2 * HOUR;
    const activated = await activate(elevate(), member, group.id, { duration: 'PT2H' });
    assert.equal(activated.status, 201);
    const asOwner = await activate(elevate(), owner, group.id, {
      access: 'owner',
      duration: 'PT2H',
    });
    assert.equal(asOwner.status, 201);

    elevate().clock.set(new Date(end - 1).toISOString());
    assert.deepEqual(await accessSeen(elevate(), group.id, member, owner), {
      roles: ROLES,
      member: true,
      owner: true,
      memberOf: true,
      instances: [member.id, owner.id].sort(),
    });
    const tooEarly = await activate(elevate(), member, group.id, { duration: 'PT1H' });
    assert.equal(tooEarly.status, 400);
    assert.equal(tooEarly.body.error.code, 'RoleAssignmentExists');

    elevate().clock.set(new Date(end).toISOString());
    assert.deepEqual(await accessSeen(elevate(), group.id, member, owner), {
      roles: [],
      member: false,
      owner: false,
      memberOf: false,
      instances: [],
    });
    // Nothing has run: the row still says Provisioned, and its window alone decides.
    const scheduleId = activated.body.targetScheduleId as string;
    assert.equal(await scheduleStatus(elevate().database.db, scheduleId), 'Provisioned');
    const again = await activate(elevate(), member, group.id, { duration: 'PT1H' });
    assert.equal(again.status, 201);
  });

  it('starts a future activation on every read path at exactly its start', async () => {
    const group = await privilegedGroup(elevate());
    const member = await elevate().createUser();
    const owner = await elevate().createUser();
    await makeEligible(elevate(), member, group.id);
    await makeEligible(elevate(), owner, group.id, { access: 'owner' });
    const start = elevate().clock.now().getTime() + HOUR;
    const options = { start: new Date(start).toISOString(), duration: 'PT1H' };
    assert.equal((await activate(elevate(), member, group.id, options)).status, 201);
    const asOwner = await activate(elevate(), owner, group.id, { ...options, access: 'owner' });
    assert.equal(asOwner.status, 201);

    elevate().clock.set(new Date(start - 1).toISOString());
    assert.deepEqual(await accessSeen(elevate(), group.id, member, owner), {
      roles: [],
      member: false,
      owner: false,
      memberOf: false,
      instances: [],
    });

    elevate().clock.set(new Date(start).toISOString());
    assert.deepEqual(await accessSeen(elevate(), group.id, member, owner), {
      roles: ROLES,
      member: true,
      owner: true,
      memberOf: true,
      instances: [member.id, owner.id].sort(),
    });
  });

  it('keeps an expired activation ended after the loop has marked it', async () => {
    const group = await privilegedGroup(elevate());
    const member = await elevate().createUser();
    const owner = await elevate().createUser();
    await makeEligible(elevate(), member, group.id);
    const end = elevate().clock.now().getTime() + HOUR;
    const activated = await activate(elevate(), member, group.id, { duration: 'PT1H' });
    assert.equal(activated.status, 201);

    elevate().clock.set(new Date(end).toISOString());
    await elevate().app.jobs.runPass();
    const scheduleId = activated.body.targetScheduleId as string;
    assert.equal(await scheduleStatus(elevate().database.db, scheduleId), 'Expired');
    assert.deepEqual(await accessSeen(elevate(), group.id, member, owner), {
      roles: [],
      member: false,
      owner: false,
      memberOf: false,
      instances: [],
    });
  });
});
