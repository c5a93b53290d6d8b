import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { DAY, HOUR, MINUTE } from '../support/clock.js';
import { describeEachDatabase, type TestElevate } from '../support/elevate.js';
import { membersOf, submit } from '../pim/support.js';
import {
  anotherInstance,
  auditCount,
  createNotificationsTable,
  insertAssignments,
  notificationsOf,
  RecordingNotifier,
  scheduleStatus,
} from './support.js';

const ASSIGNMENT_EXPIRED = 'Remove member from role in PIM completed (timebound)';

/** Assigned assignments of one group, one per new user, made through the API. */
async function assignMany(elevate: TestElevate, count: number, duration: string) {
  const group = await elevate.createGroup();
  const made = [];
  for (let i = 0; i < count; i += 1) {
    const user = await elevate.createUser();
    const response = await submit(elevate, 'assignment', 'adminAssign', user, group.id, {
      duration,
    });
    assert.equal(response.status, 201);
    made.push({
      user,
      requestId: response.body.id as string,
      scheduleId: response.body.targetScheduleId as string,
    });
  }
  return { group, made };
}

const crashing = new RecordingNotifier();

describeEachDatabase(
  'a pass that fails halfway',
  (elevate) => {
    before(async () => {
      await createNotificationsTable(elevate().database.db);
    });

    it('keeps batches before the failure, undoes the failed one, and redoes it once', async () => {
      const { made } = await assignMany(elevate(), 12, 'PT2H');
      const db = elevate().database.db;
      elevate().clock.advance(2 * HOUR);
      // All end together, so a pass takes them in the order of their ids.
      const ordered = [...made].sort((a, b) => (a.scheduleId < b.scheduleId ? -1 : 1));

      // Batches of 5: the first commits, the second fails at its third schedule.
      crashing.failOn(ordered[7]?.scheduleId ?? '');
      await assert.rejects(elevate().app.jobs.runPass({ batchSize: 5 }), /the notifier failed/);
      for (const [index, { scheduleId, requestId }] of ordered.entries()) {
        const committed = index < 5;
        assert.equal(await scheduleStatus(db, scheduleId), committed ? 'Expired' : 'Provisioned');
        assert.deepEqual(
          await notificationsOf(db, scheduleId),
          committed ? ['assignmentEnded'] : [],
        );
        assert.equal(await auditCount(db, ASSIGNMENT_EXPIRED, requestId), committed ? 1 : 0);
      }

      const report = await elevate().app.jobs.runPass({ batchSize: 5 });
      assert.equal(report.processed.expired, 7);
      assert.equal((await elevate().app.jobs.runPass()).processed.expired, 0);
      for (const { scheduleId, requestId } of ordered) {
        assert.equal(await scheduleStatus(db, scheduleId), 'Expired');
        assert.deepEqual(await notificationsOf(db, scheduleId), ['assignmentEnded']);
        assert.equal(await auditCount(db, ASSIGNMENT_EXPIRED, requestId), 1);
      }
    });
  },
  {},
  { notifier: crashing },
);

describeEachDatabase('downtime', (elevate) => {
  it('denies access at once after downtime, and a restarted instance catches up', async () => {
    const { group, made } = await assignMany(elevate(), 8, 'P1D');
    assert.equal((await membersOf(elevate(), group.id)).length, 8);
    const db = elevate().database.db;

    // Down for two days: nobody runs a pass, yet nobody keeps access either.
    elevate().clock.advance(2 * DAY);
    const restarted = await anotherInstance(elevate());
    try {
      const token = await elevate().tokenFor(elevate().admin);
      const members = await restarted.app.server.inject({
        method: 'GET',
        url: `/v1.0/groups/${group.id}/members`,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(members.statusCode, 200);
      assert.deepEqual(members.json<{ value: unknown[] }>().value, []);
      for (const { requestId } of made) {
        assert.equal(await auditCount(db, ASSIGNMENT_EXPIRED, requestId), 0);
      }

      const report = await restarted.app.jobs.runPass();
      assert.equal(report.processed.expired, 8);
    } finally {
      await restarted.close();
    }
    for (const { requestId, scheduleId } of made) {
      assert.equal(await auditCount(db, ASSIGNMENT_EXPIRED, requestId), 1);
      assert.equal(await scheduleStatus(db, scheduleId), 'Expired');
    }
  });
});

describeEachDatabase('catching up a large backlog', (elevate) => {
  it('works through 2 000 overdue schedules in batches while requests are answered', async () => {
    const group = await elevate().createGroup();
    const users = [await elevate().createUser(), await elevate().createUser()];
    const now = elevate().clock.now();
    const db = elevate().database.db;
    const ids = await insertAssignments(db, {
      count: 2000,
      groupId: group.id,
      principalIds: users.map((u) => u.id),
      start: now,
      end: new Date(now.getTime() + MINUTE),
    });
    assert.deepEqual((await membersOf(elevate(), group.id)).sort(), users.map((u) => u.id).sort());

    elevate().clock.advance(HOUR);
    assert.deepEqual(await membersOf(elevate(), group.id), []);
    const backlog = await elevate().app.jobs.backlog();
    assert.equal(backlog.count, 2000);
    assert.equal(backlog.oldestDueAt?.getTime(), now.getTime() + MINUTE);

    // Between two batches the server answers a read and a write; a pass holding one long
    // transaction would make both wait for it (on SQLite they share its connection).
    const answered: number[] = [];
    const expiredBatches: number[] = [];
    const report = await elevate().app.jobs.runPass({
      onBatch: async (kind, handled) => {
        if (kind !== 'expired' || handled === 0) return;
        expiredBatches.push(handled);
        answered.push((await elevate().request('GET', `/v1.0/groups/${group.id}/members`)).status);
        const name = `between${expiredBatches.length}`;
        const created = await elevate().request('POST', '/v1.0/users', {
          body: {
            displayName: name,
            userPrincipalName: `${name}@elevate.local`,
            accountEnabled: true,
          },
        });
        answered.push(created.status);
      },
    });

    assert.equal(report.processed.expired, 2000);
    assert.deepEqual(expiredBatches, [500, 500, 500, 500]);
    assert.deepEqual(answered, [200, 201, 200, 201, 200, 201, 200, 201]);
    assert.equal((await elevate().app.jobs.backlog()).count, 0);

    const expired = await db.kysely
      .selectFrom('pim_schedules')
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .where('id', 'in', ids)
      .where('status', '=', 'Expired')
      .executeTakeFirstOrThrow();
    assert.equal(Number(expired.count), 2000);
    const audited = await db.kysely
      .selectFrom('audit_events as e')
      .innerJoin('audit_targets as t', 't.audit_event_id', 'e.id')
      .select((eb) => [
        eb.fn.countAll<number | string>().as('events'),
        eb.fn.count<number | string>('t.target_id').distinct().as('requests'),
      ])
      .where('e.activity_display_name', '=', ASSIGNMENT_EXPIRED)
      .where('t.target_id', 'like', '%-%-%-%-%')
      .where('t.target_id', 'not in', [group.id, ...users.map((u) => u.id)])
      .executeTakeFirstOrThrow();
    assert.equal(Number(audited.events), 2000);
    assert.equal(Number(audited.requests), 2000);
  });
});
