import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RoleIds } from '../../src/directory/roles.js';
import { DAY, HOUR, MINUTE } from '../support/clock.js';
import { describeEachDatabase, type TestElevate, type TestUser } from '../support/elevate.js';
import {
  ASSIGNMENT_REQUESTS,
  BASE,
  activate,
  approvalRule,
  effectiveRoles,
  makeEligible,
  membersOf,
  patchRule,
  submit,
} from './support.js';

const OFFICE_ROLES = [
  RoleIds.exchangeAdministrator,
  RoleIds.officeAppsAdministrator,
  RoleIds.teamsAdministrator,
  RoleIds.searchAdministrator,
].sort();

/** The partners' twin of the Tier 3 group: the same roles, but carol must approve. */
async function partnersGroup(elevate: TestElevate, approvers: Parameters<typeof approvalRule>[0]) {
  const group = await elevate.createGroup({
    name: 'Tier 3 Office Admins (Partners)',
    roleAssignable: true,
  });
  for (const role of OFFICE_ROLES) await elevate.assignRole(group.id, role);
  await patchRule(elevate, group.id, 'member', approvalRule(approvers));
  return group;
}

function decide(
  elevate: TestElevate,
  approver: TestUser,
  approvalId: string,
  stageId: string,
  reviewResult: 'Approve' | 'Deny',
  segment: 'steps' | 'stages' = 'steps',
) {
  return elevate.request(
    'PATCH',
    `${BASE}/assignmentApprovals/${approvalId}/${segment}/${stageId}`,
    {
      as: approver,
      body: { reviewResult, justification: 'checked with the partner manager' },
    },
  );
}

describeEachDatabase('approvals', (elevate) => {
  it("makes the partner wait for carol while the employees' group needs no one", async () => {
    const carol = await elevate().createUser({ name: 'carol' });
    const partner = await elevate().createUser({ name: 'pat' });
    const employee = await elevate().createUser({ name: 'alex' });
    const partners = await partnersGroup(elevate(), [{ users: [carol.id] }]);
    const employees = await elevate().createGroup({ name: 'Tier 3 Office Admins' });
    await makeEligible(elevate(), partner, partners.id);
    await makeEligible(elevate(), employee, employees.id);

    const direct = await activate(elevate(), employee, employees.id);
    assert.equal(direct.body.status, 'Provisioned');

    const waiting = await activate(elevate(), partner, partners.id, { justification: 'migration' });
    assert.equal(waiting.status, 201);
    assert.equal(waiting.body.status, 'PendingApproval');
    assert.equal(waiting.body.approvalId, waiting.body.id);
    assert.equal(waiting.body.completedDateTime, null);
    assert.deepEqual(await effectiveRoles(elevate(), partner), []);

    const queue = await elevate().request(
      'GET',
      `${BASE}/assignmentApprovals/filterByCurrentUser(on='approver')`,
      { as: carol },
    );
    assert.equal(queue.status, 200);
    const approval = queue.body.value.find((a: { id: string }) => a.id === waiting.body.id);
    assert.ok(approval);
    const stage = approval.stages[0];
    assert.equal(stage.assignedToMe, true);
    assert.equal(stage.status, 'InProgress');
    assert.equal(stage.reviewResult, 'NotReviewed');

    elevate().clock.advance(10 * MINUTE);
    assert.equal((await decide(elevate(), carol, approval.id, stage.id, 'Approve')).status, 204);
    assert.deepEqual(await effectiveRoles(elevate(), partner), OFFICE_ROLES);

    const request = await elevate().request('GET', `${ASSIGNMENT_REQUESTS}/${waiting.body.id}`, {
      as: partner,
    });
    assert.equal(request.body.status, 'Provisioned');
    assert.ok(request.body.targetScheduleId);
    const instances = await elevate().request(
      'GET',
      `${BASE}/assignmentScheduleInstances/filterByCurrentUser(on='principal')` +
        `?$filter=groupId eq '${partners.id}'`,
      { as: partner },
    );
    // The approved activation starts at approval and lasts the two hours asked for.
    assert.equal(instances.body.value[0].startDateTime, elevate().clock.now().toISOString());
    assert.equal(
      Date.parse(instances.body.value[0].endDateTime) -
        Date.parse(instances.body.value[0].startDateTime),
      2 * HOUR,
    );

    const again = await decide(elevate(), carol, approval.id, stage.id, 'Deny');
    assert.equal(again.status, 409);
  });

  it('grants nothing on a denial, and shows it to the requester', async () => {
    const carol = await elevate().createUser();
    const partner = await elevate().createUser();
    const group = await partnersGroup(elevate(), [{ users: [carol.id] }]);
    await makeEligible(elevate(), partner, group.id);
    const waiting = await activate(elevate(), partner, group.id);

    assert.equal(
      (await decide(elevate(), carol, waiting.body.id, waiting.body.id, 'Deny', 'stages')).status,
      204,
    );
    assert.deepEqual(await effectiveRoles(elevate(), partner), []);
    const request = await elevate().request('GET', `${ASSIGNMENT_REQUESTS}/${waiting.body.id}`, {
      as: partner,
    });
    assert.equal(request.body.status, 'Denied');
    const approval = await elevate().request(
      'GET',
      `${BASE}/assignmentApprovals/${waiting.body.id}`,
      { as: partner },
    );
    assert.equal(approval.body.stages[0].reviewResult, 'Denied');
    assert.equal(approval.body.stages[0].status, 'Completed');
  });

  it('lets the requester cancel a pending request, which then grants nothing', async () => {
    const carol = await elevate().createUser();
    const partner = await elevate().createUser();
    const group = await partnersGroup(elevate(), [{ users: [carol.id] }]);
    await makeEligible(elevate(), partner, group.id);
    const waiting = await activate(elevate(), partner, group.id);

    const stranger = await elevate().createUser();
    const idor = await elevate().request(
      'POST',
      `${ASSIGNMENT_REQUESTS}/${waiting.body.id}/cancel`,
      { as: stranger },
    );
    assert.equal(idor.status, 404);

    const canceled = await elevate().request(
      'POST',
      `${ASSIGNMENT_REQUESTS}/${waiting.body.id}/cancel`,
      { as: partner },
    );
    assert.equal(canceled.status, 204);
    const request = await elevate().request('GET', `${ASSIGNMENT_REQUESTS}/${waiting.body.id}`, {
      as: partner,
    });
    assert.equal(request.body.status, 'Canceled');

    const late = await decide(elevate(), carol, waiting.body.id, waiting.body.id, 'Approve');
    assert.equal(late.status, 409);
    assert.deepEqual(await effectiveRoles(elevate(), partner), []);
    const twice = await elevate().request(
      'POST',
      `${ASSIGNMENT_REQUESTS}/${waiting.body.id}/cancel`,
      { as: partner },
    );
    assert.equal(twice.status, 409);
  });

  it('refuses a second pending request for the same group', async () => {
    const carol = await elevate().createUser();
    const partner = await elevate().createUser();
    const group = await partnersGroup(elevate(), [{ users: [carol.id] }]);
    await makeEligible(elevate(), partner, group.id);
    await activate(elevate(), partner, group.id);

    const second = await activate(elevate(), partner, group.id);
    assert.equal(second.status, 400);
    assert.equal(second.body.error.code, 'PendingRoleAssignmentRequest');
  });

  it('never lets a requester approve its own request, even as an approver or admin', async () => {
    const admin = await elevate().createAdmin(RoleIds.globalAdministrator);
    const group = await partnersGroup(elevate(), [{ users: [admin.id] }]);
    await makeEligible(elevate(), admin, group.id);
    const waiting = await activate(elevate(), admin, group.id);
    assert.equal(waiting.body.status, 'PendingApproval');

    const own = await decide(elevate(), admin, waiting.body.id, waiting.body.id, 'Approve');
    assert.equal(own.status, 403);
    const queue = await elevate().request(
      'GET',
      `${BASE}/assignmentApprovals/filterByCurrentUser(on='approver')`,
      { as: admin },
    );
    assert.ok(!queue.body.value.some((a: { id: string }) => a.id === waiting.body.id));
    assert.deepEqual(await membersOf(elevate(), group.id), []);
  });

  it('refuses an approver of another group and one since removed from the approvers', async () => {
    const carol = await elevate().createUser();
    const dave = await elevate().createUser();
    const partner = await elevate().createUser();
    const approvers = await elevate().createGroup({ name: 'Approvers' });
    await elevate().request('POST', `/v1.0/groups/${approvers.id}/members/$ref`, {
      body: { '@odata.id': `http://x/v1.0/directoryObjects/${dave.id}` },
    });
    const group = await partnersGroup(elevate(), [{ groups: [approvers.id] }]);
    const other = await partnersGroup(elevate(), [{ users: [carol.id] }]);
    await makeEligible(elevate(), partner, group.id);
    const waiting = await activate(elevate(), partner, group.id);

    const foreign = await decide(elevate(), carol, waiting.body.id, waiting.body.id, 'Approve');
    assert.equal(foreign.status, 403);
    assert.ok(other.id);

    await elevate().request('DELETE', `/v1.0/groups/${approvers.id}/members/${dave.id}/$ref`);
    const removed = await decide(elevate(), dave, waiting.body.id, waiting.body.id, 'Approve');
    assert.equal(removed.status, 403);
    assert.deepEqual(await membersOf(elevate(), group.id), []);
  });

  it('grants nothing when the eligibility was removed before the approval', async () => {
    const carol = await elevate().createUser();
    const partner = await elevate().createUser();
    const group = await partnersGroup(elevate(), [{ users: [carol.id] }]);
    await makeEligible(elevate(), partner, group.id);
    const waiting = await activate(elevate(), partner, group.id);
    assert.equal(
      (await submit(elevate(), 'eligibility', 'adminRemove', partner, group.id)).status,
      201,
    );

    const approved = await decide(elevate(), carol, waiting.body.id, waiting.body.id, 'Approve');
    assert.equal(approved.status, 409);
    assert.deepEqual(await membersOf(elevate(), group.id), []);
    const request = await elevate().request('GET', `${ASSIGNMENT_REQUESTS}/${waiting.body.id}`, {
      as: partner,
    });
    assert.equal(request.body.status, 'Failed');
  });

  it('needs both serial stages to approve, in order', async () => {
    const carol = await elevate().createUser();
    const security = await elevate().createUser();
    const partner = await elevate().createUser();
    const group = await partnersGroup(elevate(), [{ users: [carol.id] }, { users: [security.id] }]);
    await makeEligible(elevate(), partner, group.id);
    const waiting = await activate(elevate(), partner, group.id);

    const approval = await elevate().request(
      'GET',
      `${BASE}/assignmentApprovals/${waiting.body.id}`,
      { as: carol },
    );
    assert.equal(approval.body.stages.length, 2);
    const [first, second] = approval.body.stages;
    assert.equal(second.status, 'Initializing');

    // The second stage opens only once the first has approved.
    const early = await decide(elevate(), security, waiting.body.id, second.id, 'Approve');
    assert.equal(early.status, 409);
    assert.equal(
      (await decide(elevate(), carol, waiting.body.id, first.id, 'Approve')).status,
      204,
    );
    assert.deepEqual(await membersOf(elevate(), group.id), []);
    assert.equal(
      (await decide(elevate(), security, waiting.body.id, second.id, 'Approve')).status,
      204,
    );
    assert.deepEqual(await membersOf(elevate(), group.id), [partner.id]);
  });

  it('expires an undecided request after the stage timeout and grants nothing', async () => {
    const carol = await elevate().createUser();
    const partner = await elevate().createUser();
    const group = await partnersGroup(elevate(), [{ users: [carol.id], timeoutDays: 1 }]);
    await makeEligible(elevate(), partner, group.id);
    const waiting = await activate(elevate(), partner, group.id);

    elevate().clock.advance(DAY);
    const late = await decide(elevate(), carol, waiting.body.id, waiting.body.id, 'Approve');
    assert.equal(late.status, 409);
    assert.ok((await elevate().app.services.approvals.expireDue()) >= 1);
    const approval = await elevate().request(
      'GET',
      `${BASE}/assignmentApprovals/${waiting.body.id}`,
      { as: partner },
    );
    assert.equal(approval.body.stages[0].status, 'Expired');
    const request = await elevate().request('GET', `${ASSIGNMENT_REQUESTS}/${waiting.body.id}`, {
      as: partner,
    });
    assert.equal(request.body.status, 'Canceled');
    assert.deepEqual(await membersOf(elevate(), group.id), []);
  });

  it('requires the approver justification when the stage says so', async () => {
    const carol = await elevate().createUser();
    const partner = await elevate().createUser();
    const group = await partnersGroup(elevate(), [{ users: [carol.id], justification: true }]);
    await makeEligible(elevate(), partner, group.id);
    const waiting = await activate(elevate(), partner, group.id);

    const bare = await elevate().request(
      'PATCH',
      `${BASE}/assignmentApprovals/${waiting.body.id}/steps/${waiting.body.id}`,
      {
        as: carol,
        body: { reviewResult: 'Approve' },
      },
    );
    assert.equal(bare.status, 400);
    assert.equal(
      (await decide(elevate(), carol, waiting.body.id, waiting.body.id, 'Approve')).status,
      204,
    );
  });

  it('lists requests waiting for the approver and for the principal (E7)', async () => {
    const carol = await elevate().createUser();
    const partner = await elevate().createUser();
    const group = await partnersGroup(elevate(), [{ users: [carol.id] }]);
    await makeEligible(elevate(), partner, group.id);
    const waiting = await activate(elevate(), partner, group.id, {
      duration: 'PT8H',
      ticket: '09876',
    });

    const mine = await elevate().request(
      'GET',
      `${ASSIGNMENT_REQUESTS}/filterByCurrentUser(on='principal')` +
        `?$filter=status eq 'PendingApproval' and groupId eq '${group.id}'`,
      { as: partner },
    );
    assert.equal(mine.status, 200);
    assert.equal(mine.body.value.length, 1);
    assert.equal(mine.body.value[0].ticketInfo.ticketNumber, '09876');
    assert.equal(mine.body.value[0].scheduleInfo.expiration.duration, 'PT8H');

    const forCarol = await elevate().request(
      'GET',
      `${ASSIGNMENT_REQUESTS}/filterByCurrentUser(on=%27approver%27)?$expand=principal`,
      { as: carol },
    );
    assert.equal(forCarol.body.value[0].id, waiting.body.id);
    assert.equal(forCarol.body.value[0].principal.id, partner.id);
  });

  it('answers 404 to anyone else reading a request or an approval', async () => {
    const carol = await elevate().createUser();
    const partner = await elevate().createUser();
    const stranger = await elevate().createUser();
    const group = await partnersGroup(elevate(), [{ users: [carol.id] }]);
    await makeEligible(elevate(), partner, group.id);
    const waiting = await activate(elevate(), partner, group.id);

    for (const url of [
      `${ASSIGNMENT_REQUESTS}/${waiting.body.id}`,
      `${BASE}/assignmentApprovals/${waiting.body.id}`,
    ]) {
      const response = await elevate().request('GET', url, { as: stranger });
      assert.equal(response.status, 404, url);
    }
  });
});

describeEachDatabase('extension and renewal', (elevate) => {
  it('extends an assignment ending within 14 days only with an admin’s approval', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    const pra = await elevate().createAdmin(RoleIds.privilegedRoleAdministrator);
    const groupOwnerAndApprover = await elevate().createUser();
    await makeEligible(elevate(), user, group.id, { duration: 'P10D' });
    const end = new Date(elevate().clock.now().getTime() + 40 * DAY).toISOString();

    const asked = await submit(elevate(), 'eligibility', 'selfExtend', user, group.id, {
      as: user,
      end,
    });
    assert.equal(asked.status, 201);
    assert.equal(asked.body.status, 'PendingAdminDecision');

    const notAdmin = await decide(
      elevate(),
      groupOwnerAndApprover,
      asked.body.id,
      asked.body.id,
      'Approve',
    );
    assert.equal(notAdmin.status, 403);
    const own = await decide(elevate(), user, asked.body.id, asked.body.id, 'Approve');
    assert.equal(own.status, 403);

    const before = await elevate().request(
      'GET',
      `${BASE}/eligibilitySchedules?$filter=principalId eq '${user.id}'`,
      { as: user },
    );
    assert.notEqual(before.body.value[0].scheduleInfo.expiration.endDateTime, end);

    assert.equal(
      (await decide(elevate(), pra, asked.body.id, asked.body.id, 'Approve')).status,
      204,
    );
    const after = await elevate().request(
      'GET',
      `${BASE}/eligibilitySchedules?$filter=principalId eq '${user.id}'`,
      { as: user },
    );
    assert.equal(after.body.value[0].scheduleInfo.expiration.endDateTime, end);
  });

  it('leaves the assignment as it was when the extension is denied', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    const pra = await elevate().createAdmin();
    const eligibility = await makeEligible(elevate(), user, group.id, { duration: 'P10D' });
    const end = new Date(elevate().clock.now().getTime() + 40 * DAY).toISOString();
    const asked = await submit(elevate(), 'eligibility', 'selfExtend', user, group.id, {
      as: user,
      end,
    });

    assert.equal((await decide(elevate(), pra, asked.body.id, asked.body.id, 'Deny')).status, 204);
    const after = await elevate().request(
      'GET',
      `${BASE}/eligibilitySchedules?$filter=principalId eq '${user.id}'`,
      { as: user },
    );
    assert.equal(
      after.body.value[0].scheduleInfo.expiration.endDateTime,
      eligibility.scheduleInfo.expiration.endDateTime,
    );
  });

  it('refuses an extension outside the 14-day window with ExtensionWindowRule', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    await makeEligible(elevate(), user, group.id, { duration: 'P30D' });
    const end = new Date(elevate().clock.now().getTime() + 60 * DAY).toISOString();

    const asked = await submit(elevate(), 'eligibility', 'selfExtend', user, group.id, {
      as: user,
      end,
    });
    assert.equal(asked.status, 400);
    assert.match(asked.body.error.message, /ExtensionWindowRule/);
  });

  it('renews an assignment that ended up to 30 days ago with approval, not later', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    const pra = await elevate().createAdmin();
    const late = await elevate().createUser();
    await makeEligible(elevate(), user, group.id, { duration: 'P1D' });
    await makeEligible(elevate(), late, group.id, { duration: 'P1D' });
    elevate().clock.advance(20 * DAY);

    const asked = await submit(elevate(), 'eligibility', 'selfRenew', user, group.id, {
      as: user,
      duration: 'P30D',
    });
    assert.equal(asked.status, 201);
    assert.equal(asked.body.status, 'PendingAdminDecision');
    assert.equal((await activate(elevate(), user, group.id)).status, 400);
    assert.equal(
      (await decide(elevate(), pra, asked.body.id, asked.body.id, 'Approve')).status,
      204,
    );
    assert.equal((await activate(elevate(), user, group.id)).status, 201);

    elevate().clock.advance(15 * DAY);
    const tooLate = await submit(elevate(), 'eligibility', 'selfRenew', late, group.id, {
      as: late,
      duration: 'P30D',
    });
    assert.equal(tooLate.status, 400);
    assert.match(tooLate.body.error.message, /RenewalWindowRule/);
  });

  it('lets administrators extend and renew directly, with no approval', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    await submit(elevate(), 'assignment', 'adminAssign', user, group.id, { duration: 'P1D' });
    const end = new Date(elevate().clock.now().getTime() + 5 * DAY).toISOString();

    const extended = await submit(elevate(), 'assignment', 'adminExtend', user, group.id, { end });
    assert.equal(extended.status, 201);
    assert.equal(extended.body.status, 'Provisioned');
    elevate().clock.advance(3 * DAY);
    assert.ok((await membersOf(elevate(), group.id)).includes(user.id));
  });
});

describeEachDatabase('approval rule', (elevate) => {
  it('refuses an activation that no approver could decide, naming ApprovalRule', async () => {
    const carol = await elevate().createUser();
    const partner = await elevate().createUser();
    const group = await elevate().createGroup();
    await patchRule(elevate(), group.id, 'member', approvalRule([{ users: [carol.id] }]));
    await makeEligible(elevate(), partner, group.id);
    assert.equal((await elevate().request('DELETE', `/v1.0/users/${carol.id}`)).status, 204);

    const response = await activate(elevate(), partner, group.id);
    assert.equal(response.status, 400);
    assert.match(response.body.error.message, /ApprovalRule/);
  });
});
