import assert from 'node:assert/strict';
import { it } from 'node:test';
import { describeEachDatabase } from '../support/elevate.js';
import {
  assertGraphError,
  assertRefusedWithoutChange,
  auditEventsFor,
  uniqueTag,
} from './helpers.js';

describeEachDatabase('directory groups', (elevate) => {
  const newGroupBody = (name: string) => ({
    displayName: `${name} Admins`,
    mailNickname: name,
    description: 'People who administer things',
    securityEnabled: true,
    mailEnabled: false,
  });

  it('creates a group and reads it back in Graph shape', async () => {
    const name = uniqueTag('grp');

    const created = await elevate().request('POST', '/v1.0/groups', {
      body: { ...newGroupBody(name), isAssignableToRole: true },
    });

    assert.equal(created.status, 201);
    assert.match(created.body['@odata.context'], /#groups\/\$entity$/);
    const read = await elevate().request('GET', `/v1.0/groups/${created.body.id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, {
      '@odata.context': created.body['@odata.context'],
      id: created.body.id,
      displayName: `${name} Admins`,
      mailNickname: name,
      description: 'People who administer things',
      securityEnabled: true,
      mailEnabled: false,
      isAssignableToRole: true,
      groupTypes: [],
      createdDateTime: elevate().clock.now().toISOString(),
    });
  });

  it('updates a group and records the change', async () => {
    const group = await elevate().createGroup({ name: uniqueTag('upd') });

    const patched = await elevate().request('PATCH', `/v1.0/groups/${group.id}`, {
      body: { displayName: 'Tier 3 Office Admins', description: null, mailEnabled: true },
    });

    assert.equal(patched.status, 204);
    const read = await elevate().request('GET', `/v1.0/groups/${group.id}`);
    assert.equal(read.body.displayName, 'Tier 3 Office Admins');
    assert.equal(read.body.description, null);
    assert.equal(read.body.mailEnabled, true);
    const events = await auditEventsFor(elevate(), group.id);
    assert.deepEqual(
      events.map((e) => [e.activity, e.category]),
      [
        ['Add group', 'GroupManagement'],
        ['Update group', 'GroupManagement'],
      ],
    );
  });

  it('deletes a group, which is then not found', async () => {
    const group = await elevate().createGroup({ name: uniqueTag('del') });

    const deleted = await elevate().request('DELETE', `/v1.0/groups/${group.id}`);

    assert.equal(deleted.status, 204);
    assertGraphError(
      await elevate().request('GET', `/v1.0/groups/${group.id}`),
      404,
      'ResourceNotFound',
    );
    const events = await auditEventsFor(elevate(), group.id);
    assert.deepEqual(
      events.map((e) => e.activity),
      ['Add group', 'Delete group'],
    );
  });

  it('keeps isAssignableToRole as it was set at creation', async () => {
    const plain = await elevate().createGroup({ name: uniqueTag('plain') });
    const roleAssignable = await elevate().createGroup({
      name: uniqueTag('ra'),
      roleAssignable: true,
    });

    for (const [group, value] of [
      [plain, true],
      [roleAssignable, false],
    ] as const) {
      await assertRefusedWithoutChange(
        elevate(),
        () =>
          elevate().request('PATCH', `/v1.0/groups/${group.id}`, {
            body: { isAssignableToRole: value, displayName: 'Changed' },
          }),
        400,
        'BadRequest',
      );
      const read = await elevate().request('GET', `/v1.0/groups/${group.id}`);
      assert.equal(read.body.isAssignableToRole, !value);
      assert.equal(read.body.displayName, group.displayName);
    }

    // Restating the value it already has is not a change.
    const same = await elevate().request('PATCH', `/v1.0/groups/${plain.id}`, {
      body: { isAssignableToRole: false },
    });
    assert.equal(same.status, 204);
  });

  it('requires a role-assignable group to be, and stay, security-enabled', async () => {
    const name = uniqueTag('sec');
    await assertRefusedWithoutChange(
      elevate(),
      () =>
        elevate().request('POST', '/v1.0/groups', {
          body: { ...newGroupBody(name), securityEnabled: false, isAssignableToRole: true },
        }),
      400,
      'BadRequest',
    );

    const group = await elevate().createGroup({ name, roleAssignable: true });
    await assertRefusedWithoutChange(
      elevate(),
      () =>
        elevate().request('PATCH', `/v1.0/groups/${group.id}`, {
          body: { securityEnabled: false },
        }),
      400,
      'BadRequest',
    );
  });

  it('refuses properties the server owns, such as id and createdDateTime', async () => {
    for (const extra of [
      { id: '00000000-0000-0000-0000-000000000003' },
      { createdDateTime: '2001-01-01T00:00:00Z' },
      { members: ['00000000-0000-0000-0000-000000000004'] },
      { groupTypes: ['Unified'] },
    ]) {
      await assertRefusedWithoutChange(
        elevate(),
        () =>
          elevate().request('POST', '/v1.0/groups', {
            body: { ...newGroupBody(uniqueTag('mass')), ...extra },
          }),
        400,
        'BadRequest',
      );
    }
  });

  it('refuses malformed bodies, wrong types and over-long text, creating nothing', async () => {
    const valid = newGroupBody(uniqueTag('bad'));
    const bodies: unknown[] = [
      { ...valid, displayName: 'x'.repeat(10_000) },
      { ...valid, description: 'd'.repeat(10_000) },
      { ...valid, mailNickname: 'has spaces' },
      { ...valid, mailNickname: 'n'.repeat(10_000) },
      { ...valid, securityEnabled: 'true' },
      { ...valid, isAssignableToRole: 1 },
      { ...valid, displayName: null },
      { displayName: 'Only a name' },
      [valid],
    ];

    for (const body of bodies) {
      await assertRefusedWithoutChange(
        elevate(),
        () => elevate().request('POST', '/v1.0/groups', { body }),
        400,
        'BadRequest',
      );
    }
    for (const text of ['{"displayName": ', '"just text"', 'null']) {
      await assertRefusedWithoutChange(
        elevate(),
        () =>
          elevate().request('POST', '/v1.0/groups', {
            body: text,
            headers: { 'content-type': 'application/json' },
          }),
        400,
        'BadRequest',
      );
    }
  });

  it('refuses a bad update and leaves the group as it was', async () => {
    const group = await elevate().createGroup({ name: uniqueTag('keep') });
    const before = await elevate().request('GET', `/v1.0/groups/${group.id}`);

    for (const body of [
      { displayName: 'z'.repeat(10_000) },
      { displayName: '' },
      { id: '00000000-0000-0000-0000-000000000005' },
      { mailNickname: 'bad nickname!' },
      { mailEnabled: 'no' },
    ]) {
      await assertRefusedWithoutChange(
        elevate(),
        () => elevate().request('PATCH', `/v1.0/groups/${group.id}`, { body }),
        400,
        'BadRequest',
      );
    }

    const after = await elevate().request('GET', `/v1.0/groups/${group.id}`);
    assert.deepEqual(after.body, before.body);
  });

  it('answers 404 in Graph shape for unknown groups on every verb', async () => {
    for (const id of ['0b0b0b0b-0000-4000-8000-000000000000', 'not-a-guid']) {
      assertGraphError(
        await elevate().request('GET', `/v1.0/groups/${id}`),
        404,
        'ResourceNotFound',
      );
      await assertRefusedWithoutChange(
        elevate(),
        () => elevate().request('PATCH', `/v1.0/groups/${id}`, { body: { displayName: 'Ghost' } }),
        404,
        'ResourceNotFound',
      );
      await assertRefusedWithoutChange(
        elevate(),
        () => elevate().request('DELETE', `/v1.0/groups/${id}`),
        404,
        'ResourceNotFound',
      );
    }
  });
});
