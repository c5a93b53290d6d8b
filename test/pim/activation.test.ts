import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RoleIds } from '../../src/directory/roles.js';
import { HOUR, MINUTE, SECOND } from '../support/clock.js';
import { describeEachDatabase, type TestElevate } from '../support/elevate.js';
import {
  activate,
  deactivate,
  effectiveRoles,
  enablementRule,
  expirationRule,
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

async function tier3(elevate: TestElevate) {
  const group = await elevate.createGroup({ name: 'Tier 3 Office Admins', roleAssignable: true });
  for (const role of OFFICE_ROLES) await elevate.assignRole(group.id, role);
  return group;
}

describeEachDatabase('activation', (elevate) => {
  it('grants all four Tier 3 roles on activation and removes them on deactivation', async () => {
    const group = await tier3(elevate());
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id);
    assert.deepEqual(await effectiveRoles(elevate(), engineer), []);

    const activated = await activate(elevate(), engineer, group.id, { justification: 'on call' });
    assert.equal(activated.status, 201);
    assert.equal(activated.body.status, 'Provisioned');
    assert.equal(activated.body.action, 'selfActivate');
    assert.match(activated.body.targetScheduleId, new RegExp(`^${group.id}_member_`));
    assert.deepEqual(await effectiveRoles(elevate(), engineer), OFFICE_ROLES);
    assert.ok((await membersOf(elevate(), group.id)).includes(engineer.id));

    const ended = await deactivate(elevate(), engineer, group.id);
    assert.equal(ended.status, 201);
    assert.equal(ended.body.status, 'Revoked');
    assert.deepEqual(await effectiveRoles(elevate(), engineer), []);
    assert.ok(!(await membersOf(elevate(), group.id)).includes(engineer.id));
  });

  it("stops granting at the activation's end to the millisecond, with no job running", async () => {
    const group = await tier3(elevate());
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id);
    assert.equal((await activate(elevate(), engineer, group.id, { duration: 'PT1H' })).status, 201);

    elevate().clock.advance(HOUR - 1);
    assert.deepEqual(await effectiveRoles(elevate(), engineer), OFFICE_ROLES);
    elevate().clock.advance(1);
    assert.deepEqual(await effectiveRoles(elevate(), engineer), []);
    assert.ok(!(await membersOf(elevate(), group.id)).includes(engineer.id));
  });

  it('starts a future activation only at its start', async () => {
    const group = await tier3(elevate());
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id);
    const start = new Date(elevate().clock.now().getTime() + HOUR).toISOString();

    const response = await activate(elevate(), engineer, group.id, { start, duration: 'PT1H' });
    assert.equal(response.status, 201);
    assert.equal(response.body.scheduleInfo.startDateTime, start);
    assert.deepEqual(await effectiveRoles(elevate(), engineer), []);

    elevate().clock.advance(HOUR);
    assert.deepEqual(await effectiveRoles(elevate(), engineer), OFFICE_ROLES);
  });

  it('replaces a start in the past with now, so the window cannot be stretched', async () => {
    const group = await elevate().createGroup();
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id);
    const now = elevate().clock.now();
    const yesterday = new Date(now.getTime() - 24 * HOUR).toISOString();

    const response = await activate(elevate(), engineer, group.id, {
      start: yesterday,
      duration: 'PT8H',
    });
    assert.equal(response.status, 201);
    assert.equal(response.body.scheduleInfo.startDateTime, now.toISOString());
    assert.equal(
      response.body.scheduleInfo.expiration.endDateTime,
      new Date(now.getTime() + 8 * HOUR).toISOString(),
    );

    const stretched = await deactivate(elevate(), engineer, group.id);
    assert.equal(stretched.status, 201);
    const tooLong = await activate(elevate(), engineer, group.id, {
      start: yesterday,
      end: new Date(now.getTime() + 9 * HOUR).toISOString(),
    });
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.body.error.message, /ExpirationRule/);
  });

  it('takes the policy maximum when the activation names no end', async () => {
    const group = await elevate().createGroup();
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id);

    const response = await submit(elevate(), 'assignment', 'selfActivate', engineer, group.id, {
      as: engineer,
    });
    assert.equal(response.status, 201);
    assert.equal(response.body.scheduleInfo.expiration.duration, 'PT8H');
  });

  it('applies every policy change to the very next activation, whoever made it', async () => {
    const group = await elevate().createGroup();
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id);
    await patchRule(
      elevate(),
      group.id,
      'member',
      expirationRule('Expiration_EndUser_Assignment', 'PT1H'),
    );
    const tooLong = await activate(elevate(), engineer, group.id, { duration: 'PT2H' });
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.body.error.message, /at most PT1H/);

    // Changed again at the same instant by the same administrator: nothing but the rule differs.
    await patchRule(
      elevate(),
      group.id,
      'member',
      expirationRule('Expiration_EndUser_Assignment', 'PT90M'),
    );
    const stillTooLong = await activate(elevate(), engineer, group.id, { duration: 'PT2H' });
    assert.equal(stillTooLong.status, 400);
    assert.match(stillTooLong.body.error.message, /at most PT1H30M/);

    // Changed in the database alone, as another instance sharing it would leave it.
    await elevate()
      .app.db.kysely.updateTable('pim_policy_rules')
      .set({
        rule: JSON.stringify(expirationRule('Expiration_EndUser_Assignment', 'PT3H')),
      })
      .where('rule_id', '=', 'Expiration_EndUser_Assignment')
      .where('policy_id', 'in', (qb) =>
        qb.selectFrom('pim_policies').select('id').where('group_id', '=', group.id),
      )
      .execute();
    const allowed = await activate(elevate(), engineer, group.id, { duration: 'PT2H' });
    assert.equal(allowed.status, 201, JSON.stringify(allowed.body));
  });

  it('refuses an activation without an eligibility, naming EligibilityRule', async () => {
    const group = await elevate().createGroup();
    const stranger = await elevate().createUser();

    const response = await activate(elevate(), stranger, group.id);
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'RoleAssignmentRequestPolicyValidationFailed');
    assert.match(response.body.error.message, /EligibilityRule/);
    assert.deepEqual(await membersOf(elevate(), group.id), []);
  });

  it('refuses an activation that would outlast the eligibility', async () => {
    const group = await elevate().createGroup();
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id, { duration: 'PT1H' });

    const response = await activate(elevate(), engineer, group.id, { duration: 'PT2H' });
    assert.equal(response.status, 400);
    assert.match(response.body.error.message, /EligibilityRule/);
  });

  it('reports every failed rule at once', async () => {
    const group = await elevate().createGroup();
    await patchRule(
      elevate(),
      group.id,
      'member',
      enablementRule('Enablement_EndUser_Assignment', [
        'MultiFactorAuthentication',
        'Justification',
        'Ticketing',
      ]),
    );
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id);

    const response = await activate(elevate(), engineer, group.id, {
      justification: null,
      duration: 'PT9H',
    });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'RoleAssignmentRequestPolicyValidationFailed');
    for (const rule of ['ExpirationRule', 'JustificationRule', 'TicketingRule', 'MfaRule']) {
      assert.match(response.body.error.message, new RegExp(rule));
    }
    assert.deepEqual(await membersOf(elevate(), group.id), []);

    const fixed = await activate(elevate(), engineer, group.id, {
      duration: 'PT4H',
      ticket: 'INC-1',
      mfa: true,
    });
    assert.equal(fixed.status, 201);
    assert.equal(fixed.body.ticketInfo.ticketNumber, 'INC-1');
  });

  it('demands MFA when the eligibility asks for it, even if the policy does not', async () => {
    const group = await elevate().createGroup();
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id, {
      extra: { activationSettings: { isMfaRequired: true } },
    });

    const without = await activate(elevate(), engineer, group.id);
    assert.equal(without.status, 400);
    assert.match(without.body.error.message, /MfaRule/);

    const withMfa = await activate(elevate(), engineer, group.id, { mfa: true });
    assert.equal(withMfa.status, 201);
  });

  it('refuses durations that are zero, negative, enormous or malformed', async () => {
    const group = await elevate().createGroup();
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id);

    for (const duration of [
      'PT0S',
      'PT-1H',
      'P99999999D',
      'PT99999999999999999999H',
      'two hours',
      'P1M',
    ]) {
      const response = await activate(elevate(), engineer, group.id, { duration });
      assert.equal(response.status, 400, duration);
      assert.ok(response.body.error.code, duration);
    }
    assert.deepEqual(await membersOf(elevate(), group.id), []);
  });

  it('answers RoleAssignmentExists to a second activation while one is active', async () => {
    const group = await elevate().createGroup();
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id);
    assert.equal((await activate(elevate(), engineer, group.id)).status, 201);

    const second = await activate(elevate(), engineer, group.id);
    assert.equal(second.status, 400);
    assert.equal(second.body.error.code, 'RoleAssignmentExists');
  });

  it('answers RoleAssignmentDoesNotExist to a deactivation with nothing active', async () => {
    const group = await elevate().createGroup();
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id);

    const response = await deactivate(elevate(), engineer, group.id);
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'RoleAssignmentDoesNotExist');
  });

  it('refuses to activate for someone else', async () => {
    const group = await elevate().createGroup();
    const victim = await elevate().createUser();
    const attacker = await elevate().createUser();
    await makeEligible(elevate(), victim, group.id);

    const response = await activate(elevate(), victim, group.id, { as: attacker });
    assert.equal(response.status, 403);
    assert.equal(response.body.error.code, 'Authorization_RequestDenied');
    assert.deepEqual(await membersOf(elevate(), group.id), []);
  });

  it('refuses fields a client may not set, such as status or createdBy', async () => {
    const group = await elevate().createGroup();
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id);

    for (const extra of [
      { status: 'Provisioned' },
      { createdBy: { user: { id: elevate().admin.id } } },
      { approvalId: '00000000-0000-0000-0000-000000000000' },
      { id: '00000000-0000-0000-0000-000000000000' },
    ]) {
      const response = await activate(elevate(), engineer, group.id, { extra });
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'BadRequest');
    }
    assert.deepEqual(await membersOf(elevate(), group.id), []);
  });

  it('caps the justification and refuses one that is too long', async () => {
    const group = await elevate().createGroup();
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id);

    const response = await activate(elevate(), engineer, group.id, {
      justification: 'x'.repeat(501),
    });
    assert.equal(response.status, 400);
    assert.ok(!JSON.stringify(response.body).includes('x'.repeat(200)));
  });

  it('evaluates without changing anything when isValidationOnly is set', async () => {
    const group = await elevate().createGroup();
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id);

    const dryRun = await activate(elevate(), engineer, group.id, {
      extra: { isValidationOnly: true },
    });
    assert.equal(dryRun.status, 201);
    assert.equal(dryRun.body.isValidationOnly, true);
    assert.deepEqual(await membersOf(elevate(), group.id), []);

    const refused = await activate(elevate(), engineer, group.id, {
      justification: null,
      extra: { isValidationOnly: true },
    });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /JustificationRule/);
  });

  it('writes a PIM audit event with justification and ticket, and one for a refusal', async () => {
    const group = await elevate().createGroup();
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id);
    await activate(elevate(), engineer, group.id, {
      justification: 'incident 42',
      ticket: 'INC-42',
    });
    await activate(elevate(), engineer, group.id, { justification: 'again' });

    const events = await elevate()
      .app.db.kysely.selectFrom('audit_events')
      .selectAll()
      .where('initiator_id', '=', engineer.id)
      .where('logged_by_service', '=', 'PIM')
      .orderBy('activity_date_time')
      .execute();
    const completed = events.find(
      (e) => e.activity_display_name === 'Add member to role completed (PIM activation)',
    );
    assert.ok(completed);
    assert.equal(completed.result, 'success');
    assert.equal(completed.category, 'GroupManagement');
    assert.match(completed.additional_details, /incident 42/);
    assert.match(completed.additional_details, /INC-42/);
    const refused = events.find((e) => e.result === 'failure');
    assert.ok(refused);
    assert.match(refused.result_reason, /RoleAssignmentExists/);
  });

  it('ends an activation at once when its eligibility is removed', async () => {
    const group = await tier3(elevate());
    const engineer = await elevate().createUser();
    await makeEligible(elevate(), engineer, group.id);
    assert.equal((await activate(elevate(), engineer, group.id)).status, 201);

    const removed = await submit(elevate(), 'eligibility', 'adminRemove', engineer, group.id);
    assert.equal(removed.status, 201);
    assert.equal(removed.body.status, 'Revoked');
    assert.deepEqual(await effectiveRoles(elevate(), engineer), []);

    elevate().clock.advance(SECOND);
    const again = await activate(elevate(), engineer, group.id);
    assert.equal(again.status, 400);
    assert.match(again.body.error.message, /EligibilityRule/);
  });

  it('lets owners activate ownership, which makes them owners, not members', async () => {
    const group = await elevate().createGroup();
    const lead = await elevate().createUser();
    await makeEligible(elevate(), lead, group.id, { access: 'owner' });

    assert.equal((await activate(elevate(), lead, group.id, { access: 'owner' })).status, 201);
    assert.ok((await membersOf(elevate(), group.id, 'owners')).includes(lead.id));
    assert.ok(!(await membersOf(elevate(), group.id, 'members')).includes(lead.id));
    elevate().clock.advance(2 * HOUR + MINUTE);
    assert.ok(!(await membersOf(elevate(), group.id, 'owners')).includes(lead.id));
  });
});

describeEachDatabase('rate limits', (elevate) => {
  it('answers 429 in Graph shape to a caller flooding the request engine', async () => {
    const group = await elevate().createGroup();
    const flooder = await elevate().createUser();
    const bystander = await elevate().createUser();
    await makeEligible(elevate(), bystander, group.id);

    const statuses: number[] = [];
    for (let i = 0; i < 125; i++) {
      statuses.push((await activate(elevate(), flooder, group.id)).status);
    }
    assert.equal(statuses.filter((s) => s === 429).length, 5);
    const limited = await activate(elevate(), flooder, group.id);
    assert.equal(limited.body.error.code, 'TooManyRequests');

    // Another caller is not affected.
    assert.equal((await activate(elevate(), bystander, group.id)).status, 201);
  });
});
