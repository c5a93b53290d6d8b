import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { dueTimesOf } from '../../src/jobs/due.js';
import type { Sleeper } from '../../src/jobs/loop.js';
import { HOUR, MINUTE, SECOND } from '../support/clock.js';
import { describeEachDatabase, type TestElevate } from '../support/elevate.js';
import { activate, makeEligible, submit } from '../pim/support.js';
import {
  auditCount,
  createNotificationsTable,
  insertAssignments,
  RecordingNotifier,
  scheduleStatus,
} from './support.js';

/**
 * Stands in for the loop's timer: it records how long the loop asks to sleep, and the test says
 * when that sleep is over. No test waits for real time to pass.
 */
class ManualSleeper implements Sleeper {
  private ending: (() => void) | null = null;
  private watchers: ((ms: number) => void)[] = [];

  sleep(ms: number): Promise<void> {
    const watchers = this.watchers;
    this.watchers = [];
    for (const watcher of watchers) watcher(ms);
    return new Promise((resolve) => (this.ending = resolve));
  }

  interrupt(): void {
    const ending = this.ending;
    this.ending = null;
    ending?.();
  }

  /** The length of the next sleep the loop asks for. */
  nextSleep(): Promise<number> {
    return new Promise((resolve) => this.watchers.push(resolve));
  }

  /** Ends the current sleep, as its timer would. */
  ring(): void {
    this.interrupt();
  }
}

/** Passes this instance has run, as its metrics count them. */
async function passesRun(elevate: TestElevate): Promise<number> {
  const metric = elevate.app.metrics.registry.getSingleMetric('elevate_jobs_runs_total');
  const values = (await metric?.get())?.values ?? [];
  return values.reduce((sum, value) => sum + value.value, 0);
}

const sleeper = new ManualSleeper();
const notifier = new RecordingNotifier();
const EXPIRED = 'Remove member from role (PIM activation expired)';

describeEachDatabase(
  'the jobs loop',
  (elevate) => {
    before(async () => {
      await createNotificationsTable(elevate().database.db);
    });

    it('sleeps until the next due item, wakes on a write, and runs the pass once due', async () => {
      const group = await elevate().createGroup();
      const user = await elevate().createUser();
      await makeEligible(elevate(), user, group.id, { duration: 'P90D' });

      // The next thing due is the eligibility's 14-day reminder, weeks away: the longest sleep.
      let asked = sleeper.nextSleep();
      elevate().app.jobs.start();
      assert.equal(await asked, MINUTE);

      // An activation that ends in 30 seconds tells the loop so, which now sleeps just that long,
      // at once, without a pass or a look: nothing is due yet.
      const passes = await passesRun(elevate());
      asked = sleeper.nextSleep();
      const activated = await activate(elevate(), user, group.id, { duration: 'PT30S' });
      assert.equal(activated.status, 201);
      assert.equal(await asked, 30 * SECOND);
      assert.equal(await passesRun(elevate()), passes);

      elevate().clock.advance(30 * SECOND);
      asked = sleeper.nextSleep();
      sleeper.ring();
      assert.equal(await asked, MINUTE);
      const db = elevate().database.db;
      assert.equal(await scheduleStatus(db, activated.body.targetScheduleId as string), 'Expired');
      assert.equal(await auditCount(db, EXPIRED, activated.body.id as string), 1);

      await elevate().app.jobs.stop();
      assert.equal(elevate().app.jobs.isRunning, false);
    });

    it('reads the database once for a burst of writes not saying what they made due', async () => {
      const group = await elevate().createGroup();
      const users = [await elevate().createUser(), await elevate().createUser()];
      for (const user of users) {
        await submit(elevate(), 'assignment', 'adminAssign', user, group.id, { duration: 'P30D' });
      }

      let asked = sleeper.nextSleep();
      elevate().app.jobs.start();
      assert.equal(await asked, MINUTE);

      // Shortening an assignment changes a due time in place, which the write cannot tell the
      // loop. Right after a look, each such write shortens the sleep to the next look, a second
      // after the last one, and no more: a burst of writes costs one look.
      const updates = [];
      for (const user of users) {
        asked = sleeper.nextSleep();
        const updated = await submit(elevate(), 'assignment', 'adminUpdate', user, group.id, {
          duration: 'PT30S',
        });
        assert.equal(updated.status, 201);
        updates.push(updated);
        assert.equal(await asked, SECOND);
      }

      // That look finds the assignments, which now end 30 seconds after they were changed.
      elevate().clock.advance(SECOND);
      asked = sleeper.nextSleep();
      sleeper.ring();
      assert.equal(await asked, 29 * SECOND);

      elevate().clock.advance(29 * SECOND);
      asked = sleeper.nextSleep();
      sleeper.ring();
      assert.equal(await asked, MINUTE);
      const db = elevate().database.db;
      for (const updated of updates) {
        const scheduleId = updated.body.targetScheduleId as string;
        assert.equal(await scheduleStatus(db, scheduleId), 'Expired');
      }
      await elevate().app.jobs.stop();
    });

    it('wakes at a due time a write tells it, without looking at the database', async () => {
      const group = await elevate().createGroup();
      const user = await elevate().createUser();
      let asked = sleeper.nextSleep();
      elevate().app.jobs.start();
      assert.equal(await asked, MINUTE);

      // A schedule written by another instance ends in 10 seconds; this instance learns of it
      // only by looking, so a told time 20 seconds away is what it sleeps for.
      const now = elevate().clock.now().getTime();
      const [unseen] = await insertAssignments(elevate().database.db, {
        count: 1,
        groupId: group.id,
        principalIds: [user.id],
        start: new Date(now),
        end: new Date(now + 10 * SECOND),
      });
      // This instance's own write tells what it made due: an activation that ends in 20 seconds.
      const told = dueTimesOf({
        kind: 'assignment',
        assignment_type: 'activated',
        start_at: new Date(now).toISOString(),
        end_at: new Date(now + 20 * SECOND).toISOString(),
        modified_at: new Date(now).toISOString(),
      });
      assert.deepEqual(told, [new Date(now + 20 * SECOND)]);
      asked = sleeper.nextSleep();
      elevate().app.jobs.wake([...told, null]);
      assert.equal(await asked, 20 * SECOND);

      // A later time, or none at all, changes nothing.
      elevate().app.jobs.wake([new Date(now + 40 * SECOND)]);
      elevate().app.jobs.wake([]);

      // At the told time the pass runs, and its look afterwards finds nothing left.
      elevate().clock.advance(20 * SECOND);
      asked = sleeper.nextSleep();
      sleeper.ring();
      assert.equal(await asked, MINUTE);
      assert.equal(await scheduleStatus(elevate().database.db, unseen ?? ''), 'Expired');
      await elevate().app.jobs.stop();
    });

    it('retries a failed pass after a second, and carries on once it succeeds', async () => {
      const group = await elevate().createGroup();
      const user = await elevate().createUser();
      const assigned = await submit(elevate(), 'assignment', 'adminAssign', user, group.id, {
        duration: 'PT1H',
      });
      const scheduleId = assigned.body.targetScheduleId as string;
      elevate().clock.advance(HOUR);
      notifier.failOn(scheduleId);

      let asked = sleeper.nextSleep();
      elevate().app.jobs.start();
      assert.equal(await asked, SECOND);
      assert.equal(await scheduleStatus(elevate().database.db, scheduleId), 'Provisioned');

      asked = sleeper.nextSleep();
      sleeper.ring();
      assert.equal(await asked, MINUTE);
      assert.equal(await scheduleStatus(elevate().database.db, scheduleId), 'Expired');
      await elevate().app.jobs.stop();
    });

    it('stops between batches when asked, and the next pass finishes the work', async () => {
      const group = await elevate().createGroup();
      const made = [];
      for (let i = 0; i < 6; i += 1) {
        const user = await elevate().createUser();
        const assigned = await submit(elevate(), 'assignment', 'adminAssign', user, group.id, {
          duration: 'PT1H',
        });
        made.push(assigned.body.targetScheduleId as string);
      }
      elevate().clock.advance(HOUR);

      let batches = 0;
      const stopped = await elevate().app.jobs.runPass({
        batchSize: 2,
        onBatch: (kind) => {
          if (kind === 'expired') batches += 1;
        },
        shouldStop: () => batches >= 2,
      });
      assert.equal(stopped.completed, false);
      assert.equal(stopped.processed.expired, 4);
      const db = elevate().database.db;
      const statuses = await Promise.all(made.map((id) => scheduleStatus(db, id)));
      assert.equal(statuses.filter((s) => s === 'Expired').length, 4);

      const finished = await elevate().app.jobs.runPass();
      assert.equal(finished.completed, true);
      assert.equal(finished.processed.expired, 2);
    });
  },
  {},
  { notifier, jobsSleeper: sleeper },
);
