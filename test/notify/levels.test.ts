import assert from 'node:assert/strict';
import { after, beforeEach, it } from 'node:test';
import { describeEachDatabase, type TestElevate } from '../support/elevate.js';
import { activate, approvalRule, makeEligible, patchRule, submit } from '../pim/support.js';
import { deliver, MailCatcher, notificationRule } from './support.js';

const mail = await MailCatcher.start();
after(() => mail.close());

const ADMIN = 'admin@elevate.local';

/** A group whose policy exists, and nothing in the outbox yet. */
async function onboarded(elevate: TestElevate) {
  const group = await elevate.createGroup();
  const someone = await elevate.createUser();
  await makeEligible(elevate, someone, group.id);
  await deliver(elevate);
  mail.reset();
  return group;
}

async function setRule(
  elevate: TestElevate,
  groupId: string,
  id: string,
  level: 'None' | 'Critical' | 'All',
  options: { defaults?: boolean; recipients?: string[] } = {},
) {
  await patchRule(elevate, groupId, 'member', notificationRule(id, level, options));
  await deliver(elevate);
  mail.reset();
}

describeEachDatabase(
  'notification levels and recipients',
  (elevate) => {
    beforeEach(() => mail.reset());

    it("sends nothing for a rule at None, and the other rules' emails still", async () => {
      const group = await onboarded(elevate());
      await setRule(elevate(), group.id, 'Notification_Admin_Admin_Eligibility', 'None');
      const user = await elevate().createUser();

      await makeEligible(elevate(), user, group.id);
      await deliver(elevate());

      assert.deepEqual(mail.subjects(ADMIN), []);
      assert.equal(mail.subjects(user.upn).length, 1);
    });

    it('sends only what needs action or takes access away at Critical', async () => {
      const group = await onboarded(elevate());
      await setRule(elevate(), group.id, 'Notification_Requestor_Admin_Assignment', 'Critical');
      const user = await elevate().createUser({ name: 'lee' });

      await submit(elevate(), 'assignment', 'adminAssign', user, group.id, { duration: 'P10D' });
      await deliver(elevate());
      assert.deepEqual(mail.subjects(user.upn), [], 'being given access is not critical');
      assert.equal(mail.subjects(ADMIN).length, 1);

      mail.reset();
      await submit(elevate(), 'assignment', 'adminRemove', user, group.id);
      await deliver(elevate());
      assert.deepEqual(mail.subjects(user.upn), [
        `PIM: Your active assignment for Member of ${group.displayName} was removed`,
      ]);
    });

    it('still asks approvers at Critical, and tells the requester of nothing else', async () => {
      const group = await onboarded(elevate());
      const approver = await elevate().createUser();
      await patchRule(elevate(), group.id, 'member', approvalRule([{ users: [approver.id] }]));
      await setRule(elevate(), group.id, 'Notification_Approver_EndUser_Assignment', 'Critical');
      await setRule(elevate(), group.id, 'Notification_Requestor_EndUser_Assignment', 'Critical');
      const user = await elevate().createUser();
      await makeEligible(elevate(), user, group.id);
      await deliver(elevate());
      mail.reset();

      await activate(elevate(), user, group.id);
      await deliver(elevate());

      assert.equal(mail.subjects(approver.upn).length, 1);
      assert.match(mail.subjects(approver.upn)[0] ?? '', /needs your decision$/);
      assert.deepEqual(mail.subjects(user.upn), []);
    });

    it('sends only to the named recipients when default recipients are off', async () => {
      const group = await onboarded(elevate());
      await setRule(elevate(), group.id, 'Notification_Admin_EndUser_Assignment', 'All', {
        defaults: false,
        recipients: ['secops@example.com', 'SecOps@example.com'],
      });
      const user = await elevate().createUser({ name: 'max' });
      await makeEligible(elevate(), user, group.id);
      await deliver(elevate());
      mail.reset();

      await activate(elevate(), user, group.id);
      await deliver(elevate());

      assert.deepEqual(mail.subjects('secops@example.com'), [
        `PIM: max activated Member of ${group.displayName}`,
      ]);
      assert.equal(mail.inbox('secops@example.com')[0]?.recipients.length, 1, 'once per address');
      assert.deepEqual(mail.subjects(ADMIN), []);
      assert.equal(mail.subjects(user.upn).length, 1, "the requestor's own rule is unchanged");
    });

    it("lets an eligibility's level mute or widen its activations and add recipients", async () => {
      const group = await onboarded(elevate());
      await setRule(elevate(), group.id, 'Notification_Admin_EndUser_Assignment', 'None');
      const quiet = await elevate().createUser({ name: 'quiet' });
      const watched = await elevate().createUser({ name: 'watched' });
      await makeEligible(elevate(), quiet, group.id, {
        extra: { activationSettings: { notificationLevel: 'None' } },
      });
      await makeEligible(elevate(), watched, group.id, {
        extra: {
          activationSettings: {
            notificationLevel: 'All',
            additionalRecipients: ['lead@example.com'],
          },
        },
      });
      await deliver(elevate());
      mail.reset();

      await activate(elevate(), quiet, group.id);
      await deliver(elevate());
      assert.deepEqual(mail.accepted, [], 'None on the eligibility silences its activations');

      await activate(elevate(), watched, group.id);
      await deliver(elevate());
      const alert = `PIM: watched activated Member of ${group.displayName}`;
      assert.deepEqual(mail.subjects(ADMIN), [alert], 'All on the eligibility overrides None');
      assert.deepEqual(mail.subjects('lead@example.com'), [alert]);
      assert.deepEqual(mail.subjects(watched.upn), [
        `PIM: You activated Member of ${group.displayName}`,
      ]);
    });

    it('does not let an eligibility at None stop its approvers from being asked', async () => {
      const group = await onboarded(elevate());
      const approver = await elevate().createUser();
      await patchRule(elevate(), group.id, 'member', approvalRule([{ users: [approver.id] }]));
      const user = await elevate().createUser();
      await makeEligible(elevate(), user, group.id, {
        extra: { activationSettings: { notificationLevel: 'None' } },
      });
      await deliver(elevate());
      mail.reset();

      await activate(elevate(), user, group.id);
      await deliver(elevate());
      assert.equal(mail.subjects(approver.upn).length, 1);
      assert.deepEqual(mail.subjects(user.upn), []);
    });
  },
  { ELEVATE_SMTP_URL: mail.url },
);
