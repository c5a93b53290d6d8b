import assert from 'node:assert/strict';
import { after, beforeEach, it } from 'node:test';
import { RoleIds } from '../../src/directory/roles.js';
import { DAY } from '../support/clock.js';
import { describeEachDatabase, PUBLIC_URL, type TestElevate } from '../support/elevate.js';
import {
  activate,
  approvalRule,
  BASE,
  deactivate,
  makeEligible,
  patchRule,
  submit,
} from '../pim/support.js';
import { decide, deliver, MailCatcher } from './support.js';

const mail = await MailCatcher.start();
after(() => mail.close());

const ADMIN = 'admin@elevate.local';

/** A time as emails write it: `2026-06-01 09:00 UTC`. */
function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A role-assignable group holding two roles, with an owner. */
async function tier3(elevate: TestElevate, name = 'Tier 3 Office Admins') {
  const group = await elevate.createGroup({ name, roleAssignable: true });
  await elevate.assignRole(group.id, RoleIds.exchangeAdministrator);
  await elevate.assignRole(group.id, RoleIds.teamsAdministrator);
  const owner = await elevate.createUser({ name: `owner-of-${group.id.slice(0, 8)}` });
  const added = await elevate.request('POST', `/v1.0/groups/${group.id}/owners/$ref`, {
    body: { '@odata.id': `${PUBLIC_URL}/v1.0/directoryObjects/${owner.id}` },
  });
  assert.equal(added.status, 204);
  return { ...group, owner };
}

async function addMember(elevate: TestElevate, groupId: string, userId: string) {
  const added = await elevate.request('POST', `/v1.0/groups/${groupId}/members/$ref`, {
    body: { '@odata.id': `${PUBLIC_URL}/v1.0/directoryObjects/${userId}` },
  });
  assert.equal(added.status, 204);
}

describeEachDatabase(
  'who is emailed about what',
  (elevate) => {
    beforeEach(() => mail.reset());

    it('tells the assignee and the admins when an admin makes someone eligible', async () => {
      const group = await tier3(elevate());
      const pra = await elevate().createAdmin();
      const bystander = await elevate().createUser();
      const engineer = await elevate().createUser({ name: 'alex', mail: 'alex@example.com' });
      await deliver(elevate());
      mail.reset();

      const now = elevate().clock.now().getTime();
      await makeEligible(elevate(), engineer, group.id, {
        justification: 'joins the on-call rota',
        ticket: 'CHG-42',
      });
      const report = await deliver(elevate());

      assert.equal(report.sent, 2);
      assert.deepEqual(mail.subjects('alex@example.com'), [
        'PIM: You are eligible for Member of Tier 3 Office Admins',
      ]);
      assert.deepEqual(mail.subjects(engineer.upn), [], 'mail is preferred to the principal name');
      for (const admin of [ADMIN, pra.upn, group.owner.upn]) {
        assert.deepEqual(mail.subjects(admin), [
          'PIM: alex made eligible for Member of Tier 3 Office Admins',
        ]);
      }
      assert.deepEqual(mail.subjects(bystander.upn), []);

      const [email] = mail.inbox('alex@example.com');
      assert.ok(email);
      assert.match(email.text, /Roles: +Exchange Administrator, Teams Administrator/);
      assert.match(email.text, /Justification: +joins the on-call rota/);
      assert.match(email.text, /Ticket: +Jira CHG-42/);
      assert.match(email.text, new RegExp(`Starts: +${utc(now)}`));
      assert.match(email.text, new RegExp(`Ends: +${utc(now + 90 * DAY)}`));
      assert.ok(email.text.includes(`${PUBLIC_URL}/#/my-roles`));
      assert.ok(email.html.includes('Exchange Administrator, Teams Administrator'));
      const [alert] = mail.inbox(ADMIN);
      assert.ok(alert?.text.includes(`${PUBLIC_URL}/#/groups/${group.id}`));
    });

    it('alerts the admins and tells the principal on activation and on deactivation', async () => {
      const group = await tier3(elevate());
      const alex = await elevate().createUser({ name: 'Alex.B' });
      await makeEligible(elevate(), alex, group.id);
      await deliver(elevate());
      mail.reset();

      assert.equal(
        (await activate(elevate(), alex, group.id, { justification: 'INC-7' })).status,
        201,
      );
      await deliver(elevate());

      assert.deepEqual(mail.subjects(ADMIN), [
        'PIM: Alex.B activated Member of Tier 3 Office Admins',
      ]);
      assert.deepEqual(mail.subjects(group.owner.upn), [
        'PIM: Alex.B activated Member of Tier 3 Office Admins',
      ]);
      assert.deepEqual(mail.subjects(alex.upn), [
        'PIM: You activated Member of Tier 3 Office Admins',
      ]);
      assert.match(mail.inbox(ADMIN)[0]?.text ?? '', /Justification: +INC-7/);

      mail.reset();
      assert.equal((await deactivate(elevate(), alex, group.id)).status, 201);
      await deliver(elevate());
      assert.deepEqual(mail.subjects(ADMIN), [
        'PIM: Alex.B deactivated Member of Tier 3 Office Admins',
      ]);
      assert.deepEqual(mail.subjects(alex.upn), [
        'PIM: You deactivated Member of Tier 3 Office Admins',
      ]);
    });

    it("asks carol to approve pat's activation, tells pat, then alerts the admins", async () => {
      const partners = await tier3(elevate(), 'Partners');
      const carol = await elevate().createUser({ name: 'carol', mail: 'carol@example.com' });
      const partner = await elevate().createUser({ name: 'pat', userType: 'Guest' });
      await patchRule(elevate(), partners.id, 'member', approvalRule([{ users: [carol.id] }]));
      await makeEligible(elevate(), partner, partners.id);
      await deliver(elevate());
      mail.reset();

      const asked = await activate(elevate(), partner, partners.id, {
        justification: 'quarter close',
      });
      assert.equal(asked.body.status, 'PendingApproval');
      await deliver(elevate());

      assert.deepEqual(mail.subjects('carol@example.com'), [
        'PIM: pat asks to activate Member of Partners: needs your decision',
      ]);
      const request = mail.inbox('carol@example.com')[0];
      assert.ok(request?.text.includes(`${PUBLIC_URL}/#/approvals/${asked.body.id}`));
      assert.ok(request?.html.includes(`href="${PUBLIC_URL}/#/approvals/${asked.body.id}"`));
      assert.match(request?.text ?? '', /Justification: +quarter close/);
      assert.deepEqual(mail.subjects(partner.upn), [
        'PIM: Your request to activate Member of Partners waits for approval',
      ]);
      assert.deepEqual(mail.subjects(ADMIN), [], 'nothing is active yet');

      mail.reset();
      const decided = await decide(elevate(), carol, asked.body.id, asked.body.id, 'Approve', 'ok');
      assert.equal(decided.status, 204);
      await deliver(elevate());

      assert.deepEqual(mail.subjects(partner.upn), [
        'PIM: Your request to activate Member of Partners was approved',
      ]);
      assert.match(mail.inbox(partner.upn)[0]?.text ?? '', /Decided by: +carol/);
      assert.deepEqual(mail.subjects(ADMIN), ['PIM: pat activated Member of Partners']);
      assert.deepEqual(mail.subjects(partners.owner.upn), [
        'PIM: pat activated Member of Partners',
      ]);
      assert.deepEqual(mail.subjects('carol@example.com'), []);
    });

    it('asks stage by stage; tells co-approvers the decision, the requester a denial', async () => {
      const group = await tier3(elevate());
      const approvers = await elevate().createGroup({ name: 'Approvers' });
      const dana = await elevate().createUser({ name: 'dana' });
      const erin = await elevate().createUser({ name: 'erin' });
      const frank = await elevate().createUser({ name: 'frank' });
      const user = await elevate().createUser({ name: 'gil' });
      await addMember(elevate(), approvers.id, erin.id);
      await addMember(elevate(), approvers.id, user.id);
      await patchRule(
        elevate(),
        group.id,
        'member',
        approvalRule([{ users: [dana.id], groups: [approvers.id] }, { users: [frank.id] }]),
      );
      await makeEligible(elevate(), user, group.id);
      await deliver(elevate());
      mail.reset();

      const asked = await activate(elevate(), user, group.id);
      await deliver(elevate());
      const needed =
        'PIM: gil asks to activate Member of Tier 3 Office Admins: needs your decision';
      assert.deepEqual(mail.subjects(dana.upn), [needed]);
      assert.deepEqual(mail.subjects(erin.upn), [needed]);
      assert.deepEqual(mail.subjects(frank.upn), [], 'the second stage does not wait yet');
      assert.ok(
        !mail.subjects(user.upn).includes(needed),
        'the requester, though in the approvers group, is never asked',
      );

      mail.reset();
      assert.equal(
        (await decide(elevate(), erin, asked.body.id, asked.body.id, 'Approve')).status,
        204,
      );
      await deliver(elevate());
      assert.deepEqual(mail.subjects(frank.upn), [needed]);
      assert.deepEqual(mail.subjects(dana.upn), [
        "PIM: gil's request to activate Member of Tier 3 Office Admins was approved by erin",
      ]);
      assert.deepEqual(mail.subjects(user.upn), [
        'PIM: Your request to activate Member of Tier 3 Office Admins waits for its next approver',
      ]);

      mail.reset();
      const stages = await elevate().request(
        'GET',
        `${BASE}/assignmentApprovals/${asked.body.id}`,
        {
          as: frank,
        },
      );
      const second = (stages.body.stages as { id: string; status: string }[]).find(
        (stage) => stage.status === 'InProgress',
      );
      assert.ok(second);
      assert.equal(
        (await decide(elevate(), frank, asked.body.id, second.id, 'Deny', 'no')).status,
        204,
      );
      await deliver(elevate());
      assert.deepEqual(mail.subjects(user.upn), [
        'PIM: Your request to activate Member of Tier 3 Office Admins was denied',
      ]);
      assert.match(mail.inbox(user.upn)[0]?.text ?? '', /Approver's reason: +no/);
      assert.deepEqual(mail.subjects(ADMIN), []);
    });

    it('tells the requester and waiting approvers of a canceled or expired request', async () => {
      const group = await tier3(elevate());
      const carol = await elevate().createUser({ name: 'carol.c' });
      const user = await elevate().createUser({ name: 'hana' });
      await patchRule(elevate(), group.id, 'member', approvalRule([{ users: [carol.id] }]));
      await makeEligible(elevate(), user, group.id);
      const asked = await activate(elevate(), user, group.id);
      await deliver(elevate());
      mail.reset();

      const canceled = await elevate().request(
        'POST',
        `${BASE}/assignmentScheduleRequests/${asked.body.id}/cancel`,
        { as: user },
      );
      assert.equal(canceled.status, 204);
      await deliver(elevate());
      assert.deepEqual(mail.subjects(user.upn), [
        'PIM: Your request to activate Member of Tier 3 Office Admins was canceled',
      ]);
      assert.deepEqual(mail.subjects(carol.upn), [
        'PIM: hana canceled the request to activate Member of Tier 3 Office Admins',
      ]);

      await activate(elevate(), user, group.id);
      await deliver(elevate());
      mail.reset();
      elevate().clock.advance(DAY);
      await elevate().app.services.approvals.expireDue();
      await deliver(elevate());
      assert.deepEqual(mail.subjects(user.upn), [
        'PIM: Your request to activate Member of Tier 3 Office Admins expired without a decision',
      ]);
      assert.deepEqual(mail.subjects(carol.upn), [
        "PIM: hana's request to activate Member of Tier 3 Office Admins expired without a decision",
      ]);
    });

    it('asks Global and Privileged Role Admins for an extension; tells the requester', async () => {
      const group = await tier3(elevate());
      const pra = await elevate().createAdmin();
      const user = await elevate().createUser({ name: 'ivan' });
      await makeEligible(elevate(), user, group.id, { duration: 'P10D' });
      await deliver(elevate());
      mail.reset();

      const end = new Date(elevate().clock.now().getTime() + 40 * DAY).toISOString();
      const asked = await submit(elevate(), 'eligibility', 'selfExtend', user, group.id, {
        as: user,
        end,
      });
      assert.equal(asked.body.status, 'PendingAdminDecision');
      await deliver(elevate());

      const needed =
        'PIM: ivan asks to extend the eligible assignment for Member of Tier 3 Office Admins: ' +
        'needs your decision';
      assert.deepEqual(mail.subjects(ADMIN), [needed]);
      assert.deepEqual(mail.subjects(pra.upn), [needed]);
      assert.deepEqual(mail.subjects(group.owner.upn), [], 'owners do not decide extensions');
      assert.deepEqual(mail.subjects(user.upn), [
        'PIM: Your request to extend the eligible assignment for Member of Tier 3 Office Admins ' +
          'waits for approval',
      ]);
      assert.match(
        mail.inbox(pra.upn)[0]?.text ?? '',
        new RegExp(`Ends: +${utc(Date.parse(end))}`),
      );

      mail.reset();
      assert.equal(
        (await decide(elevate(), pra, asked.body.id, asked.body.id, 'Approve')).status,
        204,
      );
      await deliver(elevate());
      assert.deepEqual(mail.subjects(user.upn), [
        'PIM: Your request to extend the eligible assignment for Member of Tier 3 Office Admins ' +
          'was approved',
      ]);
      assert.deepEqual(mail.subjects(group.owner.upn), [
        "PIM: ivan's eligible assignment for Member of Tier 3 Office Admins changed",
      ]);
    });

    it('tells the principal and the admins when an admin removes an assignment', async () => {
      const group = await tier3(elevate());
      const user = await elevate().createUser({ name: 'jo' });
      await submit(elevate(), 'assignment', 'adminAssign', user, group.id, { duration: 'P10D' });
      await deliver(elevate());
      assert.deepEqual(mail.subjects(user.upn), [
        'PIM: You were assigned Member of Tier 3 Office Admins',
      ]);
      mail.reset();

      const removed = await submit(elevate(), 'assignment', 'adminRemove', user, group.id, {
        justification: 'left the team',
      });
      assert.equal(removed.status, 201);
      await deliver(elevate());
      assert.deepEqual(mail.subjects(user.upn), [
        'PIM: Your active assignment for Member of Tier 3 Office Admins was removed',
      ]);
      assert.deepEqual(mail.subjects(ADMIN), [
        "PIM: jo's active assignment for Member of Tier 3 Office Admins was removed",
      ]);
    });

    it('emails nobody whose account is disabled', async () => {
      const group = await tier3(elevate());
      const user = await elevate().createUser({ name: 'kim' });
      const disabled = await elevate().request('PATCH', `/v1.0/users/${group.owner.id}`, {
        body: { accountEnabled: false },
      });
      assert.equal(disabled.status, 204);

      await makeEligible(elevate(), user, group.id);
      await deliver(elevate());
      assert.equal(mail.subjects(ADMIN).length, 1);
      assert.deepEqual(mail.subjects(group.owner.upn), []);
    });
  },
  { ELEVATE_SMTP_URL: mail.url },
);
