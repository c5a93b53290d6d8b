import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RoleIds } from '../../src/directory/roles.js';
import { DAY, HOUR } from '../support/clock.js';
import { describeEachDatabase } from '../support/elevate.js';
import {
  ASSIGNMENT_REQUESTS,
  BASE,
  ELIGIBILITY_REQUESTS,
  activate,
  makeEligible,
  membersOf,
  submit,
} from './support.js';

describeEachDatabase('administrators assign, update, extend, renew and remove', (elevate) => {
  it('assigns active membership for two hours (Graph example E1)', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();

    const response = await elevate().request('POST', ASSIGNMENT_REQUESTS, {
      body: {
        accessId: 'member',
        principalId: user.id,
        groupId: group.id,
        action: 'adminAssign',
        scheduleInfo: {
          startDateTime: '2022-12-08T07:43:00.000Z',
          expiration: { type: 'afterDuration', duration: 'PT2H' },
        },
        justification: 'Assign active member access.',
      },
    });

    assert.equal(response.status, 201);
    assert.equal(response.body.status, 'Provisioned');
    assert.equal(response.body.action, 'adminAssign');
    assert.equal(response.body.approvalId, null);
    assert.equal(response.body.isValidationOnly, false);
    assert.equal(response.body.createdBy.user.id, elevate().admin.id);
    assert.equal(response.body.scheduleInfo.startDateTime, elevate().clock.now().toISOString());
    assert.deepEqual(response.body.scheduleInfo.expiration.type, 'afterDuration');
    assert.deepEqual(response.body.ticketInfo, { ticketNumber: null, ticketSystem: null });
    assert.ok(response.body.completedDateTime);
    assert.match(response.body['@odata.context'], /assignmentScheduleRequests\/\$entity$/);
    assert.ok((await membersOf(elevate(), group.id)).includes(user.id));

    elevate().clock.advance(2 * HOUR);
    assert.ok(!(await membersOf(elevate(), group.id)).includes(user.id));
  });

  it('creates an eligibility from case-insensitive input and extends it (E3, E4)', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    const start = elevate().clock.now();
    const end = new Date(start.getTime() + 12 * HOUR).toISOString();

    const created = await elevate().request('POST', ELIGIBILITY_REQUESTS, {
      body: {
        accessId: 'member',
        principalId: user.id,
        groupId: group.id,
        action: 'AdminAssign',
        scheduleInfo: {
          startDateTime: start.toISOString(),
          expiration: { type: 'AfterDateTime', endDateTime: end },
        },
        justification: 'Assign eligible request.',
      },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.action, 'adminAssign');
    assert.equal(created.body.scheduleInfo.expiration.type, 'afterDateTime');
    assert.equal(created.body.scheduleInfo.expiration.endDateTime, end);
    assert.match(created.body['@odata.context'], /eligibilityScheduleRequests\/\$entity$/);
    // An eligibility alone does not make anyone a member.
    assert.deepEqual(await membersOf(elevate(), group.id), []);

    const later = new Date(start.getTime() + 13 * HOUR).toISOString();
    const extended = await submit(elevate(), 'eligibility', 'AdminExtend', user, group.id, {
      end: later,
    });
    assert.equal(extended.status, 201);
    assert.equal(extended.body.action, 'adminExtend');
    assert.equal(extended.body.status, 'Provisioned');
    assert.equal(extended.body.scheduleInfo.expiration.endDateTime, later);

    const schedule = await elevate().request(
      'GET',
      `${BASE}/eligibilitySchedules/${created.body.targetScheduleId}`,
    );
    assert.equal(schedule.status, 200);
    assert.equal(schedule.body.scheduleInfo.expiration.endDateTime, later);
  });

  it('refuses a permanent active assignment under the default policy (E12)', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();

    const response = await submit(elevate(), 'assignment', 'adminAssign', user, group.id, {
      permanent: true,
    });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'RoleAssignmentRequestPolicyValidationFailed');
    assert.match(response.body.error.message, /\["ExpirationRule"\]/);
    assert.deepEqual(await membersOf(elevate(), group.id), []);
  });

  it('refuses an eligibility over a year and an active assignment over 180 days', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();

    const eligible = await submit(elevate(), 'eligibility', 'adminAssign', user, group.id, {
      duration: 'P366D',
    });
    assert.equal(eligible.status, 400);
    assert.match(eligible.body.error.message, /ExpirationRule/);

    const active = await submit(elevate(), 'assignment', 'adminAssign', user, group.id, {
      duration: 'P181D',
    });
    assert.equal(active.status, 400);
    assert.match(active.body.error.message, /ExpirationRule/);
  });

  it('requires a justification for an active assignment by default', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();

    const response = await submit(elevate(), 'assignment', 'adminAssign', user, group.id, {
      duration: 'P1D',
      justification: '   ',
    });
    assert.equal(response.status, 400);
    assert.match(response.body.error.message, /JustificationRule/);
  });

  it('answers RoleAssignmentExists for a duplicate eligibility', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    await makeEligible(elevate(), user, group.id);

    const again = await submit(elevate(), 'eligibility', 'adminAssign', user, group.id, {
      duration: 'P1D',
    });
    assert.equal(again.status, 400);
    assert.equal(again.body.error.code, 'RoleAssignmentExists');
  });

  it('updates an eligibility and its activation settings', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    await makeEligible(elevate(), user, group.id);

    const updated = await submit(elevate(), 'eligibility', 'adminUpdate', user, group.id, {
      duration: 'P10D',
      extra: {
        activationSettings: {
          isMfaRequired: true,
          notificationLevel: 'critical',
          additionalRecipients: ['SOC@Example.com'],
        },
      },
    });
    assert.equal(updated.status, 201);
    assert.deepEqual(updated.body.activationSettings, {
      isMfaRequired: true,
      notificationLevel: 'Critical',
      additionalRecipients: ['soc@example.com'],
    });

    const schedules = await elevate().request(
      'GET',
      `${BASE}/eligibilitySchedules?$filter=groupId eq '${group.id}' and ` +
        `principalId eq '${user.id}'`,
    );
    assert.equal(schedules.body.value.length, 1);
    assert.equal(schedules.body.value[0].activationSettings.isMfaRequired, true);
    const activation = await activate(elevate(), user, group.id);
    assert.match(activation.body.error.message, /MfaRule/);
  });

  it('answers RoleAssignmentDoesNotExist when removing what is not there', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();

    const response = await submit(elevate(), 'eligibility', 'adminRemove', user, group.id);
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'RoleAssignmentDoesNotExist');
  });

  it('renews an ended eligibility', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    await makeEligible(elevate(), user, group.id, { duration: 'P1D' });
    elevate().clock.advance(2 * DAY);

    const renewed = await submit(elevate(), 'eligibility', 'adminRenew', user, group.id, {
      duration: 'P30D',
    });
    assert.equal(renewed.status, 201);
    assert.equal(renewed.body.action, 'adminRenew');
    assert.equal((await activate(elevate(), user, group.id)).status, 201);
  });

  it('refuses unknown groups, unknown principals and bad ids', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();

    const noGroup = await submit(
      elevate(),
      'eligibility',
      'adminAssign',
      user,
      '3f1c1a0e-0000-4000-8000-000000000000',
      { duration: 'P1D' },
    );
    assert.equal(noGroup.status, 404);
    const noUser = await submit(
      elevate(),
      'eligibility',
      'adminAssign',
      { id: '3f1c1a0e-0000-4000-8000-000000000001', upn: 'x' },
      group.id,
      { duration: 'P1D' },
    );
    assert.equal(noUser.status, 400);
    assert.equal(noUser.body.error.code, 'SubjectNotFound');
    const badId = await submit(
      elevate(),
      'eligibility',
      'adminAssign',
      { id: 'not-a-guid', upn: 'x' },
      group.id,
    );
    assert.equal(badId.status, 400);
    const badAction = await submit(elevate(), 'eligibility', 'selfActivate', user, group.id, {
      as: user,
    });
    assert.equal(badAction.status, 400);
    const badAccess = await submit(elevate(), 'eligibility', 'adminAssign', user, group.id, {
      access: 'admin' as 'member',
    });
    assert.equal(badAccess.status, 400);
  });
});

describeEachDatabase('who may manage PIM assignments', (elevate) => {
  it('refuses a plain member any admin action', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    const someone = await elevate().createUser();

    for (const action of [
      'adminAssign',
      'adminUpdate',
      'adminRemove',
      'adminExtend',
      'adminRenew',
    ]) {
      const response = await submit(elevate(), 'eligibility', action, someone, group.id, {
        as: user,
        duration: 'P1D',
      });
      assert.equal(response.status, 403, action);
    }
  });

  it('lets an active owner manage member assignments but not owners, nor itself', async () => {
    const group = await elevate().createGroup({ roleAssignable: true });
    const owner = await elevate().createUser();
    const member = await elevate().createUser();
    await submit(elevate(), 'assignment', 'adminAssign', owner, group.id, {
      access: 'owner',
      duration: 'P1D',
    });

    const forMember = await submit(elevate(), 'eligibility', 'adminAssign', member, group.id, {
      as: owner,
      duration: 'P1D',
    });
    assert.equal(forMember.status, 201);
    const forOwner = await submit(elevate(), 'eligibility', 'adminAssign', member, group.id, {
      as: owner,
      access: 'owner',
      duration: 'P1D',
    });
    assert.equal(forOwner.status, 403);
    const forSelf = await submit(elevate(), 'assignment', 'adminAssign', owner, group.id, {
      as: owner,
      duration: 'P1D',
    });
    assert.equal(forSelf.status, 403);

    elevate().clock.advance(DAY);
    const expiredOwner = await submit(elevate(), 'eligibility', 'adminRemove', member, group.id, {
      as: owner,
    });
    assert.equal(expiredOwner.status, 403);
  });

  it('lets a Groups Administrator manage groups that hold no roles only', async () => {
    const plain = await elevate().createGroup();
    const privileged = await elevate().createGroup({ roleAssignable: true });
    const groupsAdmin = await elevate().createAdmin(RoleIds.groupsAdministrator);
    const user = await elevate().createUser();

    const ok = await submit(elevate(), 'eligibility', 'adminAssign', user, plain.id, {
      as: groupsAdmin,
      duration: 'P1D',
    });
    assert.equal(ok.status, 201);
    const refused = await submit(elevate(), 'eligibility', 'adminAssign', user, privileged.id, {
      as: groupsAdmin,
      duration: 'P1D',
    });
    assert.equal(refused.status, 403);
  });

  it('lets a Privileged Role Administrator manage any group', async () => {
    const group = await elevate().createGroup({ roleAssignable: true });
    const pra = await elevate().createAdmin(RoleIds.privilegedRoleAdministrator);
    const user = await elevate().createUser();

    const response = await submit(elevate(), 'eligibility', 'adminAssign', user, group.id, {
      as: pra,
      duration: 'P1D',
    });
    assert.equal(response.status, 201);
  });
});
