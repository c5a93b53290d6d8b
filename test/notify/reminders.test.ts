import assert from 'node:assert/strict';
import { after, beforeEach, it } from 'node:test';
import { DAY } from '../support/clock.js';
import { describeEachDatabase, type TestElevate } from '../support/elevate.js';
import { makeEligible, patchRule, submit } from '../pim/support.js';
import { deliver, MailCatcher, notificationRule } from './support.js';

const mail = await MailCatcher.start();
after(() => mail.close());

const ADMIN = 'admin@elevate.local';

/** Moves the clock, lets the jobs loop do what is due, and delivers the emails it wrote. */
async function at(elevate: TestElevate, time: number) {
  elevate.clock.set(new Date(time).toISOString());
  await elevate.app.jobs.runPass();
  await deliver(elevate);
}

describeEachDatabase(
  'reminders before and after an assignment ends',
  (elevate) => {
    beforeEach(() => mail.reset());

    it('reminds principal, admins and extra recipients at 14 days, 1 day and the end', async () => {
      const group = await elevate().createGroup({ name: 'Finance Admins' });
      const user = await elevate().createUser({ name: 'nina' });
      const end = elevate().clock.now().getTime() + 30 * DAY;
      await makeEligible(elevate(), user, group.id, {
        duration: 'P30D',
        extra: { activationSettings: { additionalRecipients: ['lead@example.com'] } },
      });
      await deliver(elevate());
      mail.reset();

      await at(elevate(), end - 14 * DAY);
      const ending14 = 'eligible assignment for Member of Finance Admins ends in 14 days';
      assert.deepEqual(mail.subjects(user.upn), [`PIM: Your ${ending14}`]);
      assert.deepEqual(mail.subjects(ADMIN), [`PIM: nina's ${ending14}`]);
      assert.deepEqual(mail.subjects('lead@example.com'), [`PIM: nina's ${ending14}`]);
      assert.match(mail.inbox(user.upn)[0]?.text ?? '', /Ask to extend it/);

      mail.reset();
      await at(elevate(), end - DAY);
      assert.deepEqual(mail.subjects(user.upn), [
        'PIM: Your eligible assignment for Member of Finance Admins ends in 1 day',
      ]);

      mail.reset();
      await at(elevate(), end);
      assert.deepEqual(mail.subjects(user.upn), [
        'PIM: Your eligible assignment for Member of Finance Admins has ended',
      ]);
      assert.deepEqual(mail.subjects(ADMIN), [
        "PIM: nina's eligible assignment for Member of Finance Admins has ended",
      ]);
    });

    it('sends the principal only the 1-day reminder and the end at Critical', async () => {
      const group = await elevate().createGroup({ name: 'Payroll' });
      const user = await elevate().createUser({ name: 'omar' });
      const start = elevate().clock.now().getTime();
      await submit(elevate(), 'assignment', 'adminAssign', user, group.id, { duration: 'P20D' });
      await patchRule(
        elevate(),
        group.id,
        'member',
        notificationRule('Notification_Requestor_Admin_Assignment', 'Critical'),
      );
      await deliver(elevate());
      mail.reset();

      await at(elevate(), start + 6 * DAY);
      assert.deepEqual(mail.subjects(user.upn), []);
      assert.deepEqual(mail.subjects(ADMIN), [
        "PIM: omar's active assignment for Member of Payroll ends in 14 days",
      ]);

      await at(elevate(), start + 19 * DAY);
      await at(elevate(), start + 20 * DAY);
      assert.deepEqual(mail.subjects(user.upn), [
        'PIM: Your active assignment for Member of Payroll ends in 1 day',
        'PIM: Your active assignment for Member of Payroll has ended',
      ]);
    });
  },
  { ELEVATE_SMTP_URL: mail.url },
);
