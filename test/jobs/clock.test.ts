import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { AccessService } from '../../src/directory/access.js';
import { SystemClock } from '../../src/shared/clock.js';
import { DAY, HOUR, MINUTE } from '../support/clock.js';
import { describeEachDatabase } from '../support/elevate.js';
import { activate, makeEligible, membersOf } from '../pim/support.js';
import {
  auditCount,
  createNotificationsTable,
  insertAssignments,
  notificationsOf,
  RecordingNotifier,
} from './support.js';

const T = Date.parse('2026-06-01T10:00:00.000Z');

describe('the system clock', () => {
  it('never goes back when the system time steps back, and follows it forward', (t) => {
    let wall = T;
    t.mock.method(Date, 'now', () => wall);
    const clock = new SystemClock();

    assert.equal(clock.now().getTime(), T);
    wall = T - HOUR;
    assert.equal(clock.now().getTime(), T);
    wall = T + 2 * HOUR;
    assert.equal(clock.now().getTime(), T + 2 * HOUR);
  });
});

const notifier = new RecordingNotifier();

describeEachDatabase(
  'time that jumps',
  (elevate) => {
    before(async () => {
      await createNotificationsTable(elevate().database.db);
    });

    it('keeps an ended assignment ended when the system time steps back', async (t) => {
      const group = await elevate().createGroup();
      const user = await elevate().createUser();
      await insertAssignments(elevate().database.db, {
        count: 1,
        groupId: group.id,
        principalIds: [user.id],
        start: new Date(T - DAY),
        end: new Date(T),
      });
      let wall = T - 1;
      t.mock.method(Date, 'now', () => wall);
      const access = new AccessService(elevate().database.db.kysely, new SystemClock());

      assert.deepEqual(await access.principalIdsOf(group.id, 'member'), [user.id]);
      wall = T;
      assert.deepEqual(await access.principalIdsOf(group.id, 'member'), []);
      // An NTP step back by an hour: the window would contain "now" again, the clock does not.
      wall = T - HOUR;
      assert.deepEqual(await access.principalIdsOf(group.id, 'member'), []);
    });

    it('lets the fake clock go back, but an expiry recorded by a pass stays', async () => {
      const group = await elevate().createGroup();
      const user = await elevate().createUser();
      await makeEligible(elevate(), user, group.id);
      const end = elevate().clock.now().getTime() + HOUR;
      assert.equal((await activate(elevate(), user, group.id, { duration: 'PT1H' })).status, 201);

      // The fake clock is a test device: set back before any pass, the window alone decides.
      elevate().clock.set(new Date(end).toISOString());
      assert.ok(!(await membersOf(elevate(), group.id)).includes(user.id));
      elevate().clock.set(new Date(end - MINUTE).toISOString());
      assert.ok((await membersOf(elevate(), group.id)).includes(user.id));

      // Once the pass has marked the activation Expired, no clock brings it back.
      elevate().clock.set(new Date(end).toISOString());
      await elevate().app.jobs.runPass();
      elevate().clock.set(new Date(end - MINUTE).toISOString());
      assert.ok(!(await membersOf(elevate(), group.id)).includes(user.id));
      elevate().clock.set(new Date(end).toISOString());
    });

    it('catches up after a forward jump, without reminders too late to help', async () => {
      const group = await elevate().createGroup();
      const user = await elevate().createUser();
      const eligible = await makeEligible(elevate(), user, group.id, { duration: 'P20D' });
      const activated = await activate(elevate(), user, group.id, { duration: 'PT2H' });
      assert.equal(activated.status, 201);
      assert.ok((await membersOf(elevate(), group.id)).includes(user.id));

      elevate().clock.advance(30 * DAY);
      assert.ok(!(await membersOf(elevate(), group.id)).includes(user.id));
      const report = await elevate().app.jobs.runPass();
      assert.ok(report.processed.expired >= 2);

      const db = elevate().database.db;
      const eligibilityExpired = 'Remove eligible member from role in PIM completed (timebound)';
      assert.equal(await auditCount(db, eligibilityExpired, eligible.id as string), 1);
      const activationExpired = 'Remove member from role (PIM activation expired)';
      assert.equal(await auditCount(db, activationExpired, activated.body.id as string), 1);
      // It ended during the jump: "ends in 14 days" or "in 1 day" would now be false.
      assert.deepEqual(await notificationsOf(db, eligible.targetScheduleId as string), [
        'assignmentEnded',
      ]);
    });
  },
  {},
  { notifier },
);
