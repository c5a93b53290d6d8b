import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { DAY, HOUR, MINUTE } from '../support/clock.js';
import { describeEachDatabase, type TestElevate } from '../support/elevate.js';
import type { Db } from '../../src/db/database.js';
import { ElevateProcess } from '../http/elevate-process.js';
import {
  anotherInstance,
  createNotificationsTable,
  insertAssignments,
  notificationCount,
  RecordingNotifier,
} from './support.js';

const EXPIRED = 'Remove member from role in PIM completed (timebound)';
const STARTED = 'Add member to role in PIM started (timebound)';

/** How many audit events of the activity name each request: one entry per request. */
async function auditsPerRequest(db: Db, activity: string, requestIds: string[]) {
  const rows = await db.kysely
    .selectFrom('audit_events as e')
    .innerJoin('audit_targets as t', 't.audit_event_id', 'e.id')
    .select(['t.target_id', (eb) => eb.fn.countAll<number | string>().as('count')])
    .where('e.activity_display_name', '=', activity)
    .where('t.target_id', 'in', requestIds)
    .groupBy('t.target_id')
    .execute();
  const counts = new Map(rows.map((r) => [r.target_id, Number(r.count)]));
  return requestIds.map((id) => counts.get(id) ?? 0);
}

async function requestIdsOf(db: Db, scheduleIds: string[]): Promise<string[]> {
  const rows = await db.kysely
    .selectFrom('pim_schedules')
    .select('created_using')
    .where('id', 'in', scheduleIds)
    .execute();
  return rows.map((r) => r.created_using);
}

async function markCount(db: Db, kind: string): Promise<number> {
  const row = await db.kysely
    .selectFrom('job_marks')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('kind', '=', kind)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * Due work of every kind, as of `now`: schedules that ended, schedules that started later than
 * they were written, and eligibilities whose 1-day reminder is due.
 */
async function dueWork(elevate: TestElevate, now: number, count: number) {
  const db = elevate.database.db;
  const group = await elevate.createGroup();
  const users = [await elevate.createUser(), await elevate.createUser()];
  const principalIds = users.map((u) => u.id);
  const ended = await insertAssignments(db, {
    count,
    groupId: group.id,
    principalIds,
    start: new Date(now - 2 * HOUR),
    end: new Date(now - MINUTE),
  });
  const starting = await insertAssignments(db, {
    count: count / 4,
    groupId: group.id,
    principalIds,
    start: new Date(now - MINUTE),
    end: new Date(now + DAY * 3),
  });
  // Written an hour before they start.
  await db.kysely
    .updateTable('pim_schedules')
    .set({ modified_at: new Date(now - HOUR).toISOString() })
    .where('id', 'in', starting)
    .execute();
  const ending = await insertAssignments(db, {
    count: count / 4,
    groupId: group.id,
    principalIds,
    kind: 'eligibility',
    start: new Date(now - 10 * DAY),
    end: new Date(now + 12 * HOUR),
  });
  return { ended, starting, ending };
}

const notifier = new RecordingNotifier();

describeEachDatabase(
  'two instances on one database',
  (elevate, target) => {
    before(async () => {
      await createNotificationsTable(elevate().database.db);
    });

    if (target.name === 'postgres') {
      // SQLite in one process cannot run two writers at once (the second would wait for a lock
      // held by a transaction that cannot progress while it waits), so SQLite races processes.
      it('shares the due work between two racing instances, each item done once', async () => {
        const db = elevate().database.db;
        const now = elevate().clock.now().getTime();
        const { ended, starting, ending } = await dueWork(elevate(), now, 400);
        const second = await anotherInstance(elevate(), notifier);
        try {
          const [a, b] = await Promise.all([
            elevate().app.jobs.runPass({ batchSize: 25 }),
            second.app.jobs.runPass({ batchSize: 25 }),
          ]);

          assert.equal(a.processed.expired + b.processed.expired, ended.length);
          assert.equal(a.processed.started + b.processed.started, starting.length);
          assert.equal(a.processed.ending1 + b.processed.ending1, ending.length);
        } finally {
          await second.close();
        }

        const once = (counts: number[]) => counts.every((c) => c === 1);
        assert.ok(once(await auditsPerRequest(db, EXPIRED, await requestIdsOf(db, ended))));
        assert.ok(once(await auditsPerRequest(db, STARTED, await requestIdsOf(db, starting))));
        assert.equal(await notificationCount(db, 'assignmentEnded'), ended.length);
        assert.equal(await notificationCount(db, 'assignmentEnding'), ending.length);
      });
    }
  },
  {},
  { notifier },
);

describeEachDatabase('two `elevate jobs run` processes on one database', (elevate) => {
  it('shares the due work between the processes, each item done once', async () => {
    const { database } = elevate();
    const db = database.db;
    // The processes run on the system clock; the work is due by that clock.
    const { ended, starting, ending } = await dueWork(elevate(), Date.now(), 200);
    const marksBefore = await markCount(db, 'ending1');

    const url = database.schema
      ? `${database.url}?options=${encodeURIComponent(`-c search_path=${database.schema}`)}`
      : database.url;
    const env = { ELEVATE_DATABASE_URL: url, ELEVATE_ADMIN_PASSWORD: 'not used here at all' };
    const processes = [
      ElevateProcess.start(['jobs', 'run'], env),
      ElevateProcess.start(['jobs', 'run'], env),
    ];
    const exits = await Promise.all(processes.map((p) => p.exit(60_000)));

    assert.deepEqual(
      exits.map((e) => e.code),
      [0, 0],
      processes.map((p) => p.stderr).join('\n'),
    );
    const handled = processes.map((p) => Number(/Handled (\d+)/.exec(p.stdout)?.[1] ?? NaN));
    assert.equal(handled[0]! + handled[1]!, ended.length + starting.length + ending.length);
    const once = (counts: number[]) => counts.every((c) => c === 1);
    assert.ok(once(await auditsPerRequest(db, EXPIRED, await requestIdsOf(db, ended))));
    assert.ok(once(await auditsPerRequest(db, STARTED, await requestIdsOf(db, starting))));
    assert.equal((await markCount(db, 'ending1')) - marksBefore, ending.length);
  });
});
