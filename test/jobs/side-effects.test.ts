import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { DAY, HOUR, MINUTE } from '../support/clock.js';
import { describeEachDatabase, type TestElevate } from '../support/elevate.js';
import {
  activate,
  approvalRule,
  ASSIGNMENT_REQUESTS,
  BASE,
  makeEligible,
  membersOf,
  patchRule,
  submit,
} from '../pim/support.js';
import {
  auditCount,
  createNotificationsTable,
  notificationsOf,
  RecordingNotifier,
  scheduleStatus,
} from './support.js';

const ACTIVATION_EXPIRED = 'Remove member from role (PIM activation expired)';
const ACTIVATION_STARTED = 'Add member to role (PIM activation started)';
const ELIGIBILITY_EXPIRED = 'Remove eligible member from role in PIM completed (timebound)';
const ELIGIBILITY_STARTED = 'Add eligible member to role in PIM started (timebound)';
const ASSIGNMENT_EXPIRED = 'Remove member from role in PIM completed (timebound)';

const notifier = new RecordingNotifier();

/** Runs two passes, as two ticks of the loop would: the second must find nothing left to do. */
async function passTwice(elevate: TestElevate) {
  const first = await elevate.app.jobs.runPass();
  const second = await elevate.app.jobs.runPass();
  return { first, second };
}

function moveTo(elevate: TestElevate, at: number) {
  elevate.clock.set(new Date(at).toISOString());
}

describeEachDatabase(
  'side effects of time passing',
  (elevate) => {
    before(async () => {
      await createNotificationsTable(elevate().database.db);
    });

    it('marks an ended activation Expired with one audit event over repeated passes', async () => {
      const group = await elevate().createGroup();
      const user = await elevate().createUser();
      await makeEligible(elevate(), user, group.id);
      const activated = await activate(elevate(), user, group.id, { duration: 'PT1H' });
      const scheduleId = activated.body.targetScheduleId as string;
      const requestId = activated.body.id as string;

      elevate().clock.advance(HOUR - 1);
      await passTwice(elevate());
      assert.equal(await scheduleStatus(elevate().database.db, scheduleId), 'Provisioned');
      assert.equal(await auditCount(elevate().database.db, ACTIVATION_EXPIRED, requestId), 0);

      elevate().clock.advance(1);
      const { first, second } = await passTwice(elevate());
      assert.ok(first.processed.expired >= 1);
      assert.equal(second.processed.expired, 0);
      assert.equal(await scheduleStatus(elevate().database.db, scheduleId), 'Expired');
      assert.equal(await auditCount(elevate().database.db, ACTIVATION_EXPIRED, requestId), 1);
      assert.equal(await auditCount(elevate().database.db, ACTIVATION_EXPIRED, user.id), 1);
      // An activation lasts hours: it gets no reminders and no "ended" email.
      assert.deepEqual(await notificationsOf(elevate().database.db, scheduleId), []);
    });

    it("reminds 14 days and 1 day before an eligibility's end, and at it, once each", async () => {
      const group = await elevate().createGroup();
      const user = await elevate().createUser();
      const end = elevate().clock.now().getTime() + 30 * DAY;
      const eligible = await makeEligible(elevate(), user, group.id, { duration: 'P30D' });
      const scheduleId = eligible.targetScheduleId as string;
      const db = elevate().database.db;

      moveTo(elevate(), end - 14 * DAY - 1);
      await passTwice(elevate());
      assert.deepEqual(await notificationsOf(db, scheduleId), []);

      moveTo(elevate(), end - 14 * DAY);
      await passTwice(elevate());
      assert.deepEqual(await notificationsOf(db, scheduleId), ['assignmentEnding:14']);

      moveTo(elevate(), end - DAY);
      await passTwice(elevate());
      assert.deepEqual(await notificationsOf(db, scheduleId), [
        'assignmentEnding:1',
        'assignmentEnding:14',
      ]);

      moveTo(elevate(), end);
      await passTwice(elevate());
      assert.deepEqual(await notificationsOf(db, scheduleId), [
        'assignmentEnded',
        'assignmentEnding:1',
        'assignmentEnding:14',
      ]);
      assert.equal(await auditCount(db, ELIGIBILITY_EXPIRED, eligible.id as string), 1);
      assert.equal(await scheduleStatus(db, scheduleId), 'Expired');
    });

    it('sends only the 1-day reminder for an assignment shorter than 14 days', async () => {
      const group = await elevate().createGroup();
      const user = await elevate().createUser();
      const end = elevate().clock.now().getTime() + 10 * DAY;
      const assigned = await submit(elevate(), 'assignment', 'adminAssign', user, group.id, {
        duration: 'P10D',
      });
      assert.equal(assigned.status, 201);
      const scheduleId = assigned.body.targetScheduleId as string;

      await passTwice(elevate());
      moveTo(elevate(), end - DAY);
      await passTwice(elevate());
      assert.deepEqual(await notificationsOf(elevate().database.db, scheduleId), [
        'assignmentEnding:1',
      ]);

      moveTo(elevate(), end);
      await passTwice(elevate());
      assert.equal(
        await auditCount(elevate().database.db, ASSIGNMENT_EXPIRED, assigned.body.id as string),
        1,
      );
    });

    it('re-arms the reminders when an extension moves the end', async () => {
      const group = await elevate().createGroup();
      const user = await elevate().createUser();
      const start = elevate().clock.now().getTime();
      const assigned = await submit(elevate(), 'assignment', 'adminAssign', user, group.id, {
        duration: 'P20D',
      });
      const scheduleId = assigned.body.targetScheduleId as string;
      const db = elevate().database.db;

      moveTo(elevate(), start + 6 * DAY);
      await passTwice(elevate());
      assert.deepEqual(await notificationsOf(db, scheduleId), ['assignmentEnding:14']);

      const newEnd = start + 40 * DAY;
      const extended = await submit(elevate(), 'assignment', 'adminExtend', user, group.id, {
        end: new Date(newEnd).toISOString(),
      });
      assert.equal(extended.status, 201);

      moveTo(elevate(), start + 20 * DAY);
      await passTwice(elevate());
      assert.equal(await scheduleStatus(db, scheduleId), 'Provisioned');
      assert.deepEqual(await notificationsOf(db, scheduleId), ['assignmentEnding:14']);

      moveTo(elevate(), newEnd - 14 * DAY);
      await passTwice(elevate());
      moveTo(elevate(), newEnd - DAY);
      await passTwice(elevate());
      moveTo(elevate(), newEnd);
      await passTwice(elevate());
      assert.deepEqual(await notificationsOf(db, scheduleId), [
        'assignmentEnded',
        'assignmentEnding:1',
        'assignmentEnding:14',
        'assignmentEnding:14',
      ]);
    });

    it('renews an assignment the loop expired, and reminds again before its new end', async () => {
      const group = await elevate().createGroup();
      const user = await elevate().createUser();
      const start = elevate().clock.now().getTime();
      const assigned = await submit(elevate(), 'assignment', 'adminAssign', user, group.id, {
        duration: 'P20D',
      });
      const scheduleId = assigned.body.targetScheduleId as string;
      const db = elevate().database.db;
      for (const day of [6, 19, 20]) {
        moveTo(elevate(), start + day * DAY);
        await passTwice(elevate());
      }
      assert.equal(await scheduleStatus(db, scheduleId), 'Expired');

      moveTo(elevate(), start + 25 * DAY);
      const renewed = await submit(elevate(), 'assignment', 'adminRenew', user, group.id, {
        duration: 'P20D',
      });
      assert.equal(renewed.status, 201);
      assert.equal(renewed.body.targetScheduleId, scheduleId);
      assert.equal(await scheduleStatus(db, scheduleId), 'Provisioned');
      assert.ok((await membersOf(elevate(), group.id)).includes(user.id));

      moveTo(elevate(), start + 31 * DAY);
      await passTwice(elevate());
      assert.deepEqual(await notificationsOf(db, scheduleId), [
        'assignmentEnded',
        'assignmentEnding:1',
        'assignmentEnding:14',
        'assignmentEnding:14',
      ]);
      assert.equal(
        await auditCount(db, ASSIGNMENT_EXPIRED, assigned.body.id as string),
        1,
        'the renewal keeps the schedule, and its first expiry was recorded once',
      );
    });

    it('records once that a future activation and a future eligibility started', async () => {
      const group = await elevate().createGroup();
      const user = await elevate().createUser();
      const db = elevate().database.db;
      const eligibleFrom = elevate().clock.now().getTime() + 2 * DAY;
      const eligible = await makeEligible(elevate(), user, group.id, {
        start: new Date(eligibleFrom).toISOString(),
        duration: 'P30D',
      });

      moveTo(elevate(), eligibleFrom - 1);
      await passTwice(elevate());
      assert.equal(await auditCount(db, ELIGIBILITY_STARTED, eligible.id as string), 0);
      moveTo(elevate(), eligibleFrom);
      await passTwice(elevate());
      assert.equal(await auditCount(db, ELIGIBILITY_STARTED, eligible.id as string), 1);

      const activeFrom = elevate().clock.now().getTime() + HOUR;
      const activated = await activate(elevate(), user, group.id, {
        start: new Date(activeFrom).toISOString(),
        duration: 'PT1H',
      });
      assert.equal(activated.status, 201);
      const requestId = activated.body.id as string;
      moveTo(elevate(), activeFrom - 1);
      await passTwice(elevate());
      assert.equal(await auditCount(db, ACTIVATION_STARTED, requestId), 0);
      moveTo(elevate(), activeFrom);
      await passTwice(elevate());
      assert.equal(await auditCount(db, ACTIVATION_STARTED, requestId), 1);
      moveTo(elevate(), activeFrom + HOUR);
      await passTwice(elevate());
      assert.equal(await auditCount(db, ACTIVATION_STARTED, requestId), 1);
      assert.equal(await auditCount(db, ACTIVATION_EXPIRED, requestId), 1);

      // An activation that started immediately has its start in the request's own audit event.
      const now = await activate(elevate(), user, group.id, { duration: 'PT1H' });
      assert.equal(now.status, 201);
      await passTwice(elevate());
      assert.equal(await auditCount(db, ACTIVATION_STARTED, now.body.id as string), 0);
    });

    it('never starts a future activation whose eligibility was removed beforehand', async () => {
      const group = await elevate().createGroup();
      const user = await elevate().createUser();
      await makeEligible(elevate(), user, group.id);
      const from = elevate().clock.now().getTime() + HOUR;
      const activated = await activate(elevate(), user, group.id, {
        start: new Date(from).toISOString(),
        duration: 'PT1H',
      });
      assert.equal(activated.status, 201);
      const removed = await submit(elevate(), 'eligibility', 'adminRemove', user, group.id);
      assert.equal(removed.status, 201);

      moveTo(elevate(), from + MINUTE);
      await passTwice(elevate());
      assert.ok(!(await membersOf(elevate(), group.id)).includes(user.id));
      const db = elevate().database.db;
      assert.equal(await auditCount(db, ACTIVATION_STARTED, activated.body.id as string), 0);
      assert.equal(await scheduleStatus(db, activated.body.targetScheduleId as string), 'Revoked');
    });

    it('expires an approval: 409 to a late approver at once, Canceled after a pass', async () => {
      const group = await elevate().createGroup();
      const carol = await elevate().createUser();
      const partner = await elevate().createUser();
      await patchRule(elevate(), group.id, 'member', approvalRule([{ users: [carol.id] }]));
      await makeEligible(elevate(), partner, group.id);
      const asked = await activate(elevate(), partner, group.id);
      assert.equal(asked.status, 201);
      assert.equal(asked.body.status, 'PendingApproval');
      const requestId = asked.body.id as string;
      const approvals = `${BASE}/assignmentApprovals/${asked.body.approvalId as string}`;
      const stages = await elevate().request('GET', `${approvals}/stages`, { as: carol });
      const stageId = stages.body.value[0].id as string;

      elevate().clock.advance(DAY);
      const late = await elevate().request('PATCH', `${approvals}/stages/${stageId}`, {
        as: carol,
        body: { reviewResult: 'Approve', justification: 'fine' },
      });
      assert.equal(late.status, 409);

      await passTwice(elevate());
      const request = await elevate().request('GET', `${ASSIGNMENT_REQUESTS}/${requestId}`);
      assert.equal(request.body.status, 'Canceled');
      const after = await elevate().request('GET', `${approvals}/stages`);
      assert.equal(after.body.value[0].status, 'Expired');
      const db = elevate().database.db;
      assert.equal(await auditCount(db, 'PIM activation request expired', requestId), 1);
      assert.ok(!(await membersOf(elevate(), group.id)).includes(partner.id));
    });
  },
  {},
  { notifier },
);
