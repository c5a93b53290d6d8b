import assert from 'node:assert/strict';
import { it } from 'node:test';
import { HOUR } from '../support/clock.js';
import { describeEachDatabase } from '../support/elevate.js';
import { ASSIGNMENT_REQUESTS, BASE, activate, makeEligible, submit } from './support.js';

describeEachDatabase('schedules, instances and request lists', (elevate) => {
  it('answers 400 to a list without a groupId or principalId filter', async () => {
    for (const path of [
      'assignmentScheduleRequests',
      'eligibilityScheduleRequests',
      'assignmentSchedules',
      'assignmentScheduleInstances',
      'eligibilitySchedules',
      'eligibilityScheduleInstances',
    ]) {
      const response = await elevate().request('GET', `${BASE}/${path}`);
      assert.equal(response.status, 400, path);
      assert.equal(response.body.error.code, 'BadRequest');
    }
  });

  it('lists requests by group and principal (E5) and instances of a group (E6)', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    const permanent = await elevate().createUser();
    await makeEligible(elevate(), user, group.id);
    await submit(elevate(), 'assignment', 'adminAssign', user, group.id, { duration: 'P30D' });
    await submit(elevate(), 'eligibility', 'adminAssign', permanent, group.id, { duration: 'P1D' });

    const requests = await elevate().request(
      'GET',
      `${ASSIGNMENT_REQUESTS}?$filter=groupId eq '${group.id}' and principalId eq '${user.id}'`,
    );
    assert.equal(requests.status, 200);
    assert.equal(requests.body.value.length, 1);
    assert.equal(requests.body.value[0].action, 'adminAssign');
    assert.match(requests.body['@odata.context'], /assignmentScheduleRequests$/);

    const instances = await elevate().request(
      'GET',
      `${BASE}/assignmentScheduleInstances?$filter=groupId eq '${group.id}'`,
    );
    assert.equal(instances.body.value.length, 1);
    const [instance] = instances.body.value;
    assert.equal(instance.assignmentType, 'assigned');
    assert.equal(instance.memberType, 'direct');
    assert.equal(instance.accessId, 'member');
    assert.match(instance.assignmentScheduleId, new RegExp(`^${group.id}_member_`));
  });

  it('shows a future activation in schedules but in instances only once it starts', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    await makeEligible(elevate(), user, group.id);
    const start = new Date(elevate().clock.now().getTime() + HOUR).toISOString();
    await activate(elevate(), user, group.id, { start });
    const filter = `?$filter=principalId eq '${user.id}'`;

    const schedules = await elevate().request('GET', `${BASE}/assignmentSchedules${filter}`, {
      as: user,
    });
    assert.equal(schedules.body.value.length, 1);
    assert.equal(schedules.body.value[0].assignmentType, 'activated');
    const before = await elevate().request('GET', `${BASE}/assignmentScheduleInstances${filter}`, {
      as: user,
    });
    assert.equal(before.body.value.length, 0);

    elevate().clock.advance(HOUR);
    const after = await elevate().request('GET', `${BASE}/assignmentScheduleInstances${filter}`, {
      as: user,
    });
    assert.equal(after.body.value.length, 1);
    assert.equal(after.body.value[0].startDateTime, start);
  });

  it("lists the caller's own eligibilities with $expand=group, and activatedUsing", async () => {
    const group = await elevate().createGroup({ name: 'Expandable' });
    const user = await elevate().createUser();
    const eligibility = await makeEligible(elevate(), user, group.id);
    await activate(elevate(), user, group.id);

    const mine = await elevate().request(
      'GET',
      `${BASE}/eligibilitySchedules/filterByCurrentUser(on='principal')?$expand=group,principal`,
      { as: user },
    );
    assert.equal(mine.status, 200);
    assert.equal(mine.body.value.length, 1);
    assert.equal(mine.body.value[0].group.displayName, 'Expandable');
    assert.equal(mine.body.value[0].principal.id, user.id);

    const instances = await elevate().request(
      'GET',
      `${BASE}/assignmentScheduleInstances/filterByCurrentUser(on='principal')` +
        '?$expand=activatedUsing',
      { as: user },
    );
    assert.equal(
      instances.body.value[0].activatedUsing.eligibilityScheduleId,
      eligibility.targetScheduleId,
    );
  });

  it('selects properties, pages with nextLink and counts', async () => {
    const group = await elevate().createGroup();
    for (let i = 0; i < 5; i++) {
      await makeEligible(elevate(), await elevate().createUser(), group.id);
    }

    const url =
      `${BASE}/eligibilitySchedules?$filter=groupId eq '${group.id}'` +
      '&$select=principalId&$top=2&$count=true';
    const first = await elevate().request('GET', url);
    assert.equal(first.status, 200);
    assert.equal(first.body['@odata.count'], 5);
    assert.deepEqual(Object.keys(first.body.value[0]).sort(), ['id', 'principalId']);

    const seen = [...first.body.value];
    let next: string | undefined = first.body['@odata.nextLink'];
    while (next) {
      const page = await elevate().request('GET', next.replace(/^https?:\/\/[^/]+/, ''));
      seen.push(...page.body.value);
      next = page.body['@odata.nextLink'];
    }
    assert.equal(new Set(seen.map((s) => s.principalId)).size, 5);
  });

  it('filters by status and by dates', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    await makeEligible(elevate(), user, group.id);
    const since = elevate().clock.now().toISOString();
    elevate().clock.advance(1000);
    await activate(elevate(), user, group.id);

    const response = await elevate().request(
      'GET',
      `${ASSIGNMENT_REQUESTS}?$filter=principalId eq '${user.id}' and ` +
        `status eq 'provisioned' and createdDateTime ge ${since}`,
      { as: user },
    );
    assert.equal(response.status, 200);
    assert.equal(response.body.value.length, 1);
    assert.equal(response.body.value[0].status, 'Provisioned');
  });

  it("keeps other people's assignments from a plain user", async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    const other = await elevate().createUser();
    await makeEligible(elevate(), other, group.id);

    const byGroup = await elevate().request(
      'GET',
      `${BASE}/eligibilitySchedules?$filter=groupId eq '${group.id}'`,
      { as: user },
    );
    assert.equal(byGroup.status, 403);
    const byOther = await elevate().request(
      'GET',
      `${BASE}/eligibilitySchedules?$filter=principalId eq '${other.id}'`,
      { as: user },
    );
    assert.equal(byOther.status, 403);
    const own = await elevate().request(
      'GET',
      `${BASE}/eligibilitySchedules?$filter=principalId eq '${user.id}' and ` +
        `groupId eq '${group.id}'`,
      { as: user },
    );
    assert.equal(own.status, 200);
    assert.equal(own.body.value.length, 0);
  });

  it('activates several groups in one $batch round trip', async () => {
    const groups = [
      await elevate().createGroup(),
      await elevate().createGroup(),
      await elevate().createGroup(),
    ];
    const user = await elevate().createUser();
    for (const group of groups.slice(0, 2)) await makeEligible(elevate(), user, group.id);

    const response = await elevate().request('POST', '/v1.0/$batch', {
      as: user,
      body: {
        requests: groups.map((group, i) => ({
          id: String(i + 1),
          method: 'POST',
          url: '/identityGovernance/privilegedAccess/group/assignmentScheduleRequests',
          headers: { 'Content-Type': 'application/json' },
          body: {
            accessId: 'member',
            principalId: user.id,
            groupId: group.id,
            action: 'selfActivate',
            justification: 'incident 7',
            scheduleInfo: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
          },
        })),
      },
    });
    assert.equal(response.status, 200);
    const byId = new Map(response.body.responses.map((r: { id: string }) => [r.id, r]));
    assert.equal((byId.get('1') as { status: number }).status, 201);
    assert.equal((byId.get('2') as { status: number }).status, 201);
    assert.equal(
      (byId.get('3') as { status: number; body: { error: { message: string } } }).status,
      400,
    );

    const tooMany = await elevate().request('POST', '/v1.0/$batch', {
      body: {
        requests: Array.from({ length: 21 }, (_, i) => ({
          id: String(i),
          method: 'GET',
          url: '/me',
        })),
      },
    });
    assert.equal(tooMany.status, 400);
    const unauthenticated = await elevate().request('POST', '/v1.0/$batch', {
      token: null,
      body: { requests: [{ id: '1', method: 'GET', url: '/me' }] },
    });
    assert.equal(unauthenticated.status, 401);
  });
});
