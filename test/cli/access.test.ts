import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RoleIds } from '../../src/directory/roles.js';
import {
  activate,
  approvalRule,
  ASSIGNMENT_REQUESTS,
  ELIGIBILITY_REQUESTS,
  enablementRule,
  makeEligible,
  membersOf,
  patchRule,
} from '../pim/support.js';
import { describeCli } from './support.js';

describeCli('elevate self-service: roles, activate, deactivate, requests', (context) => {
  it('activates several groups in one command, and deactivates one of them', async () => {
    const { elevate } = context();
    const user = await elevate.createUser();
    const exchange = await elevate.createGroup({ name: 'Exchange Ops' });
    const teams = await elevate.createGroup({ name: 'Teams Ops' });
    await makeEligible(elevate, user, exchange.id);
    await makeEligible(elevate, user, teams.id);
    const cli = await context().cli().signInAs(elevate, user);

    const outcomes = (await cli.json([
      'activate',
      'Exchange Ops',
      teams.id,
      '--for',
      '90m',
      '--reason',
      'Mailbox migration',
    ])) as { group: { id: string }; outcome: string; endDateTime: string }[];

    assert.deepEqual(
      outcomes.map((o) => [o.group.id, o.outcome]),
      [
        [exchange.id, 'active'],
        [teams.id, 'active'],
      ],
    );
    assert.equal(outcomes[0]?.endDateTime, '2026-06-01T10:30:00.000Z');
    assert.ok((await membersOf(elevate, exchange.id)).includes(user.id));
    assert.ok((await membersOf(elevate, teams.id)).includes(user.id));

    const deactivated = await cli.run(['deactivate', 'Exchange Ops']);

    assert.equal(deactivated.code, 0, deactivated.stderr);
    assert.match(deactivated.stdout, /no longer a member of Exchange Ops/);
    assert.ok(!(await membersOf(elevate, exchange.id)).includes(user.id));
    assert.ok((await membersOf(elevate, teams.id)).includes(user.id));
  });

  it('refuses by policy with exit 3, naming each failed rule and what to do about it', async () => {
    const { elevate } = context();
    const user = await elevate.createUser();
    const strict = await elevate.createGroup({ name: 'Strict Ops' });
    const relaxed = await elevate.createGroup({ name: 'Relaxed Ops' });
    await makeEligible(elevate, user, strict.id);
    await makeEligible(elevate, user, relaxed.id);
    await patchRule(
      elevate,
      strict.id,
      'member',
      enablementRule('Enablement_EndUser_Assignment', [
        'MultiFactorAuthentication',
        'Ticketing',
        'Justification',
      ]),
    );
    const cli = await context().cli().signInAs(elevate, user);

    const result = await cli.run([
      'activate',
      'Strict Ops',
      'Relaxed Ops',
      '--for',
      '1h',
      '--reason',
      'Patch night',
    ]);

    assert.equal(result.code, 3);
    assert.match(result.stdout, /Strict Ops +member +refused/);
    assert.match(result.stdout, /Relaxed Ops +member +active/);
    assert.match(result.stderr, /TicketingRule: A ticket number is required/);
    assert.match(result.stderr, /MfaRule: /);
    assert.match(result.stderr, /elevate login --otp CODE/);
    assert.ok(!(await membersOf(elevate, strict.id)).includes(user.id));
    assert.ok((await membersOf(elevate, relaxed.id)).includes(user.id));
  });

  it('answers unknown and ambiguous group names, and bad durations, as usage errors', async () => {
    const { elevate } = context();
    const user = await elevate.createUser();
    const first = await elevate.createGroup({ name: 'Twin Ops' });
    const second = await elevate.createGroup({ name: 'Twin Ops' });
    const cli = await context().cli().signInAs(elevate, user);

    const [unknown, ambiguous, duration, json] = await Promise.all([
      cli.run(['activate', 'No Such Ops', '--for', '1h', '--reason', 'x']),
      cli.run(['activate', 'twin ops', '--for', '1h', '--reason', 'x']),
      cli.run(['activate', 'Twin Ops', '--for', '2 hours', '--reason', 'x']),
      cli.run(['activate', 'No Such Ops', '--reason', 'x', '--json']),
    ]);

    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No group matches 'No Such Ops'[\s\S]*elevate groups list/);
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /'twin ops' names 2 groups; give the id instead/);
    assert.ok(ambiguous.stderr.includes(first.id) && ambiguous.stderr.includes(second.id));
    assert.equal(duration.code, 2);
    assert.match(duration.stderr, /'2 hours' is not a duration: write it like 90m, 2h/);
    assert.equal(json.code, 2);
    assert.equal(json.stdout, '');
    assert.deepEqual(JSON.parse(json.stderr).error, {
      code: 'UsageError',
      message: "No group matches 'No Such Ops'.",
      exitCode: 2,
      details: ['See the groups with: elevate groups list'],
    });
  });

  it('lists eligible and active assignments with the roles their groups hold', async () => {
    const { elevate } = context();
    const user = await elevate.createUser();
    // A Global Reader may read which roles a group holds; other users see that they may not.
    await elevate.assignRole(user.id, RoleIds.globalReader);
    const mail = await elevate.createGroup({ name: 'Mail Tier', roleAssignable: true });
    const search = await elevate.createGroup({ name: 'Search Tier', roleAssignable: true });
    await elevate.assignRole(mail.id, RoleIds.exchangeAdministrator);
    await makeEligible(elevate, user, mail.id, { duration: 'P30D' });
    await makeEligible(elevate, user, search.id);
    assert.equal((await activate(elevate, user, search.id)).status, 201);
    const cli = await context().cli().signInAs(elevate, user);

    const [json, human] = await Promise.all([cli.json(['roles']), cli.run(['roles'])]);

    const rows = json as { group: { displayName: string }; status: string; roles: unknown }[];
    assert.deepEqual(
      rows.map((row) => [row.group.displayName, row.status]),
      [
        ['Mail Tier', 'eligible'],
        ['Search Tier', 'active'],
        ['Search Tier', 'eligible'],
      ],
    );
    assert.deepEqual(rows[0]?.roles, [
      { id: RoleIds.exchangeAdministrator, displayName: 'Exchange Administrator' },
    ]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /GROUP +ACCESS +STATUS +UNTIL +ROLES/);
    assert.match(
      human.stdout,
      /Mail Tier +member +eligible +2026-07-01 09:00Z +Exchange Administrator/,
    );
    assert.match(human.stdout, /Search Tier +member +active +2026-06-01 11:00Z +-/);
  });

  it('lists my requests with pending ones first, and cancels one', async () => {
    const { elevate } = context();
    const user = await elevate.createUser();
    const approver = await elevate.createUser();
    const guarded = await elevate.createGroup({ name: 'Guarded Ops' });
    const open = await elevate.createGroup({ name: 'Open Ops' });
    await makeEligible(elevate, user, guarded.id);
    await makeEligible(elevate, user, open.id);
    await patchRule(elevate, guarded.id, 'member', approvalRule([{ users: [approver.id] }]));
    const pending = await activate(elevate, user, guarded.id);
    assert.equal(pending.body.status, 'PendingApproval');
    assert.equal((await activate(elevate, user, open.id)).status, 201);
    const cli = await context().cli().signInAs(elevate, user);

    const listed = (await cli.json(['requests'])) as { id: string; status: string }[];
    const canceled = await cli.run(['requests', 'cancel', pending.body.id]);

    assert.deepEqual(
      listed.map((r) => r.status),
      ['PendingApproval', 'Provisioned'],
    );
    assert.equal(listed[0]?.id, pending.body.id);
    assert.equal(canceled.code, 0, canceled.stderr);
    assert.match(canceled.stdout, /Canceled request/);
    const after = await elevate.request('GET', `${ASSIGNMENT_REQUESTS}/${pending.body.id}`);
    assert.equal(after.body.status, 'Canceled');
  });

  it('asks an administrator to extend an eligibility that ends soon', async () => {
    const { elevate } = context();
    const user = await elevate.createUser();
    const group = await elevate.createGroup({ name: 'Extend Ops' });
    await makeEligible(elevate, user, group.id, { duration: 'P10D' });
    const cli = await context().cli().signInAs(elevate, user);

    const result = await cli.run([
      'extend',
      'Extend Ops',
      '--eligible',
      '--until',
      '2026-07-01T00:00:00Z',
      '--reason',
      'Project runs on',
    ]);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Asked to extend your eligibility for member of Extend Ops/);
    assert.match(result.stdout, /An administrator decides/);
    const requests = await elevate.request(
      'GET',
      `${ELIGIBILITY_REQUESTS}?$filter=principalId eq '${user.id}' and action eq 'selfExtend'`,
    );
    assert.equal(requests.body.value.length, 1);
    assert.equal(requests.body.value[0].status, 'PendingAdminDecision');
    assert.equal(
      requests.body.value[0].scheduleInfo.expiration.endDateTime,
      '2026-07-01T00:00:00.000Z',
    );
  });
});

describeCli('elevate renew', (context) => {
  it('asks an administrator to renew an eligibility that ended recently', async () => {
    const { elevate } = context();
    const user = await elevate.createUser();
    const group = await elevate.createGroup({ name: 'Renew Ops' });
    const eligibility = await makeEligible(elevate, user, group.id, { duration: 'P10D' });
    // The eligibility ended ten days ago; moving its window is quicker than moving the clock,
    // which the other tests of this server share.
    const now = elevate.clock.now().getTime();
    await elevate.app.db.kysely
      .updateTable('pim_schedules')
      .set({
        start_at: new Date(now - 20 * 86_400_000).toISOString(),
        end_at: new Date(now - 10 * 86_400_000).toISOString(),
      })
      .where('id', '=', eligibility.targetScheduleId)
      .execute();
    const cli = await context().cli().signInAs(elevate, user);

    const result = await cli.run([
      'renew',
      'Renew Ops',
      '--eligible',
      '--for',
      '30d',
      '--reason',
      'Back on the project',
    ]);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /renew/i);
    const requests = await elevate.request(
      'GET',
      `${ELIGIBILITY_REQUESTS}?$filter=principalId eq '${user.id}' and action eq 'selfRenew'`,
    );
    assert.equal(requests.body.value.length, 1);
    assert.equal(requests.body.value[0].status, 'PendingAdminDecision');
  });
});
