import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  ASSIGNMENT_REQUESTS,
  ELIGIBILITY_REQUESTS,
  makeEligible,
  membersOf,
} from '../pim/support.js';
import { describeCli } from './support.js';

describeCli('elevate policy and approvals', (context) => {
  it('an activation that needs approval waits until the approver approves it', async () => {
    const { elevate } = context();
    const carol = await elevate.createUser({ name: 'carol' });
    const partner = await elevate.createUser({ name: 'partner' });
    const group = await elevate.createGroup({ name: 'Partners' });
    await makeEligible(elevate, partner, group.id);
    const admin = await context().cli().signInAs(elevate, elevate.admin);
    const partnerCli = await context().cli().signInAs(elevate, partner);
    const carolCli = await context().cli().signInAs(elevate, carol);

    const policy = await admin.run(['policy', 'set', 'Partners', '--approvers', carol.upn]);
    assert.equal(policy.code, 0, policy.stderr);
    assert.match(policy.stdout, /Approval: +carol/);

    const [asked] = (await partnerCli.json([
      'activate',
      'Partners',
      '--for',
      '1h',
      '--reason',
      'Quarterly deploy',
      '--ticket',
      'CHG-7',
    ])) as { outcome: string; requestId: string }[];
    assert.equal(asked?.outcome, 'pendingApproval');
    assert.ok(!(await membersOf(elevate, group.id)).includes(partner.id));

    const [waiting, table] = await Promise.all([
      carolCli.json(['approvals']) as Promise<Record<string, unknown>[]>,
      carolCli.run(['approvals']),
    ]);
    assert.equal(waiting.length, 1);
    assert.equal(waiting[0]?.id, asked.requestId);
    assert.equal((waiting[0]?.requester as { id: string }).id, partner.id);
    assert.equal(waiting[0]?.justification, 'Quarterly deploy');
    assert.match(
      table.stdout,
      new RegExp(`${asked.requestId} +activation +${partner.upn} +Partners`),
    );
    assert.match(table.stdout, /Quarterly deploy +CHG-7/);

    const approved = await carolCli.run(['approve', asked.requestId, '--reason', 'ok']);

    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, new RegExp(`Approved: ${partner.upn} is now member of Partners`));
    assert.ok((await membersOf(elevate, group.id)).includes(partner.id));
    const request = await elevate.request('GET', `${ASSIGNMENT_REQUESTS}/${asked.requestId}`);
    assert.equal(request.body.status, 'Provisioned');
  });

  it('a denied activation grants nothing, and a stranger cannot decide (exit 3)', async () => {
    const { elevate } = context();
    const dave = await elevate.createUser({ name: 'dave' });
    const stranger = await elevate.createUser();
    const requester = await elevate.createUser();
    const group = await elevate.createGroup({ name: 'Vendors' });
    await makeEligible(elevate, requester, group.id);
    const admin = await context().cli().signInAs(elevate, elevate.admin);
    const daveCli = await context().cli().signInAs(elevate, dave);
    const strangerCli = await context().cli().signInAs(elevate, stranger);
    const requesterCli = await context().cli().signInAs(elevate, requester);
    assert.equal((await admin.run(['policy', 'set', 'Vendors', '--approvers', 'dave'])).code, 0);
    const [asked] = (await requesterCli.json([
      'activate',
      'Vendors',
      '--reason',
      'Vendor access',
    ])) as { requestId: string }[];
    assert.ok(asked);

    const refused = await strangerCli.run(['approve', asked.requestId, '--reason', 'why not']);
    const denied = await daveCli.run(['deny', asked.requestId, '--reason', 'Not this week']);

    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /does not exist/);
    assert.equal(denied.code, 0, denied.stderr);
    assert.match(denied.stdout, /Denied: .* does not get member of Vendors/);
    assert.ok(!(await membersOf(elevate, group.id)).includes(requester.id));
    const request = await elevate.request('GET', `${ASSIGNMENT_REQUESTS}/${asked.requestId}`);
    assert.equal(request.body.status, 'Denied');
  });

  it('an administrator approves an extension through the same queue', async () => {
    const { elevate } = context();
    const user = await elevate.createUser();
    const group = await elevate.createGroup({ name: 'Contractors' });
    await makeEligible(elevate, user, group.id, { duration: 'P7D' });
    const extension = await elevate.request('POST', ELIGIBILITY_REQUESTS, {
      as: user,
      body: {
        action: 'selfExtend',
        accessId: 'member',
        principalId: user.id,
        groupId: group.id,
        justification: 'Contract renewed',
        scheduleInfo: {
          expiration: { type: 'afterDateTime', endDateTime: '2026-08-01T00:00:00Z' },
        },
      },
    });
    assert.equal(extension.status, 201);
    const admin = await context().cli().signInAs(elevate, elevate.admin);

    const waiting = (await admin.json(['approvals'])) as { id: string; what: string }[];
    const approved = await admin.run(['approve', extension.body.id, '--reason', 'Signed']);

    assert.deepEqual(
      waiting.filter((w) => w.id === extension.body.id).map((w) => w.what),
      ['extend eligibility'],
    );
    assert.equal(approved.code, 0, approved.stderr);
    const schedules = await elevate.request(
      'GET',
      '/v1.0/identityGovernance/privilegedAccess/group/eligibilitySchedules' +
        `?$filter=principalId eq '${user.id}'`,
    );
    assert.equal(
      schedules.body.value[0].scheduleInfo.expiration.endDateTime,
      '2026-08-01T00:00:00.000Z',
    );
  });

  it('policy set changes the maximum and the requirements; policy show reflects them', async () => {
    const { elevate } = context();
    await elevate.createGroup({ name: 'Tier 3 Admins' });
    const admin = await context().cli().signInAs(elevate, elevate.admin);

    const set = await admin.run([
      'policy',
      'set',
      'Tier 3 Admins',
      '--max',
      '4h',
      '--require',
      'mfa,ticket',
    ]);
    const [shown, human] = await Promise.all([
      admin.json(['policy', 'show', 'Tier 3 Admins']),
      admin.run(['policy', 'show', 'Tier 3 Admins']),
    ]);

    assert.equal(set.code, 0, set.stderr);
    const policy = shown as {
      accessId: string;
      activation: { maximumDuration: string; requirements: string[]; approvalRequired: boolean };
      rules: { id: string; enabledRules?: string[] }[];
    };
    assert.equal(policy.accessId, 'member');
    assert.deepEqual(policy.activation, {
      maximumDuration: 'PT4H',
      requirements: ['mfa', 'ticket'],
      approvalRequired: false,
      approvalStages: [],
    });
    assert.deepEqual(
      policy.rules.find((rule) => rule.id === 'Enablement_EndUser_Assignment')?.enabledRules,
      ['MultiFactorAuthentication', 'Ticketing'],
    );
    assert.match(human.stdout, /Activation at most: +4h/);
    assert.match(human.stdout, /Activation requires: +mfa, ticket/);
    assert.match(human.stdout, /Approval: +not required/);
  });

  it('policy set refuses a bad requirement or no change at all as usage errors', async () => {
    const { elevate } = context();
    await elevate.createGroup({ name: 'Loose Ops' });
    const admin = await context().cli().signInAs(elevate, elevate.admin);

    const [badWord, nothing] = await Promise.all([
      admin.run(['policy', 'set', 'Loose Ops', '--require', 'mfa,retina']),
      admin.run(['policy', 'set', 'Loose Ops']),
    ]);

    assert.equal(badWord.code, 2);
    assert.match(
      badWord.stderr,
      /--require takes mfa, ticket, justification or none, not 'retina'/,
    );
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /Say what to change/);
  });
});
