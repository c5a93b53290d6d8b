import assert from 'node:assert/strict';
import { it } from 'node:test';
import { describeEachDatabase } from '../support/elevate.js';
import {
  ASSIGNMENT_REQUESTS,
  BASE,
  activate,
  approvalRule,
  makeEligible,
  membersOf,
  patchRule,
  submit,
} from './support.js';

// These requests really overlap: they are all in flight at once through the HTTP stack. On
// PostgreSQL they run on separate connections; on SQLite the single connection's write
// transactions exclude each other, which is exactly the guarantee under test.
const PARALLEL = 20;

describeEachDatabase('races', (elevate) => {
  it('yields exactly one activation of an eligibility activated many times at once', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    await makeEligible(elevate(), user, group.id);

    const responses = await Promise.all(
      Array.from({ length: PARALLEL }, () => activate(elevate(), user, group.id)),
    );
    const created = responses.filter((r) => r.status === 201);
    assert.equal(created.length, 1);
    for (const refused of responses.filter((r) => r.status !== 201)) {
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.code, 'RoleAssignmentExists');
    }

    const live = await elevate()
      .app.db.kysely.selectFrom('pim_schedules')
      .select('id')
      .where('principal_id', '=', user.id)
      .where('kind', '=', 'assignment')
      .where('status', '=', 'Provisioned')
      .execute();
    assert.equal(live.length, 1);
  });

  it('never leaves a membership without an eligibility when activation races removal', async () => {
    for (let round = 0; round < 5; round++) {
      const group = await elevate().createGroup();
      const user = await elevate().createUser();
      await makeEligible(elevate(), user, group.id);

      const [activation, removal] = await Promise.all([
        activate(elevate(), user, group.id),
        submit(elevate(), 'eligibility', 'adminRemove', user, group.id),
      ]);
      assert.equal(removal.status, 201);
      assert.ok([201, 400].includes(activation.status));
      // Whichever ran first, the removal ends every activation made from the eligibility.
      assert.deepEqual(await membersOf(elevate(), group.id), []);
    }
  });

  it('records exactly one decision when many approvers decide at the same moment', async () => {
    const approvers = await Promise.all(Array.from({ length: 5 }, () => elevate().createUser()));
    const partner = await elevate().createUser();
    const group = await elevate().createGroup();
    await patchRule(
      elevate(),
      group.id,
      'member',
      approvalRule([{ users: approvers.map((a) => a.id) }]),
    );
    await makeEligible(elevate(), partner, group.id);
    const waiting = await activate(elevate(), partner, group.id);
    const url = `${BASE}/assignmentApprovals/${waiting.body.id}/steps/${waiting.body.id}`;

    const responses = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        elevate().request('PATCH', url, {
          as: approvers[i % approvers.length]!,
          body: { reviewResult: i % 2 === 0 ? 'Approve' : 'Deny', justification: 'ok' },
        }),
      ),
    );
    assert.equal(responses.filter((r) => r.status === 204).length, 1);
    assert.ok(responses.filter((r) => r.status !== 204).every((r) => r.status === 409));

    const request = await elevate().request('GET', `${ASSIGNMENT_REQUESTS}/${waiting.body.id}`, {
      as: partner,
    });
    assert.ok(['Provisioned', 'Denied'].includes(request.body.status));
    const schedules = await elevate()
      .app.db.kysely.selectFrom('pim_schedules')
      .select('id')
      .where('principal_id', '=', partner.id)
      .where('kind', '=', 'assignment')
      .execute();
    assert.equal(schedules.length, request.body.status === 'Provisioned' ? 1 : 0);
    const decisions = await elevate()
      .app.db.kysely.selectFrom('audit_events')
      .select('activity_display_name')
      .where('activity_display_name', 'like', '%request approved%')
      .where(
        'correlation_id',
        'in',
        responses.map((r) => String(r.headers['request-id'])),
      )
      .execute();
    assert.equal(decisions.length, request.body.status === 'Provisioned' ? 1 : 0);
  });

  it('ends approve racing cancel in exactly one terminal state', async () => {
    for (let round = 0; round < 5; round++) {
      const carol = await elevate().createUser();
      const partner = await elevate().createUser();
      const group = await elevate().createGroup();
      await patchRule(elevate(), group.id, 'member', approvalRule([{ users: [carol.id] }]));
      await makeEligible(elevate(), partner, group.id);
      const waiting = await activate(elevate(), partner, group.id);

      const [approve, cancel] = await Promise.all([
        elevate().request(
          'PATCH',
          `${BASE}/assignmentApprovals/${waiting.body.id}/steps/${waiting.body.id}`,
          {
            as: carol,
            body: { reviewResult: 'Approve', justification: 'ok' },
          },
        ),
        elevate().request('POST', `${ASSIGNMENT_REQUESTS}/${waiting.body.id}/cancel`, {
          as: partner,
        }),
      ]);
      const statuses = [approve.status, cancel.status].sort();
      assert.deepEqual(statuses, [204, 409]);

      const request = await elevate().request('GET', `${ASSIGNMENT_REQUESTS}/${waiting.body.id}`, {
        as: partner,
      });
      const member = (await membersOf(elevate(), group.id)).includes(partner.id);
      if (approve.status === 204) {
        assert.equal(request.body.status, 'Provisioned');
        assert.ok(member);
      } else {
        assert.equal(request.body.status, 'Canceled');
        assert.ok(!member);
      }
    }
  });
});
