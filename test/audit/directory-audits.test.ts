import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RoleIds } from '../../src/directory/roles.js';
import { isGuid } from '../../src/shared/ids.js';
import { MINUTE } from '../support/clock.js';
import {
  describeEachDatabase,
  PUBLIC_URL,
  type Json,
  type TestElevate,
  type TestUser,
} from '../support/elevate.js';

const AUDITS = '/v1.0/auditLogs/directoryAudits';

/** Lists audit events matching `filter`, as `as` (the bootstrap admin by default). */
async function audits(elevate: TestElevate, filter: string, as?: TestUser): Promise<Json[]> {
  const response = await elevate.request(
    'GET',
    `${AUDITS}?$filter=${encodeURIComponent(filter)}`,
    as ? { as } : {},
  );
  assert.equal(response.status, 200, JSON.stringify(response.body));
  assert.equal(response.body['@odata.nextLink'], undefined);
  return response.body.value as Json[];
}

const activities = (events: Json[]) => events.map((event) => event.activityDisplayName);

describeEachDatabase('directory audits', (elevate) => {
  it('records a user created through the API, in the directoryAudit shape', async () => {
    const admin = elevate().admin;
    const at = elevate().clock.now().toISOString();
    const created = await elevate().request('POST', '/v1.0/users', {
      body: {
        displayName: 'Audited Person',
        userPrincipalName: 'audited.person@elevate.local',
        accountEnabled: true,
      },
    });
    assert.equal(created.status, 201);
    const userId = created.body.id as string;

    const [event, ...others] = await audits(
      elevate(),
      `targetResources/any(t: t/id eq '${userId}')`,
    );

    assert.deepEqual(others, []);
    assert.ok(isGuid(event.id));
    assert.deepEqual(event, {
      id: event.id,
      category: 'UserManagement',
      correlationId: created.headers['request-id'],
      result: 'success',
      resultReason: '',
      activityDisplayName: 'Add user',
      activityDateTime: at,
      loggedByService: 'Core Directory',
      operationType: 'Add',
      initiatedBy: {
        user: {
          id: admin.id,
          displayName: 'Administrator',
          userPrincipalName: admin.upn,
          ipAddress: '127.0.0.1',
        },
        app: null,
      },
      targetResources: [
        {
          id: userId,
          displayName: 'Audited Person',
          type: 'User',
          userPrincipalName: 'audited.person@elevate.local',
          modifiedProperties: [],
        },
      ],
      additionalDetails: [],
    });

    const single = await elevate().request('GET', `${AUDITS}/${event.id}`);
    assert.equal(single.status, 200);
    const { '@odata.context': context, ...body } = single.body;
    assert.equal(context, `${PUBLIC_URL}/v1.0/$metadata#auditLogs/directoryAudits/$entity`);
    assert.deepEqual(body, event);
  });

  it('records a group created through the API', async () => {
    const group = await elevate().createGroup({ name: 'Audited Group' });

    const events = await audits(elevate(), `targetResources/any(t: t/id eq '${group.id}')`);

    assert.equal(events.length, 1);
    assert.equal(events[0].category, 'GroupManagement');
    assert.equal(events[0].activityDisplayName, 'Add group');
    assert.equal(events[0].operationType, 'Add');
    assert.equal(events[0].initiatedBy.user.id, elevate().admin.id);
    assert.deepEqual(events[0].targetResources, [
      {
        id: group.id,
        displayName: 'Audited Group',
        type: 'Group',
        userPrincipalName: null,
        modifiedProperties: [],
      },
    ]);
  });

  it('records a role assignment with the role and the principal as targets', async () => {
    const user = await elevate().createUser();
    await elevate().assignRole(user.id, RoleIds.groupsAdministrator);

    const events = await audits(
      elevate(),
      `targetResources/any(t: t/id eq '${user.id}') and category eq 'RoleManagement'`,
    );

    assert.equal(events.length, 1);
    assert.equal(events[0].activityDisplayName, 'Add member to role');
    assert.equal(events[0].operationType, 'Assign');
    assert.equal(events[0].loggedByService, 'Core Directory');
    const targets = events[0].targetResources.map((t: Json) => [t.type, t.id]);
    assert.deepEqual(targets, [
      ['Role', RoleIds.groupsAdministrator],
      ['User', user.id],
    ]);
  });

  it('records a failed sign-in, initiated by no signed-in user', async () => {
    const user = await elevate().createUser({ password: 'a long enough password 5' });
    const attempt = await elevate().request('POST', '/oauth2/v2.0/token', {
      token: null,
      form: { grant_type: 'password', username: user.upn, password: 'not the password' },
    });
    assert.equal(attempt.status, 400);

    const events = await audits(
      elevate(),
      `targetResources/any(t: t/id eq '${user.id}') and result eq 'failure'`,
    );

    assert.equal(events.length, 1);
    const [event] = events;
    assert.equal(event.activityDisplayName, 'Sign-in failed');
    assert.equal(event.loggedByService, 'Authentication');
    assert.equal(event.resultReason, 'Invalid username or password');
    assert.equal(event.correlationId, attempt.headers['request-id']);
    assert.equal(event.initiatedBy.user, null);
    assert.equal(event.initiatedBy.app.displayName, 'Elevate');
    assert.deepEqual(event.additionalDetails, [{ key: 'ipAddress', value: '127.0.0.1' }]);
    assert.ok(!JSON.stringify(event).includes('not the password'));
  });

  it('records a PIM request with its justification, logged by PIM', async () => {
    const user = await elevate().createUser();
    const group = await elevate().createGroup();
    const response = await elevate().request(
      'POST',
      '/v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleRequests',
      {
        body: {
          accessId: 'member',
          principalId: user.id,
          groupId: group.id,
          action: 'adminAssign',
          scheduleInfo: {
            startDateTime: elevate().clock.now().toISOString(),
            expiration: { type: 'afterDuration', duration: 'P30D' },
          },
          justification: 'Quarterly access review',
        },
      },
    );
    assert.equal(response.status, 201, JSON.stringify(response.body));

    const events = await audits(
      elevate(),
      `loggedByService eq 'PIM' and targetResources/any(t: t/id eq '${group.id}')`,
    );

    // Both happened at the same moment, so their order is not defined.
    assert.deepEqual(activities(events).sort(), [
      'Add eligible member to role in PIM completed (timebound)',
      'Onboarded resource to PIM',
    ]);
    const request = events.find((event) => event.operationType === 'Assign');
    assert.equal(request.category, 'GroupManagement');
    assert.equal(request.result, 'success');
    assert.ok(
      request.additionalDetails.some(
        (detail: Json) =>
          detail.key === 'justification' && detail.value === 'Quarterly access review',
      ),
    );
    assert.ok(request.targetResources.some((t: Json) => t.id === user.id));
  });

  it('filters on each supported property, alone and combined with and', async () => {
    const actor = await elevate().createAdmin(RoleIds.privilegedRoleAdministrator);
    const by = `initiatedBy/user/id eq '${actor.id}'`;

    const t0 = elevate().clock.now().toISOString();
    const user = await elevate().request('POST', '/v1.0/users', {
      as: actor,
      body: { displayName: 'Filter Target', userPrincipalName: 'filter.target@elevate.local' },
    });
    assert.equal(user.status, 201);
    elevate().clock.advance(MINUTE);
    const t1 = elevate().clock.now().toISOString();
    const group = await elevate().request('POST', '/v1.0/groups', {
      as: actor,
      body: {
        displayName: 'Filter Group',
        mailNickname: 'filtergroup',
        securityEnabled: true,
        mailEnabled: false,
      },
    });
    assert.equal(group.status, 201);
    elevate().clock.advance(MINUTE);
    const t2 = elevate().clock.now().toISOString();
    const role = await elevate().request('POST', '/v1.0/roleManagement/directory/roleAssignments', {
      as: actor,
      body: {
        roleDefinitionId: RoleIds.globalReader,
        principalId: user.body.id,
        directoryScopeId: '/',
      },
    });
    assert.equal(role.status, 201);
    elevate().clock.advance(MINUTE);

    assert.deepEqual(activities(await audits(elevate(), by)), [
      'Add member to role',
      'Add group',
      'Add user',
    ]);
    assert.deepEqual(
      activities(await audits(elevate(), `${by} and category eq 'GroupManagement'`)),
      ['Add group'],
    );
    assert.deepEqual(
      activities(await audits(elevate(), `${by} and category eq 'rolemanagement'`)),
      ['Add member to role'],
    );
    assert.deepEqual(
      activities(await audits(elevate(), `${by} and activityDisplayName eq 'Add user'`)),
      ['Add user'],
    );
    assert.equal(
      (await audits(elevate(), `${by} and loggedByService eq 'Core Directory'`)).length,
      3,
    );
    assert.deepEqual(await audits(elevate(), `${by} and loggedByService eq 'PIM'`), []);
    assert.equal((await audits(elevate(), `${by} and result eq 'success'`)).length, 3);
    assert.deepEqual(await audits(elevate(), `${by} and result eq 'failure'`), []);

    const window = (condition: string) => audits(elevate(), `${by} and ${condition}`);
    assert.deepEqual(
      activities(await window(`activityDateTime ge ${t1} and activityDateTime le ${t1}`)),
      ['Add group'],
    );
    assert.deepEqual(activities(await window(`activityDateTime gt ${t1}`)), ['Add member to role']);
    assert.deepEqual(activities(await window(`activityDateTime lt ${t1}`)), ['Add user']);
    assert.deepEqual(activities(await window(`activityDateTime ge ${t2}`)), ['Add member to role']);
    assert.deepEqual(activities(await window(`activityDateTime le ${t0}`)), ['Add user']);

    const groupEvents = await audits(
      elevate(),
      `targetResources/any(t: t/id eq '${group.body.id}')`,
    );
    assert.deepEqual(activities(groupEvents), ['Add group']);
    const userEvents = await audits(elevate(), `targetResources/any(t: t/id eq '${user.body.id}')`);
    assert.deepEqual(activities(userEvents), ['Add member to role', 'Add user']);
  });

  it('pages newest first through @odata.nextLink to the last page', async () => {
    const actor = await elevate().createAdmin(RoleIds.globalAdministrator);
    for (let i = 0; i < 5; i++) {
      const created = await elevate().request('POST', '/v1.0/groups', {
        as: actor,
        body: {
          displayName: `Paged ${i}`,
          mailNickname: `paged${i}`,
          securityEnabled: true,
          mailEnabled: false,
        },
      });
      assert.equal(created.status, 201);
      elevate().clock.advance(MINUTE);
    }
    const filter = encodeURIComponent(`initiatedBy/user/id eq '${actor.id}'`);

    const seen: string[] = [];
    let url: string | undefined = `${AUDITS}?$filter=${filter}&$top=2`;
    let pages = 0;
    while (url) {
      const page: Json = await elevate().request('GET', url);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.ok(page.body.value.length <= 2);
      seen.push(...page.body.value.map((event: Json) => event.targetResources[0].displayName));
      const next = page.body['@odata.nextLink'] as string | undefined;
      if (next) assert.ok(next.startsWith(`${PUBLIC_URL}${AUDITS}?`), next);
      url = next?.slice(PUBLIC_URL.length);
      pages += 1;
    }

    assert.equal(pages, 3);
    assert.deepEqual(seen, ['Paged 4', 'Paged 3', 'Paged 2', 'Paged 1', 'Paged 0']);

    const oldest = await elevate().request(
      'GET',
      `${AUDITS}?$filter=${filter}&$orderby=activityDateTime asc&$top=1`,
    );
    assert.equal(oldest.body.value[0].targetResources[0].displayName, 'Paged 0');
  });

  it('keeps only the selected properties and the id', async () => {
    const group = await elevate().createGroup();
    const filter = encodeURIComponent(`targetResources/any(t: t/id eq '${group.id}')`);

    const response = await elevate().request(
      'GET',
      `${AUDITS}?$filter=${filter}&$select=activityDisplayName,result`,
    );

    assert.equal(response.status, 200);
    assert.deepEqual(Object.keys(response.body.value[0]).sort(), [
      'activityDisplayName',
      'id',
      'result',
    ]);
  });

  it('lets Global and Privileged Role Administrators and Global Readers read', async () => {
    for (const role of [
      RoleIds.globalAdministrator,
      RoleIds.privilegedRoleAdministrator,
      RoleIds.globalReader,
    ]) {
      const reader = await elevate().createAdmin(role);
      const response = await elevate().request('GET', `${AUDITS}?$top=1`, { as: reader });
      assert.equal(response.status, 200, role);
      assert.equal(response.body.value.length, 1);
    }
  });

  it('refuses everyone else with 403, whatever they ask', async () => {
    const group = await elevate().createGroup();
    const [event] = await audits(elevate(), `targetResources/any(t: t/id eq '${group.id}')`);
    const plain = await elevate().createUser();
    const userAdmin = await elevate().createAdmin(RoleIds.userAdministrator);
    const groupsAdmin = await elevate().createAdmin(RoleIds.groupsAdministrator);

    for (const caller of [plain, userAdmin, groupsAdmin]) {
      for (const url of [
        AUDITS,
        `${AUDITS}/${event.id}`,
        `${AUDITS}?$filter=${encodeURIComponent('no such filter')}`,
      ]) {
        const response = await elevate().request('GET', url, { as: caller });
        assert.equal(response.status, 403, url);
        assert.equal(response.body.error.code, 'Authorization_RequestDenied');
      }
    }
    const anonymous = await elevate().request('GET', AUDITS, { token: null });
    assert.equal(anonymous.status, 401);
  });

  it('answers 400 for a filter it cannot apply, naming the problem', async () => {
    const cases: [string, RegExp][] = [
      ["userPrincipalName eq 'x'", /userPrincipalName/],
      ["activityDateTime ge 'yesterday'", /activityDateTime/],
      ["targetResources/all(t: t/id eq 'x')", /any/],
      ["targetResources/any(t: t/type eq 'User')", /type/],
      ["category eq 'RoleManagement' and", /\$filter/],
      ["category gt 'RoleManagement'", /gt/],
    ];

    for (const [filter, message] of cases) {
      const response = await elevate().request(
        'GET',
        `${AUDITS}?$filter=${encodeURIComponent(filter)}`,
      );
      assert.equal(response.status, 400, filter);
      assert.equal(response.body.error.code, 'BadRequest');
      assert.match(response.body.error.message, message, filter);
    }
    const top = await elevate().request('GET', `${AUDITS}?$top=0`);
    assert.equal(top.status, 400);
  });

  it('answers 404 for an audit event that does not exist', async () => {
    for (const id of ['0b6f3c2e-8d4a-4f4e-9a57-2f7a3c1d9e10', 'not-an-id']) {
      const response = await elevate().request('GET', `${AUDITS}/${id}`);
      assert.equal(response.status, 404);
      assert.equal(response.body.error.code, 'ResourceNotFound');
    }
  });
});
