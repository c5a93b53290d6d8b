import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import { RoleIds } from '../../src/directory/roles.js';
import type { NotificationEvent } from '../../src/notify/events.js';
import { OutboxNotifier } from '../../src/notify/notifier.js';
import { DAY } from '../support/clock.js';
import { describeEachDatabase, PUBLIC_URL, type TestElevate } from '../support/elevate.js';
import { makeEligible, patchRule, submit } from '../pim/support.js';
import { notificationRule } from './support.js';

/** A group with an owner of its own, holding `roles`. */
async function ownedGroup(elevate: TestElevate, name: string, roles: string[]) {
  const group = await elevate.createGroup({ name, roleAssignable: roles.length > 0 });
  for (const role of roles) await elevate.assignRole(group.id, role);
  const owner = await elevate.createUser({ name: `owner-of-${group.id.slice(0, 8)}` });
  const added = await elevate.request('POST', `/v1.0/groups/${group.id}/owners/$ref`, {
    body: { '@odata.id': `${PUBLIC_URL}/v1.0/directoryObjects/${owner.id}` },
  });
  assert.equal(added.status, 204);
  return { ...group, owner };
}

/**
 * Two groups with different owners, roles and policies, and 30-day schedules in both: five
 * eligibilities (two with their own recipients or level) and two assigned assignments.
 */
async function twoGroups(elevate: TestElevate) {
  const sales = await ownedGroup(elevate, 'Sales Admins', [
    RoleIds.exchangeAdministrator,
    RoleIds.teamsAdministrator,
  ]);
  const audit = await ownedGroup(elevate, 'Audit Readers', []);
  await patchRule(
    elevate,
    audit.id,
    'member',
    notificationRule('Notification_Admin_Admin_Eligibility', 'All', {
      defaults: false,
      recipients: ['audit-desk@example.com'],
    }),
  );
  await patchRule(
    elevate,
    audit.id,
    'member',
    notificationRule('Notification_Requestor_Admin_Assignment', 'Critical'),
  );

  const scheduleIds: string[] = [];
  const eligible = async (groupId: string, extra?: Record<string, unknown>) => {
    const user = await elevate.createUser();
    const made = await makeEligible(elevate, user, groupId, { duration: 'P30D', extra });
    scheduleIds.push(made.targetScheduleId as string);
  };
  const assigned = async (groupId: string) => {
    const user = await elevate.createUser();
    const made = await submit(elevate, 'assignment', 'adminAssign', user, groupId, {
      duration: 'P30D',
    });
    assert.equal(made.status, 201);
    scheduleIds.push(made.body.targetScheduleId as string);
  };
  await eligible(sales.id);
  await eligible(audit.id);
  await eligible(sales.id, {
    activationSettings: { additionalRecipients: ['lead@example.com'], notificationLevel: 'All' },
  });
  await eligible(audit.id);
  await eligible(sales.id, { activationSettings: { notificationLevel: 'None' } });
  await assigned(sales.id);
  await assigned(audit.id);
  return { sales, audit, scheduleIds };
}

/** The outbox rows about the schedules, without their random ids, in a fixed order. */
async function outboxOf(db: Kysely<Database>, scheduleIds: string[]) {
  const rows = await db
    .selectFrom('outbox_messages')
    .selectAll()
    .where('correlation_id', 'in', scheduleIds)
    .execute();
  return rows
    .map(({ id: _id, message_id: _messageId, ...rest }) => rest)
    .sort((a, b) =>
      `${a.correlation_id} ${a.template}` < `${b.correlation_id} ${b.template}` ? -1 : 1,
    );
}

/**
 * The outbox rows a notifier built like the app's writes for the events given one at a time,
 * in a transaction that is then undone: as `notify` did before events came in batches.
 */
async function oneAtATime(
  elevate: TestElevate,
  events: NotificationEvent[],
  scheduleIds: string[],
  change: (trx: Kysely<Database>) => Promise<void> = async () => {},
) {
  const notifier = new OutboxNotifier({
    clock: elevate.clock,
    access: elevate.app.services.access,
    publicUrl: PUBLIC_URL,
    domain: 'elevate.local',
  });
  let rows: Awaited<ReturnType<typeof outboxOf>> = [];
  const undo = new Error('undo');
  await assert.rejects(
    elevate.app.db.kysely.transaction().execute(async (trx) => {
      await change(trx);
      for (const event of events) await notifier.notify(trx, event);
      rows = await outboxOf(trx, scheduleIds);
      throw undo;
    }),
    (error) => error === undo,
  );
  return rows;
}

function addressesIn(rows: { to_addresses: string }[]): Set<string> {
  return new Set(rows.flatMap((row) => JSON.parse(row.to_addresses) as string[]));
}

describeEachDatabase('a jobs batch of many schedules', (elevate) => {
  it('emails the end of schedules in two groups exactly as one schedule at a time', async () => {
    const { sales, audit, scheduleIds } = await twoGroups(elevate());
    elevate().clock.advance(30 * DAY);

    const expected = await oneAtATime(
      elevate(),
      scheduleIds.map((scheduleId) => ({ type: 'assignmentEnded', scheduleId })),
      scheduleIds,
      async (trx) => {
        await trx
          .updateTable('pim_schedules')
          .set({ status: 'Expired' })
          .where('id', 'in', scheduleIds)
          .execute();
      },
    );
    const report = await elevate().app.jobs.runPass();
    assert.equal(report.processed.expired, scheduleIds.length);
    const batched = await outboxOf(elevate().app.db.kysely, scheduleIds);

    assert.deepEqual(batched, expected);
    // Each group's own owner, policy and extra recipients, and never the other group's.
    const salesRows = batched.filter((row) => row.text_body.includes('Sales Admins'));
    const auditRows = batched.filter((row) => row.text_body.includes('Audit Readers'));
    assert.equal(salesRows.length + auditRows.length, batched.length);
    assert.ok(addressesIn(salesRows).has(sales.owner.upn));
    assert.ok(addressesIn(salesRows).has('lead@example.com'));
    assert.ok(!addressesIn(salesRows).has(audit.owner.upn));
    assert.ok(addressesIn(auditRows).has('audit-desk@example.com'));
    assert.ok(addressesIn(auditRows).has(audit.owner.upn), 'assignments keep their defaults');
    assert.ok(!addressesIn(auditRows).has(sales.owner.upn));
    assert.ok(salesRows.some((row) => row.text_body.includes('Exchange Administrator')));
  });

  it('reminds of schedules in two groups exactly as one schedule at a time', async () => {
    const { sales, audit, scheduleIds } = await twoGroups(elevate());
    elevate().clock.advance(16 * DAY);

    const expected = await oneAtATime(
      elevate(),
      scheduleIds.map((scheduleId) => ({ type: 'assignmentEnding', scheduleId, daysLeft: 14 })),
      scheduleIds,
    );
    const report = await elevate().app.jobs.runPass();
    assert.equal(report.processed.ending14, scheduleIds.length);
    const batched = await outboxOf(elevate().app.db.kysely, scheduleIds);

    assert.deepEqual(batched, expected);
    assert.ok(batched.length > scheduleIds.length, 'principals and admins are both reminded');
    assert.ok(addressesIn(batched).has(sales.owner.upn));
    assert.ok(addressesIn(batched).has(audit.owner.upn));
  });
});
